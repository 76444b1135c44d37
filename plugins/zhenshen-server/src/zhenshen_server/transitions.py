"""The events a caller may post, and posting one: the single place the service moves a case.

Only the desk records its bookkeeping events (the rules' decision, clock updates, reminders,
facts from enrichers); a person requests the others. Until the library publishes that split
(``Desk.transition``), the bookkeeping set is named here, once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from zhenshen_core import Case, Desk
from zhenshen_core.errors import ConcurrencyError, IllegalTransitionError
from zhenshen_server.auth import Principal
from zhenshen_server.roles import DEPARTMENT_EVENTS, Role

#: Events only the desk itself records.
DESK_ONLY_EVENTS: frozenset[str] = frozenset(
    {"receive", "decide", "clock_update", "supervise", "update_facts"}
)


def allowed_events(desk: Desk, case: Case, principal: Principal) -> list[str]:
    """The events ``principal`` may post on ``case`` now."""
    now = set(desk.lifecycle.allowed_events(case.status)) - DESK_ONLY_EVENTS
    if principal.role is Role.DEPARTMENT:
        now &= DEPARTMENT_EVENTS
    return sorted(now)


def post_event(
    desk: Desk,
    case: Case,
    principal: Principal,
    event: str,
    payload: Mapping[str, Any],
    expected_version: int,
) -> Case:
    """Fire ``event`` (with the clocks it starts, pauses or stops) and save it in one write.

    :class:`IllegalTransitionError` names the events the caller may post now;
    :class:`ConcurrencyError` when the case is not at ``expected_version``.
    """
    allowed = allowed_events(desk, case, principal)
    if event not in allowed:
        raise IllegalTransitionError(case.status.value, event, allowed)
    if case.version != expected_version:
        raise ConcurrencyError(case.id, expected_version, case.version)
    return desk._commit(case, [(event, dict(payload))], actor=principal.subject, at=desk.now())
