"""The events a caller may post, and posting one: the single place the service moves a case.

The library says which events a person may request (``Lifecycle.person_events``: never the
rules' decision, clock updates, reminders or enrichers' facts, which the desk records itself)
and moves the case through ``Desk.transition`` (clocks, task clocks, outbox notices, a return
decided again). The service narrows that to what the caller's role may post now: a department
posts only the events a department owns.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from zhenshen_core import Case, Desk
from zhenshen_core.errors import IllegalTransitionError
from zhenshen_server.auth import Principal
from zhenshen_server.roles import DEPARTMENT_EVENTS, Role


def allowed_events(desk: Desk, case: Case, principal: Principal) -> list[str]:
    """The events ``principal`` may post on ``case`` now."""
    now = desk.lifecycle.person_events_in(case.status)
    if principal.role is Role.DEPARTMENT:
        return [e for e in now if e in DEPARTMENT_EVENTS]
    return now


def post_event(
    desk: Desk,
    case: Case,
    principal: Principal,
    event: str,
    payload: Mapping[str, Any],
    expected_version: int,
) -> Case:
    """Fire ``event`` for ``principal`` (recorded as its actor) in one write.

    :class:`IllegalTransitionError` names the events the caller may post now;
    :class:`~zhenshen_core.errors.ConcurrencyError` when the case is not at
    ``expected_version`` (nothing written).
    """
    allowed = allowed_events(desk, case, principal)
    if event not in allowed:
        raise IllegalTransitionError(case.status.value, event, allowed)
    return desk.transition(
        case.id, event, dict(payload), actor=principal.subject, expected_version=expected_version
    )
