from __future__ import annotations

import textwrap
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from zhenshen_core import DuplicateNameError, PluginLoadError, UnknownNameError, load_case
from zhenshen_core.model.events import CaseEvent
from zhenshen_core.plugins import (
    IntakeChannel,
    Notification,
    PluginConfig,
    PluginHost,
    StorageBackend,
    hookimpl,
)
from zhenshen_core.plugins.host import BUILTIN_PLUGINS


@pytest.fixture
def host() -> Iterator[PluginHost]:
    yield PluginHost(PluginConfig(autoload=False))


def test_builtins_register_backends_channels_and_calendar(host: PluginHost) -> None:
    assert {"memory", "sqlite"} <= set(host.storage_backends())
    assert {"json", "jsonl", "csv"} <= set(host.intake_channels())
    assert "cn" in host.calendars()
    names = {p.name for p in host.plugins()}
    assert set(BUILTIN_PLUGINS) <= names


def test_unknown_names_list_the_known_ones(host: PluginHost) -> None:
    with pytest.raises(UnknownNameError) as info:
        host.intake_channel("fax")
    assert "fax" in str(info.value) and "jsonl" in str(info.value)
    with pytest.raises(UnknownNameError, match=r"choose one of: .*memory.*sqlite"):
        host.storage_backend("mongodb://x")


class _Duplicate:
    @hookimpl
    def zhenshen_intake_channels(self) -> list[IntakeChannel]:
        return [IntakeChannel("jsonl", "a second jsonl", lambda s: iter(()))]


def test_duplicate_names_are_refused_naming_both_plugins(host: PluginHost) -> None:
    host.register(_Duplicate(), name="district-intake")
    with pytest.raises(DuplicateNameError) as info:
        host.intake_channels()
    message = str(info.value)
    assert "zhenshen_core.builtin.intake" in message and "district-intake" in message


def test_block_a_builtin_with_no_name() -> None:
    host = PluginHost(PluginConfig(autoload=False, blocked=frozenset({"intake"})))
    assert "jsonl" not in host.intake_channels()
    assert "sqlite" in host.storage_backends()


class _Exploding:
    @hookimpl
    def zhenshen_case_received(self, case: object, event: object) -> None:
        raise RuntimeError("SMS gateway down")


class _Recording:
    def __init__(self) -> None:
        self.seen: list[str] = []

    @hookimpl
    def zhenshen_case_received(self, case: object, event: object) -> None:
        self.seen.append("received")


def test_a_failing_notification_is_reported_and_others_still_run(host: PluginHost) -> None:
    recording = _Recording()
    host.register(_Exploding(), name="sms")
    host.register(recording, name="audit")
    case = load_case({"received_at": "2026-01-05T09:00:00", "title": "t"})
    event = CaseEvent(
        case_id=case.id,
        seq=1,
        at=datetime(2026, 1, 5),
        actor="a",
        type="receive",
        from_status=None,
        to_status="received",
    )
    failures = host.notify(Notification("case_received", case), case=case, event=event)
    assert recording.seen == ["received"]
    assert [(f.plugin, "SMS gateway down" in f.error) for f in failures] == [("sms", True)]


def test_local_plugin_file_is_loaded(tmp_path: Path) -> None:
    local = tmp_path / "zhenshen_local.py"
    local.write_text(
        textwrap.dedent("""
        from zhenshen_core.plugins import hookimpl, StorageBackend
        from zhenshen_core.storage import MemoryStore

        @hookimpl
        def zhenshen_storage_backends():
            return [StorageBackend("district", "district test store", lambda url: MemoryStore())]
    """)
    )
    host = PluginHost(PluginConfig(autoload=False, local_file=local))
    assert "district" in host.storage_backends()


def test_a_broken_local_plugin_names_itself(tmp_path: Path) -> None:
    local = tmp_path / "zhenshen_local.py"
    local.write_text("import does_not_exist_anywhere\n")
    with pytest.raises(PluginLoadError, match="zhenshen_local"):
        PluginHost(PluginConfig(autoload=False, local_file=local))


def test_autoload_env_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    config = PluginConfig.from_env(environ={"ZHENSHEN_DISABLE_PLUGIN_AUTOLOAD": "1"})
    assert config.autoload is False
    assert PluginConfig.from_env(environ={}).autoload is True
    assert PluginConfig.from_env(no_plugins=True, environ={}).autoload is False
    parsed = PluginConfig.from_env(plugin_args=["no:postgres", "my.plugin"], environ={})
    assert parsed.blocked == frozenset({"postgres"}) and parsed.explicit == ("my.plugin",)


def test_explicit_plugin_module_is_registered() -> None:
    host = PluginHost(PluginConfig(autoload=False, explicit=("tests_plugin_example",)), load=False)
    with pytest.raises(PluginLoadError, match="tests_plugin_example"):
        host.load()


def test_storage_backend_record_is_typed() -> None:
    record = StorageBackend("x", "d", lambda url: None)  # type: ignore[arg-type,return-value]
    assert record.name == "x"


def test_explicit_plugin_already_loaded_is_not_registered_twice() -> None:
    import zhenshen_core.builtin.intake as intake_module

    host = PluginHost(PluginConfig(autoload=False))
    assert host.register(intake_module, name="again") == "zhenshen_core.builtin.intake"
    assert list(host.intake_channels()) == ["json", "jsonl", "csv"]
