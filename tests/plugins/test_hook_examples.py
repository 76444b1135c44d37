"""Every hook's docstring carries an example (datasette's habit), and the example works: it is
run as a plugin module, registered with a host, and the hook is called through the host."""

from __future__ import annotations

import inspect
import re
import types
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from zhenshen_core.model import Lifecycle, load_case
from zhenshen_core.model.case import SHANGHAI
from zhenshen_core.plugins import Notification, PluginConfig, PluginHost, hookspecs

HOOKS = {n: f for n, f in inspect.getmembers(hookspecs, inspect.isfunction) if n[:9] == "zhenshen_"}
FENCE = re.compile(r"```python\n(.*?)```", re.S)


def _example_module(name: str, tmp_path: Path) -> types.ModuleType:
    blocks = FENCE.findall(inspect.cleandoc(HOOKS[name].__doc__ or ""))
    assert len(blocks) == 1, f"{name}: one ```python example in its docstring"
    module = types.ModuleType(f"example_{name}")
    module.__file__ = str(tmp_path / "plugin.py")
    exec(compile(blocks[0], f"<{name} example>", "exec"), module.__dict__)
    return module


def _case() -> Any:
    draft = load_case(
        {
            "external_id": "GD-1",
            "channel": "hotline_12345",
            "received_at": "2026-03-02T09:30:00+08:00",
            "title": "施工许可",
            "enterprise": {"name": "某公司", "uscc": "91510100MA68NDJH6X"},
        }
    )
    return Lifecycle().receive(draft, actor="intake")


@pytest.mark.parametrize("name", sorted(HOOKS))
def test_the_hook_example_runs(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    host = PluginHost(PluginConfig(autoload=False))
    host.register(_example_module(name, tmp_path), name="example")
    case, event = _case()
    registries = {
        "zhenshen_storage_backends": lambda: host.storage_backend("scratch://x").factory("x"),
        "zhenshen_intake_channels": lambda: host.intake_channel("export"),
        "zhenshen_rule_packs": lambda: host.rule_packs()["cn.chengdu.wuhou"].desk,
        "zhenshen_calendars": lambda: host.calendars()["cn-strict"].factory(),
        "zhenshen_renderers": lambda: host.renderer("json").render({"org": "办公室"}),
        "zhenshen_cli_commands": lambda: host.cli_commands()["hello"].commands,
        "zhenshen_rule_actions": lambda: host.rule_actions()["open_ticket"].run(
            case, {"severity": "S2"}
        )
        or capsys.readouterr().out,
        "zhenshen_notifiers": lambda: host.notify(Notification("case_received", case, "receive"))
        == []
        and capsys.readouterr().out,
        "zhenshen_normalise_intake": lambda: host.normalise_intake(
            "export", {"nr": "A-1", "time": "2026-03-02T09:30:00+08:00", "subject": "施工许可"}
        ),
        "zhenshen_enrich_case": lambda: host.enrich(case),
        "zhenshen_engines": lambda: _same_decisions(host),
    }
    at = datetime(2026, 3, 2, 9, 30, tzinfo=SHANGHAI)
    fanned = {
        "zhenshen_case_received": {"case": case, "event": event},
        "zhenshen_case_transitioned": {"case": case, "event": event},
        "zhenshen_decision_made": {
            "case": case,
            "decision": {"severity": "S2", "fired": [{"rule": "r1"}]},
        },
        "zhenshen_deadline_changed": {
            "case": case,
            "event": event,
            "clock": _clock(at),
            "previous_due": at + timedelta(days=1),
            "reason": "extension",
        },
    }
    if name in registries:
        assert registries[name]()
    else:
        kind = name.removeprefix("zhenshen_")
        failures = host.notify(Notification(kind, case, event.type), **fanned[name])
        assert failures == [] and capsys.readouterr().out.strip()


def _same_decisions(host: PluginHost) -> bool:
    from zhenshen_core.rules import load_pack, make_engine

    pack = load_pack(Path(__file__).parents[2] / "examples" / "packs" / "demo")
    case = {"received_at": "2026-03-02T10:00:00+08:00", "domain": "financing"}
    decision = make_engine("reference", pack, host=host).evaluate(case)
    return bool(decision == make_engine("compiled", pack).evaluate(case) and decision.fired)


def _clock(at: datetime) -> Any:
    from zhenshen_core.deadlines import national_calendar
    from zhenshen_core.deadlines.clocks import start_clock

    return start_clock(national_calendar(), "opinion", "2 working days", at)


def test_every_hook_has_its_example_tested() -> None:
    assert len(HOOKS) >= 14
