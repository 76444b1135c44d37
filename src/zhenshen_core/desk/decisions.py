"""A decision as the desk records it: the ``decide`` event, the clocks it starts, what is compared.

The rules engine answers with a :class:`~zhenshen_core.rules.Decision`; this module turns it
into the case's departments and experts, the ``decide`` event's payload and the clocks the
decision names, and says when two decisions decide the same (:func:`same_outcome`), so that
re-deciding a case after a pack change records only what changed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from zhenshen_core.deadlines import parse_period
from zhenshen_core.deadlines.clocks import change_period
from zhenshen_core.desk.clocks import DeskClocks, MovedClock
from zhenshen_core.model.case import Case, DepartmentAssignment, ExpertRequest, PackRef
from zhenshen_core.model.clock import Clock
from zhenshen_core.model.enums import DepartmentRole
from zhenshen_core.model.events import CaseEvent


@dataclass(frozen=True)
class Prepared:
    """A new case decided in memory, with every event its first write stores."""

    case: Case
    events: list[CaseEvent]
    decision: dict[str, Any] | None


_PROVENANCE = frozenset({"case_id", "pack", "fired"})
NOT_INPUTS = frozenset({"decide", "clock_update", "supervise", "note"})
"""Events whose effects the rules never read, or must not read back (their own decisions)."""


def same_outcome(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """Whether two decisions decide the same, whichever pack version and rules got there."""
    keys = (set(old) | set(new)) - _PROVENANCE
    return all(old.get(k) == new.get(k) for k in keys)


def decision_json(decision: Any) -> dict[str, Any]:
    """A decision as the JSON mapping events store (an engine's ``Decision``, or a mapping)."""
    if isinstance(decision, Mapping):
        return dict(decision)
    dumped: dict[str, Any] = decision.model_dump(mode="json")
    return dumped


def decision_events(
    clocks: DeskClocks,
    case: Case,
    decision: Mapping[str, Any],
    *,
    actor: str,
    at: datetime,
    in_place: bool = False,
) -> tuple[Case, list[CaseEvent], list[MovedClock]]:
    """The ``decide`` event and the clock changes it brings, on a copy; nothing is saved.

    Clocks the decision names start at the case's receipt, except those a lifecycle event
    starts (``DeskSettings.clock_starts``); a running clock whose period changed is counted
    again from its start; a clock the decision no longer names keeps running (a deadline
    already given to the enterprise does not vanish with a rule).
    """
    payload: dict[str, Any] = {
        "decision": dict(decision),
        "severity": decision.get("severity"),
        "tier": decision.get("tier"),
        "chair": decision.get("chair"),
        "tags": list(decision.get("tags") or []),
        "pack": PackRef(**decision["pack"]).model_dump() if decision.get("pack") else None,
    }
    departments = _departments(decision, case)
    if departments is not None:
        payload["departments"] = [d.model_dump(mode="json") for d in departments]
    experts = _experts(decision)
    if experts:
        payload["experts"] = [e.model_dump(mode="json") for e in experts]
    rule_ids = [f["rule"] for f in decision.get("fired", [])]
    changes: list[tuple[Clock, Clock | None]] = []  # (new, the one it replaces)
    for name, period in (decision.get("deadlines") or {}).items():
        clock = case.clocks.get(name)
        if clock is None:
            if name not in clocks.settings.clock_starts:
                changes.append((clocks.start(name, period, case.received_at), None))
        elif clock.running and clock.period != str(parse_period(period)):
            changes.append((change_period(clocks.calendar, clock, period), clock))
    steps: list[tuple[str, Mapping[str, Any], Sequence[str]]] = [
        ("decide", payload, rule_ids),
        *(("clock_update", {"clock": new.model_dump(mode="json")}, ()) for new, _ in changes),
    ]
    current, events = clocks.lifecycle.fire_all(
        case, steps, actor=actor, at=at, in_place=in_place
    )
    moved = [
        MovedClock(new, old.due_at, event)
        for (new, old), event in zip(changes, events[1:], strict=True)
        if old is not None and new.due_at != old.due_at
    ]
    return current, events, moved


def _departments(data: Mapping[str, Any], case: Case) -> list[DepartmentAssignment] | None:
    """The decision's lead and co departments; None keeps the case's own list."""
    depts = data.get("departments") or {}
    lead, co = depts.get("lead"), list(depts.get("co") or [])
    if not lead and not co:
        return None
    out = [DepartmentAssignment(id=lead, role=DepartmentRole.LEAD)] if lead else []
    if not lead and case.lead_department and case.lead_department not in co:
        out.append(DepartmentAssignment(id=case.lead_department, role=DepartmentRole.LEAD))
    out += [
        DepartmentAssignment(id=d, role=DepartmentRole.CO)
        for d in co
        if d != lead and d != case.lead_department
    ]
    return out


def _experts(data: Mapping[str, Any]) -> list[ExpertRequest]:
    experts = data.get("experts") or {}
    reasons = experts.get("reasons") or {}
    out = [
        ExpertRequest(kind=k, required=True, reason=str(reasons.get(k, "")))
        for k in experts.get("required") or []
    ]
    out += [
        ExpertRequest(kind=k, required=False, reason=str(reasons.get(k, "")))
        for k in experts.get("suggested") or []
    ]
    return out
