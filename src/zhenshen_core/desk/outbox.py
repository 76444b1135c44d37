"""Delivering the desk's notices from the store's outbox, at least once.

A step writes one notice per registered notifier in the same transaction as the change it is
about (:meth:`DeskCore._save <zhenshen_core.desk.core.DeskCore._save>`), then tries to deliver
them at once; whatever a crash, a failing notifier or a lost connection left pending is
delivered by the next sweep (:func:`deliver_due`) or ``zhenshen outbox retry``. A notifier
receives the notice's idempotency key (``Notification.key``), so a notice delivered twice (the
process died after the notifier ran and before the delivery was recorded) can be dropped by
the receiver. A failed delivery stays pending with its attempts, last error and backoff; after
:data:`~zhenshen_core.storage.outbox.OUTBOX_MAX_ATTEMPTS` it is ``failed``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from zhenshen_core.errors import CaseNotFoundError, StorageError
from zhenshen_core.model.case import Case
from zhenshen_core.plugins.host import HookFailure
from zhenshen_core.plugins.records import Notification
from zhenshen_core.storage.outbox import (
    OUTBOX_BACKOFF,
    OUTBOX_MAX_ATTEMPTS,
    OutboxNotice,
    notice_key,
    retry_after,
)

if TYPE_CHECKING:
    from zhenshen_core.desk.core import DeskCore

MAX_ERROR = 500
"""Characters of a delivery's error kept on the notice."""


@dataclass
class Deliveries:
    """What deliveries from the outbox did (a desk keeps a running count; a sweep its own)."""

    delivered: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (notice key, error)

    def add(self, other: Deliveries) -> None:
        self.delivered += other.delivered
        self.failed.extend(other.failed)


def notices_for(
    targets: Sequence[str],
    case_id: str,
    seq: int,
    kind: str,
    event_type: str | None,
    detail: dict[str, Any],
    at: datetime,
) -> list[OutboxNotice]:
    """One pending notice per notifier about event ``seq`` of a case."""
    return [
        OutboxNotice(
            key=notice_key(case_id, seq, kind, target),
            case_id=case_id,
            seq=seq,
            kind=kind,
            event_type=event_type,
            target=target,
            detail=detail,
            created_at=at,
            next_attempt_at=at,
        )
        for target in targets
    ]


def deliver(
    desk: DeskCore, notices: Sequence[OutboxNotice], now: datetime, *, case: Case | None = None
) -> Deliveries:
    """Give each notice to its notifier and record the outcome on the notice.

    ``case`` is the case the notices are about when the caller holds it (just saved); a
    notice of another case is told the case as stored now. A failure to record an outcome is
    reported, not raised: the change is saved and a notice left pending is delivered again.
    """
    done = Deliveries()
    cases: dict[str, Case] = {case.id: case} if case is not None else {}
    for notice in notices:
        attempt = notice.attempts + 1
        failure = _send(desk, notice, attempt, cases)
        if failure is None:
            outcome = notice.model_copy(
                update={
                    "status": "delivered",
                    "attempts": attempt,
                    "delivered_at": now,
                    "last_error": None,
                }
            )
            done.delivered += 1
        else:
            error = failure.error[:MAX_ERROR]
            outcome = notice.model_copy(
                update={
                    "status": "failed" if attempt >= OUTBOX_MAX_ATTEMPTS else "pending",
                    "attempts": attempt,
                    "last_error": error,
                    "next_attempt_at": now + retry_after(attempt, OUTBOX_BACKOFF),
                }
            )
            done.failed.append((notice.key, error))
            desk.failures.append(failure)
        try:
            desk.store.outbox_put(outcome)
        except StorageError as exc:
            desk.failures.append(HookFailure("-", "outbox", f"{notice.key}: {exc}"))
    desk.deliveries.add(done)
    return done


def _send(
    desk: DeskCore, notice: OutboxNotice, attempt: int, cases: dict[str, Case]
) -> HookFailure | None:
    subject = cases.get(notice.case_id)
    if subject is None:
        try:
            subject = cases[notice.case_id] = desk.store.get(notice.case_id)
        except CaseNotFoundError:
            return HookFailure("-", "notifier", f"case {notice.case_id} is not in the store")
    notification = Notification(
        notice.kind,
        subject,
        notice.event_type,
        dict(notice.detail),
        key=notice.key,
        attempt=attempt,
    )
    return desk.host.send_notice(notice.target, notification)


def deliver_due(desk: DeskCore, now: datetime, *, limit: int = 1000) -> Deliveries:
    """Deliver the pending notices whose time has come (what a sweep does first)."""
    return deliver(desk, desk.store.outbox_due(now, limit=limit), now)
