"""Issue 15 item 2: events a person may request, and who requests them.

On the old code ``zhenshen cases transition`` fired any lifecycle event with any payload and any
``--actor``: a ``decide`` set a case decided S2 to S4 under the actor "领导小组组长", and a
``clock_update`` moved a deadline to 2030 and cleared its reminders.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from zhenshen_core import PERSON_EVENTS, DeskOnlyEventError, is_person_event
from zhenshen_core.cli.main import build_cli
from zhenshen_core.desk import Desk
from zhenshen_core.errors import ConcurrencyError, IllegalTransitionError
from zhenshen_core.model import DEFAULT_TRANSITIONS, DESK_EVENTS, CaseStatus, Lifecycle
from zhenshen_core.storage import MemoryStore, SQLiteStore

from .test_sweep import NOW, fill


def test_the_event_table_splits_into_person_and_desk_events() -> None:
    every = {t.event for t in DEFAULT_TRANSITIONS}
    assert PERSON_EVENTS | (DESK_EVENTS - {"receive"}) == every
    assert not PERSON_EVENTS & DESK_EVENTS
    assert {"decide", "clock_update", "supervise", "update_facts"} <= DESK_EVENTS
    assert "personal_data_erased" in DESK_EVENTS  # only erasure itself destroys the keys
    for event in ("accept", "reject", "return_case", "record_feedback", "withdraw", "note"):
        assert is_person_event(event)
    assert not is_person_event("decide") and not is_person_event("nope")


@pytest.mark.parametrize("event", sorted(DESK_EVENTS))
def test_desk_transition_refuses_a_desk_event_naming_the_allowed_ones(event: str) -> None:
    store = MemoryStore()
    (case_id,) = fill(store, 1)
    with pytest.raises(DeskOnlyEventError) as info:
        Desk(store).transition(case_id, event, {}, actor="wang")
    assert "accept" in str(info.value) and "withdraw" in str(info.value)
    assert store.get(case_id).version == 4, "nothing written"


def test_a_refused_request_names_only_what_a_person_may_request_now() -> None:
    store = MemoryStore()
    (case_id,) = fill(store, 1)
    case = store.get(case_id)
    with pytest.raises(IllegalTransitionError) as info:
        Desk(store).transition(case_id, "record_feedback", {}, actor="wang")
    allowed = info.value.allowed
    assert allowed == Lifecycle().person_events_in(case.status) and "withdraw" in allowed
    assert not set(allowed) & DESK_EVENTS  # no decide, clock_update, supervise …
    assert store.get(case_id).version == case.version, "nothing written"


def test_desk_transition_stops_clocks_ignores_a_payload_actor_and_checks_the_version() -> None:
    store = MemoryStore()
    (case_id,) = fill(store, 1)
    desk = Desk(store, now=lambda: NOW)
    with pytest.raises(ConcurrencyError):
        desk.transition(case_id, "accept", {}, actor="wang", expected_version=3)
    case = desk.transition(
        case_id, "withdraw", {"reason": "已解决", "actor": "领导小组组长"}, actor="wang",
        expected_version=4,
    )  # fmt: skip
    assert case.status is CaseStatus.WITHDRAWN
    assert all(not c.running for c in case.clocks.values())
    events = store.events(case_id)
    assert {e.actor for e in events[4:]} == {"wang"}
    assert [e.type for e in events[4:]] == ["clock_update"] * 3 + ["withdraw"]
    assert desk.sweep(NOW + timedelta(days=60)).clocks == 0


def test_desk_transition_starts_and_stops_a_task_clock() -> None:
    store = MemoryStore()
    (case_id,) = fill(store, 1)
    case = store.get(case_id)
    # bring the case to execution (the desk's steps would; here the lifecycle directly)
    from zhenshen_core.model import Lifecycle

    lc, at = Lifecycle(), NOW - timedelta(days=1)
    steps = [
        ("accept", {}),
        ("start_screening", {}),
        ("schedule_meeting", {"meeting_id": "M1", "scheduled_at": at.isoformat()}),
        ("hold_meeting", {"meeting_id": "M1", "held_at": at.isoformat()}),
        (
            "issue_opinion",
            {"opinion": {"result": "supported", "reasons": "依法", "issued_at": at.isoformat()}},
        ),
        ("submit_for_confirmation", {}),
        (
            "confirm",
            {
                "meeting": {
                    "id": "LG1",
                    "kind": "leading_group",
                    "scheduled_at": at.isoformat(),
                    "held_at": at.isoformat(),
                }
            },
        ),
    ]
    current, events = lc.fire_all(case, [(e, p, ()) for e, p in steps], actor="t", at=at)
    store.save(current, events, expected_version=case.version)
    desk = Desk(store, now=lambda: NOW)
    bad = {"task": {"id": "T9"}}
    with pytest.raises(Exception, match="department, description and period"):
        desk.transition(case_id, "assign_task", bad, actor="wang")
    task = {"department": "gxq.jsj", "description": "出具说明", "period": "5 working days"}
    case = desk.transition(case_id, "assign_task", task, actor="wang")
    assert case.tasks[0].id == "T1" and case.clocks["task:T1"].started_at == NOW
    assert case.clocks["task:T1"].running and case.clocks["opinion"].running
    case = desk.transition(case_id, "start_execution", {}, actor="wang")
    done = {"task_id": "T1", "completed_at": NOW.isoformat()}
    case = desk.transition(case_id, "complete_task", done, actor="dept")
    assert not case.clocks["task:T1"].running, "a finished measure's clock stops with it"
    assert case.clocks["opinion"].running


def _cli(monkeypatch: pytest.MonkeyPatch, *args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ZHENSHEN_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.delenv("ZHENSHEN_ACTOR", raising=False)
    return CliRunner(env=env).invoke(build_cli(), list(args), catch_exceptions=False)


@pytest.fixture
def stored(tmp_path: Path) -> tuple[str, str]:
    store = SQLiteStore(tmp_path / "desk.db")
    (case_id,) = fill(store, 1)
    store.close()
    return f"sqlite:///{tmp_path / 'desk.db'}", case_id


@pytest.mark.parametrize(
    ("event", "payload"),
    [
        ("decide", {"decision": {}, "severity": "S4"}),
        (
            "clock_update",
            {
                "clock": {
                    "name": "resolve",
                    "period": "1 working days",
                    "started_at": "2024-03-01T09:00:00+08:00",
                    "due_at": "2030-01-01T00:00:00+08:00",
                }
            },
        ),
        ("supervise", {"record": {"at": "2024-03-01T09:00:00+08:00", "kind": "notice"}}),
        ("update_facts", {"facts": {"amount_wan": 1}}),
    ],
)
def test_the_cli_refuses_desk_events(
    monkeypatch: pytest.MonkeyPatch, stored: tuple[str, str], event: str, payload: object
) -> None:
    url, case_id = stored
    result = _cli(
        monkeypatch, "cases", "transition", case_id, event, "--data", json.dumps(payload),
        "--store", url,
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "accept" in result.stderr and "Traceback" not in result.output
    with SQLiteStore(url.removeprefix("sqlite:///")) as store:
        assert store.get(case_id).version == 4, "nothing written"


def test_the_cli_refuses_an_actor_option_and_records_who_runs_it(
    monkeypatch: pytest.MonkeyPatch, stored: tuple[str, str], tmp_path: Path
) -> None:
    url, case_id = stored
    refused = _cli(
        monkeypatch, "cases", "transition", case_id, "note", "--data", '{"text": "x"}',
        "--actor", "领导小组组长", "--store", url,
    )  # fmt: skip
    assert refused.exit_code == 2 and "--actor" in refused.stderr
    import getpass

    base = ["cases", "transition", case_id, "note", "--store", url, "--format", "json"]
    payload = '{"text": "催办", "actor": "领导小组组长"}'
    by_os = _cli(monkeypatch, *base, "--data", payload)
    assert by_os.exit_code == 0, by_os.output
    assert json.loads(by_os.stdout)["actor"] == getpass.getuser()
    by_env = _cli(monkeypatch, *base, "--data", payload, env={"ZHENSHEN_ACTOR": "office:li"})
    assert json.loads(by_env.stdout)["actor"] == "office:li"
    config = tmp_path / "desk.toml"
    config.write_text('actor = "office:wang"\n', encoding="utf-8")
    by_config = _cli(monkeypatch, "--config", str(config), *base, "--data", payload)
    assert json.loads(by_config.stdout)["actor"] == "office:wang"
    # a zhenshen.toml merely found in the working directory cannot choose who acts
    monkeypatch.chdir(tmp_path)
    (tmp_path / "zhenshen.toml").write_text('actor = "领导小组组长"\n', encoding="utf-8")
    found = _cli(monkeypatch, *base, "--data", payload)
    assert json.loads(found.stdout)["actor"] == getpass.getuser()


def test_a_return_through_the_cli_re_runs_the_configured_pack(
    monkeypatch: pytest.MonkeyPatch, stored: tuple[str, str]
) -> None:
    from .conftest import REFERENCE_PACK

    url, case_id = stored
    record = {"at": NOW.isoformat(), "from_department": "gxq.jsj", "reason": "非本部门职责"}
    result = _cli(
        monkeypatch, "cases", "transition", case_id, "return_case", "--data",
        json.dumps({"record": record}), "--store", url, "--at", NOW.isoformat(),
        env={"ZHENSHEN_PACK": str(REFERENCE_PACK)},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    with SQLiteStore(url.removeprefix("sqlite:///")) as store:
        kinds = [e.type for e in store.events(case_id)[4:]]
    assert kinds[0] == "return_case" and "decide" in kinds
