"""Who a desk signs as comes from the district (its settings, or its pack's plugin), never from
the library: the core names no district."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from zhenshen_core.cli.main import build_cli
from zhenshen_core.desk import GENERIC, Desk, DeskSettings
from zhenshen_core.errors import DuplicateNameError
from zhenshen_core.model.case import SHANGHAI
from zhenshen_core.plugins import (
    DeskDefaults,
    PluginConfig,
    PluginHost,
    RulePackSource,
    hookimpl,
)
from zhenshen_core.rules import ResolvedPack
from zhenshen_core.storage import MemoryStore

SRC = Path(__file__).resolve().parents[2] / "src" / "zhenshen_core"
WHEN = datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)


class DistrictPack:
    """A district plugin shipping the reference pack's folder under its id, with its heading."""

    def __init__(self, path: Path, *, default: bool = False, org: str = "武侯区营商办") -> None:
        self.path, self.default, self.org = path, default, org

    @hookimpl
    def zhenshen_rule_packs(self) -> list[RulePackSource]:
        return [
            RulePackSource(
                "cn.chengdu.gaoxin",
                self.path,
                default=self.default,
                desk=DeskDefaults(org=self.org, letter_prefix="武营审"),
            )
        ]


def _letter_no(desk: Desk, work_order: dict[str, Any]) -> str:
    case = desk.receive(work_order)
    desk.screen(case.id, at=WHEN)
    desk.schedule_meeting(case.id, WHEN, at=WHEN)
    desk.hold_meeting(case.id, WHEN)
    for expert in case.experts:
        desk.record_expert_advice(case.id, expert.kind, "同意", at=WHEN)
    done = desk.issue_opinion(case.id, result="supported", reasons="理由", at=WHEN)
    assert done.opinion is not None
    return done.opinion.letter_no


def test_the_core_names_no_district() -> None:
    for path in SRC.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for name in ("成都高新区", "成高甄审"):
            assert name not in text, f"{path.relative_to(SRC)} names {name}"


def test_a_desk_without_its_packs_plugin_signs_as_the_generic_office(
    reference_pack: ResolvedPack, work_order: dict[str, Any]
) -> None:
    desk = Desk(MemoryStore(), pack=reference_pack, now=lambda: WHEN)
    assert (desk.settings.org, desk.settings.letter_prefix) == (GENERIC.org, GENERIC.letter_prefix)
    assert _letter_no(desk, work_order) == "甄审〔2026〕1号"
    letter = desk.render_letter(next(iter(desk.store.query())).id).decode()
    assert letter.startswith(GENERIC.org)


def test_the_packs_plugin_declares_the_heading(
    reference_pack: ResolvedPack, work_order: dict[str, Any]
) -> None:
    host = PluginHost(PluginConfig(autoload=False))
    host.register(DistrictPack(Path(reference_pack.path)), name="district")
    desk = Desk(MemoryStore(), pack=reference_pack, host=host, now=lambda: WHEN)
    assert desk.settings.org == "武侯区营商办"
    assert _letter_no(desk, work_order) == "武营审〔2026〕1号"


def test_the_desks_settings_win_over_the_plugin(
    reference_pack: ResolvedPack, work_order: dict[str, Any]
) -> None:
    host = PluginHost(PluginConfig(autoload=False))
    host.register(DistrictPack(Path(reference_pack.path)), name="district")
    settings = DeskSettings(letter_prefix="自定")
    desk = Desk(MemoryStore(), pack=reference_pack, host=host, settings=settings)
    assert (desk.settings.org, desk.settings.letter_prefix) == ("武侯区营商办", "自定")
    assert _letter_no(desk, work_order) == "自定〔2026〕1号"


def test_the_default_pack_is_the_one_a_plugin_marks(tmp_path: Path) -> None:
    host = PluginHost(PluginConfig(autoload=False))
    assert host.default_pack() is None
    host.register(DistrictPack(tmp_path, default=True), name="district")
    assert host.default_pack() == "cn.chengdu.gaoxin"


def test_two_default_packs_are_an_error_naming_both_plugins(tmp_path: Path) -> None:
    class Other:
        @hookimpl
        def zhenshen_rule_packs(self) -> list[RulePackSource]:
            return [RulePackSource("cn.other", tmp_path, default=True)]

    host = PluginHost(PluginConfig(autoload=False))
    host.register(DistrictPack(tmp_path, default=True), name="district")
    host.register(Other(), name="other")
    with pytest.raises(DuplicateNameError) as raised:
        host.default_pack()
    assert "'district'" in str(raised.value) and "'other'" in str(raised.value)


def test_letter_without_a_pack_or_a_default_is_a_load_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ZHENSHEN_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.delenv("ZHENSHEN_PACK", raising=False)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(build_cli(), ["letter", "X-1", "--store", "memory://"])
    assert result.exit_code == 3
    assert "give --pack" in result.stderr and "Traceback" not in result.output
