"""What a person may ask of a case from outside: ``Desk.transition``.

The CLI (``zhenshen cases transition``), an HTTP API or a message consumer turn a request into
one call here, and nothing else: only events a person may request
(:func:`~zhenshen_core.model.lifecycle.is_person_event`: accept, return, feedback, withdraw …)
are taken, never those only the desk records (``decide``, ``clock_update``, ``supervise``,
``update_facts``), which the rules, the clocks and the sweep write. The actor is the one the
caller authenticated, passed as an argument; an ``actor`` key in the payload is ignored. The
event goes through the desk's own steps: the clocks it starts, pauses or stops, a task's clock,
the outbox notices, and for a 退单 the rules decided again.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from zhenshen_core.errors import (
    ConcurrencyError,
    DeskOnlyEventError,
    GuardError,
    IllegalTransitionError,
)
from zhenshen_core.model.case import SHANGHAI, Case
from zhenshen_core.model.lifecycle import is_person_event

if TYPE_CHECKING:
    from zhenshen_core.desk.facade import Desk

IGNORED_KEYS = frozenset({"actor"})
"""Payload keys a request may carry but the desk never takes from it (who acts is the caller's
authenticated actor)."""


def transition(
    desk: Desk,
    case_id: str,
    event: str,
    payload: Mapping[str, Any] | None,
    *,
    actor: str,
    expected_version: int | None = None,
    at: datetime | None = None,
) -> Case:
    """See :meth:`Desk.transition <zhenshen_core.desk.Desk.transition>`."""
    if not is_person_event(event, desk.lifecycle):
        raise DeskOnlyEventError(event, desk.lifecycle.person_events())
    if not actor or not actor.strip():
        raise GuardError("-", event, "no actor: a request needs the authenticated actor")
    data = {k: v for k, v in (payload or {}).items() if k not in IGNORED_KEYS}
    case = desk.store.get(case_id)
    if expected_version is not None and case.version != expected_version:
        raise ConcurrencyError(case.id, expected_version, case.version)
    allowed = desk.lifecycle.person_events_in(case.status)
    if event not in allowed:  # named here: the lifecycle's own refusal lists desk events too
        raise IllegalTransitionError(case.status.value, event, allowed)
    when = at or desk.now()
    if event == "assign_task":
        return _assign_task(desk, case, data, actor=actor, at=when)
    case = desk._commit(case, [(event, data)], actor=actor, at=when)
    if event == "return_case":
        if desk.engine is not None:
            case = desk.decide(case.id)
        return desk._cross_case(case, "return", when.astimezone(SHANGHAI).date())
    return case


def _assign_task(
    desk: Desk, case: Case, data: Mapping[str, Any], *, actor: str, at: datetime
) -> Case:
    """A measure for one department has its own clock, counted on the desk's calendar: the
    request names the department, the description and the period (``5 working days``), as
    :meth:`Desk.assign_task` takes them; the desk computes the due day."""
    unknown = sorted(set(data) - {"department", "description", "period"})
    missing = [k for k in ("department", "description", "period") if not data.get(k)]
    if unknown or missing:
        raise GuardError(
            case.status.value,
            "assign_task",
            "invalid payload: assign_task takes department, description and period"
            + (f"; missing {', '.join(missing)}" if missing else "")
            + (f"; unknown {', '.join(unknown)}" if unknown else ""),
        )
    return desk.assign_task(
        case.id,
        str(data["department"]),
        str(data["description"]),
        str(data["period"]),
        at=at,
        actor=actor,
    )
