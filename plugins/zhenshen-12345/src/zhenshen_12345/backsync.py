"""Back-sync: the desk's lifecycle events as the 12345 platform's status documents.

A platform that handed a work order over wants to hear what became of it, in its own terms:
签收 (the desk has it), 受理 (taken on), 退单 (handed back, with the reason), 延期申请 (more time
asked, with the period and the reason), 办结 (handled, with the reply text) and 回访 (the
enterprise's evaluation). :func:`status_document` turns one notification into that document,
or None for an event the platform does not track (a decision, a meeting, a clock alert) or a
case that came from no work order. It is pure: the same notification gives the same
document, so a notice delivered twice from the outbox writes the same file or message, and
the notice's idempotency key travels with it (``key``) for the platform to drop a repeat.

The document holds the work order's number, the action and its words, never the requester's
identity: the platform has it, and a copy on a queue or in a folder would be one more place
to protect.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from zhenshen_core.model.case import Case
from zhenshen_core.plugins import Notification

SCHEMA = "zhenshen.12345.status/1"

#: Action code → the platform's word for it.
ACTIONS: dict[str, str] = {
    "sign": "签收",
    "accept": "受理",
    "return": "退单",
    "extension": "延期申请",
    "complete": "办结",
    "revisit": "回访",
}

#: Lifecycle events (``Notification.event_type`` of ``case_transitioned``) the platform tracks.
_TRANSITIONS: dict[str, str] = {
    "accept": "accept",
    "reject": "return",  # 不予受理: handed back to the platform
    "return_case": "return",
    "complete": "complete",  # ordinary handling finished
    "close": "complete",
    "record_feedback": "revisit",
}


def action_of(notification: Notification) -> str | None:
    """The platform action a notification is, or None when the platform does not track it."""
    kind = notification.kind
    if kind == "case_received":
        return "sign"
    if kind == "case_transitioned":
        return _TRANSITIONS.get(notification.event_type or "")
    if kind == "deadline_changed" and notification.detail.get("reason") == "extension":
        return "extension"
    return None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _text(detail: Mapping[str, Any], *names: str) -> str:
    for name in names:
        value = detail.get(name)
        if isinstance(value, str) and value:
            return value
    payload = detail.get("payload")
    if isinstance(payload, Mapping):
        return _text(payload, *names)
    return ""


def _return(case: Case, n: Notification) -> dict[str, Any]:
    if n.event_type == "return_case" and case.returns:
        last = case.returns[-1]
        return {
            "at": _iso(last.at),
            "reason": last.reason,
            "from_department": last.from_department,
            "to_department": last.to_department,
        }
    return {"reason": _text(n.detail, "reason")}


def _extension(case: Case, n: Notification) -> dict[str, Any]:
    name = str(n.detail.get("clock", ""))
    clock = case.clocks.get(name)
    out: dict[str, Any] = {
        "clock": name,
        "previous_due": n.detail.get("previous_due"),
        "due": n.detail.get("due"),
    }
    if clock is not None and clock.extensions:
        last = clock.extensions[-1]
        out.update(at=_iso(last.at), period=last.period, reason=last.reason, approver=last.approver)
    return out


def _complete(case: Case, n: Notification) -> dict[str, Any]:
    opinion = case.opinion
    if opinion is not None:
        return {
            "at": _iso(opinion.issued_at),
            "reply": opinion.reasons,
            "result": opinion.result.value,
            "result_label": opinion.result.label,
            "letter_no": opinion.letter_no,
        }
    return {"reply": _text(n.detail, "reply", "result", "reason") or (case.notes or [""])[-1]}


def _revisit(case: Case, n: Notification) -> dict[str, Any]:
    if not case.feedback:
        return {}
    last = case.feedback[-1]
    return {
        "at": _iso(last.at),
        "satisfaction": last.satisfaction.value,
        "satisfaction_label": last.satisfaction.label,
        "comment": last.comment,
    }


def _sign(case: Case, n: Notification) -> dict[str, Any]:
    return {"at": _iso(case.received_at)}


def _accept(case: Case, n: Notification) -> dict[str, Any]:
    return {}


_PARTS: dict[str, Callable[[Case, Notification], dict[str, Any]]] = {
    "sign": _sign,
    "accept": _accept,
    "return": _return,
    "extension": _extension,
    "complete": _complete,
    "revisit": _revisit,
}


def status_document(notification: Notification, *, desk: str) -> dict[str, Any] | None:
    """The platform's status document for ``notification``, or None (see the module).

    ``desk`` names the desk sending it (the platform may hear from several). ``at`` is the
    notice's own time when the desk gives one (``detail["at"]``), else the time the case
    records for the action."""
    action = action_of(notification)
    case = notification.case
    if action is None or not case.external_id:
        return None
    specific: dict[str, Any] = _PARTS[action](case, notification)
    at = notification.detail.get("at") or specific.pop("at", None)
    specific.pop("at", None)
    return {
        "schema": SCHEMA,
        "key": notification.key,
        "desk": desk,
        "work_order": case.external_id,
        "case_id": case.id,
        "action": action,
        "action_label": ACTIONS[action],
        "status": case.status.value,
        "at": at,
        **specific,
    }


__all__ = ["ACTIONS", "SCHEMA", "action_of", "status_document"]
