"""Delivering outbox notices to notifier plugins: what the desk and plain intake share.

A notice (:class:`~zhenshen_core.storage.outbox.OutboxNotice`) is written with the change it
is about; :func:`deliver_notices` gives each to its notifier with its idempotency key and
records the outcomes on the notices in one write: delivered, or pending with its attempts,
last error and next try (after :data:`~zhenshen_core.storage.outbox.OUTBOX_MAX_ATTEMPTS`,
failed). :mod:`zhenshen_core.desk.outbox` is the desk's side of it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from zhenshen_core.errors import CaseNotFoundError, StorageError
from zhenshen_core.model.case import Case
from zhenshen_core.plugins.host import HookFailure, PluginHost
from zhenshen_core.plugins.records import Notification
from zhenshen_core.storage.outbox import (
    OUTBOX_BACKOFF,
    OUTBOX_MAX_ATTEMPTS,
    OutboxNotice,
    notice_key,
    retry_after,
)
from zhenshen_core.storage.protocol import CaseStore

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
    """One pending notice per notifier about event ``seq`` of a case. Its detail is kept
    masked: the outbox is a table like any other and must hold no personal number in clear
    (the event it is about keeps the values, sealed; a notifier that declares
    ``personal_data`` reads them from the case)."""
    from zhenshen_core.privacy import mask_document

    detail = mask_document(detail)
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


def deliver_notices(
    store: CaseStore,
    host: PluginHost,
    notices: Sequence[OutboxNotice],
    now: datetime,
    *,
    cases: Mapping[str, Case] | None = None,
) -> tuple[Deliveries, list[HookFailure]]:
    """Give each notice to its notifier and record the outcomes, in one write at the end.

    ``cases`` are the cases the notices are about when the caller holds them (just saved);
    a notice of another case is told the case as stored now. A failure to record the
    outcomes is reported, not raised: the change is saved, and a notice left pending is
    delivered again (so a crash between a notifier's call and that write delivers the notices
    of the batch again, under the same keys).
    """
    done = Deliveries()
    failures: list[HookFailure] = []
    known: dict[str, Case] = dict(cases or {})
    outcomes: list[OutboxNotice] = []
    for notice in notices:
        attempt = notice.attempts + 1
        failure = _send(store, host, notice, attempt, known)
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
            failures.append(failure)
        outcomes.append(outcome)
    try:
        store.outbox_put_many(outcomes)
    except StorageError as exc:
        failures.append(HookFailure("-", "outbox", f"{len(outcomes)} outcome(s): {exc}"))
    return done, failures


def _send(
    store: CaseStore,
    host: PluginHost,
    notice: OutboxNotice,
    attempt: int,
    cases: dict[str, Case],
) -> HookFailure | None:
    subject = cases.get(notice.case_id)
    if subject is None:
        try:
            subject = cases[notice.case_id] = store.get(notice.case_id)
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
    return host.send_notice(notice.target, notification)
