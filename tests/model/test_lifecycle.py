from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zhenshen_core import GuardError, IllegalTransitionError, Lifecycle, load_case
from zhenshen_core.model import Case, CaseStatus, Transition
from zhenshen_core.model.case import SHANGHAI

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)


def _case() -> Case:
    return load_case(
        {
            "external_id": "GD-1",
            "channel": "hotline_12345",
            "received_at": T0.isoformat(),
            "title": "准入不准营",
            "requester": {"phone": "13800001234"},
        }
    )


def _opinion(at: datetime) -> dict[str, Any]:
    return {
        "opinion": {
            "result": "supported",
            "reasons": "符合政策规定",
            "measures": ["办理许可"],
            "issued_at": at.isoformat(),
        }
    }


def test_happy_path_to_closed_and_replay() -> None:
    lc = Lifecycle()
    case, first = lc.receive(_case(), actor="intake")
    events = [first]
    steps: list[tuple[str, dict[str, Any]]] = [
        ("accept", {}),
        ("start_screening", {}),
        ("schedule_meeting", {"meeting_id": "m1", "scheduled_at": T0.isoformat()}),
        ("hold_meeting", {"meeting_id": "m1", "held_at": T0.isoformat(), "attendees": ["a"]}),
        ("issue_opinion", _opinion(T0)),
        ("submit_for_confirmation", {}),
        (
            "confirm",
            {
                "meeting": {
                    "id": "lg1",
                    "kind": "leading_group",
                    "scheduled_at": T0.isoformat(),
                    "held_at": T0.isoformat(),
                }
            },
        ),
        ("assign_task", {"task": {"id": "t1", "department": "gxq.scjgj", "description": "办证"}}),
        ("start_execution", {}),
        ("complete_task", {"task_id": "t1", "completed_at": T0.isoformat()}),
        ("finish_execution", {}),
        ("record_feedback", {"feedback": {"at": T0.isoformat(), "satisfaction": "satisfied"}}),
        ("close", {}),
        ("generalise", {"generalisation_id": "g1"}),
    ]
    for i, (event, payload) in enumerate(steps, start=1):
        case, record = lc.fire(
            case, event, actor="staff", at=T0 + timedelta(hours=i), payload=payload
        )
        events.append(record)
    assert case.status is CaseStatus.CLOSED
    assert case.version == len(events)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert lc.replay(events) == case
    assert case.requester is not None and case.requester.phone == "13800001234"


def test_illegal_transition_names_state_event_and_allowed_events() -> None:
    case, _ = Lifecycle().receive(_case(), actor="intake")
    with pytest.raises(IllegalTransitionError) as info:
        Lifecycle().fire(case, "confirm", actor="x", at=T0)
    message = str(info.value)
    assert "'confirm'" in message and "'received'" in message and "accept" in message


def test_terminal_states_accept_nothing_but_generalise_on_closed() -> None:
    # and erasure of personal data, which a finished case is the usual subject of (issue 16)
    lc = Lifecycle()
    erase = "personal_data_erased"
    assert lc.allowed_events(CaseStatus.WITHDRAWN) == [erase]
    assert lc.allowed_events(CaseStatus.NOT_ACCEPTED) == [erase]
    assert lc.allowed_events(CaseStatus.MERGED) == [erase]
    assert lc.allowed_events(CaseStatus.CLOSED) == ["generalise", erase]


TO_MEETING_HELD: list[tuple[str, dict[str, Any]]] = [
    ("accept", {}),
    ("start_screening", {}),
    ("schedule_meeting", {"meeting_id": "m1", "scheduled_at": T0.isoformat()}),
    ("hold_meeting", {"meeting_id": "m1", "held_at": T0.isoformat()}),
]


def _advance(steps: list[tuple[str, dict[str, Any]]]) -> Case:
    lc = Lifecycle()
    case, _ = lc.receive(_case(), actor="i")
    for event, payload in steps:
        case, _ = lc.fire(case, event, actor="s", at=T0, payload=payload)
    return case


def test_issue_opinion_requires_result_and_reasons() -> None:
    lc = Lifecycle()
    case = _advance(TO_MEETING_HELD)
    bad = {"opinion": {"result": "supported", "reasons": "", "issued_at": T0.isoformat()}}
    with pytest.raises(GuardError, match="reasons"):
        lc.fire(case, "issue_opinion", actor="s", at=T0, payload=bad)
    with pytest.raises(GuardError, match="result"):
        lc.fire(
            case,
            "issue_opinion",
            actor="s",
            at=T0,
            payload={"opinion": {"reasons": "x", "issued_at": T0.isoformat()}},
        )


def test_confirm_requires_a_held_leading_group_meeting() -> None:
    lc = Lifecycle()
    case = _advance(
        [*TO_MEETING_HELD, ("issue_opinion", _opinion(T0)), ("submit_for_confirmation", {})]
    )
    joint = {
        "meeting": {
            "id": "x",
            "kind": "joint_review",
            "scheduled_at": T0.isoformat(),
            "held_at": T0.isoformat(),
        }
    }
    with pytest.raises(GuardError, match="leading-group"):
        lc.fire(case, "confirm", actor="s", at=T0, payload=joint)
    not_held = {"meeting": {"id": "x", "kind": "leading_group", "scheduled_at": T0.isoformat()}}
    with pytest.raises(GuardError, match="not been held"):
        lc.fire(case, "confirm", actor="s", at=T0, payload=not_held)


def test_fire_does_not_modify_the_input_case() -> None:
    lc = Lifecycle()
    case, _ = lc.receive(_case(), actor="i")
    before = case.model_copy(deep=True)
    lc.fire(case, "note", actor="s", at=T0, payload={"text": "hello"})
    assert case == before


def test_extend_adds_an_event_without_touching_the_default_table() -> None:
    extra = Transition("hotline_callback", frozenset({CaseStatus.RECEIVED}), None)
    custom = Lifecycle().extend(extra)
    assert "hotline_callback" in custom.allowed_events(CaseStatus.RECEIVED)
    assert "hotline_callback" not in Lifecycle().allowed_events(CaseStatus.RECEIVED)


# --- the replay property: any legal walk through the table replays to the same case ----------


def _payloads(case: Case, at: datetime, n: int) -> dict[str, dict[str, Any]]:
    """A valid payload for each event that needs one, given the case's current contents."""
    iso = at.isoformat()
    open_meetings = [m.id for m in case.meetings if m.held_at is None]
    open_tasks = [t.id for t in case.tasks if t.status.value == "open"]
    out: dict[str, dict[str, Any]] = {
        "reject": {"reason": "属于诉讼程序"},
        "route": {"departments": [{"id": "gxq.swj", "role": "lead"}]},
        "request_info": {"reason": "缺少权属证明"},
        "send_back": {"reason": "理由不充分"},
        "merge": {"into": "ZS0000"},
        "schedule_meeting": {"meeting_id": f"m{n}", "scheduled_at": iso},
        "issue_opinion": _opinion(at),
        "confirm": {
            "meeting": {
                "id": f"lg{n}",
                "kind": "leading_group",
                "scheduled_at": iso,
                "held_at": iso,
            }
        },
        "assign_task": {"task": {"id": f"t{n}", "department": "gxq.czj", "description": "兑现"}},
        "generalise": {"generalisation_id": f"g{n}"},
        "decide": {"decision": {"severity": "S2"}, "severity": "S2", "tags": [f"tag{n % 3}"]},
        "clock_update": {
            "clock": {
                "name": "resolve",
                "period": "30 working days",
                "started_at": iso,
                "due_at": iso,
            }
        },
        "supervise": {"record": {"at": iso, "kind": "reminder"}},
        "note": {"text": f"note {n}"},
        "return_case": {"record": {"at": iso, "from_department": "gxq.swj"}},
        "update_facts": {"facts": {f"k{n % 4}": n}},
        "assign_departments": {"departments": [{"id": "gxq.scjgj", "role": "lead"}]},
    }
    if open_meetings:
        out["hold_meeting"] = {"meeting_id": open_meetings[0], "held_at": iso}
    if open_tasks:
        out["complete_task"] = {"task_id": open_tasks[0], "completed_at": iso}
    satisfaction = ["satisfied", "dissatisfied", "very_satisfied"][n % 3]
    out["record_feedback"] = {"feedback": {"at": iso, "satisfaction": satisfaction}}
    return out


@given(st.data())
def test_replaying_events_rebuilds_the_case_exactly(data: st.DataObject) -> None:
    lc = Lifecycle()
    case, first = lc.receive(_case(), actor="intake")
    events = [first]
    for n in range(data.draw(st.integers(0, 40), label="steps")):
        at = T0 + timedelta(minutes=10 * n)
        payloads = _payloads(case, at, n)
        candidates = []
        for event in lc.allowed_events(case.status):
            try:
                lc.fire(case, event, actor="p", at=at, payload=payloads.get(event, {}))
            except GuardError:
                continue
            candidates.append(event)
        if not candidates:
            break
        event = data.draw(st.sampled_from(candidates), label=f"event{n}")
        case, record = lc.fire(case, event, actor="p", at=at, payload=payloads.get(event, {}))
        events.append(record)
        assert record.seq == case.version == len(events)
    assert lc.replay(events) == case
    assert lc.replay(events).model_dump_json() == case.model_dump_json()
