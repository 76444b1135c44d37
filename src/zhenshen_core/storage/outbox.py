"""What a store keeps for the desk's reliability: the notification outbox and sweep incidents.

**The outbox.** A notice to the outside world (an SMS, a 12345 back-sync, a message on a queue)
is written in the same transaction as the change it is about (``save(..., outbox=[...])``), so
a crash can never leave a saved alert whose notice is lost; it is then delivered from the
outbox, at least once. Each notice has a stable key (:func:`notice_key`: case, event number,
kind and notifier) that the notifier receives (``Notification.key``) so it can drop a second
delivery of the same notice. A delivery that fails stays ``pending`` with its attempts, last
error and the time of its next try (exponential backoff, :func:`retry_after`); after
:data:`OUTBOX_MAX_ATTEMPTS` it is ``failed`` until someone retries it (``zhenshen outbox
retry``).

**Sweep incidents.** A due clock whose case the sweep cannot handle (a bug, a case left in a
state no alert fits) is recorded as an incident (case, clock, reason, attempts, next retry) and
skipped by ``due_clocks`` until its retry time, so one case never stops the sweep of the
others; it is resolved when its case later sweeps without error.

These are models only; every backend stores them (the contract in
:mod:`zhenshen_core.testing.reliability_contract` says how).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from zhenshen_core.model.case import AwareDatetime

__all__ = [
    "INCIDENT_BACKOFF",
    "OUTBOX_BACKOFF",
    "OUTBOX_MAX_ATTEMPTS",
    "OUTBOX_STATUSES",
    "OutboxNotice",
    "SweepIncident",
    "notice_key",
    "retry_after",
]

OutboxStatus = Literal["pending", "delivered", "failed"]
OUTBOX_STATUSES: tuple[str, ...] = ("pending", "delivered", "failed")
OUTBOX_MAX_ATTEMPTS = 10
"""Deliveries tried before a notice is ``failed`` (about 17 hours of backoff in all)."""
OUTBOX_BACKOFF = (timedelta(seconds=30), timedelta(hours=6))
"""(first wait, longest wait) between two deliveries of one notice."""
INCIDENT_BACKOFF = (timedelta(minutes=1), timedelta(hours=6))
"""(first wait, longest wait) before a sweep tries a failing clock again."""


def retry_after(attempts: int, backoff: tuple[timedelta, timedelta]) -> timedelta:
    """How long to wait after the ``attempts``-th failure: ``first * 2**(attempts-1)``, capped.

    Deterministic (no jitter): a sweep runs every few minutes, not in a tight loop, so nodes
    do not herd, and an operator can read the next retry off the attempt count."""
    first, longest = backoff
    if attempts <= 1:
        return first
    wait: timedelta = first * (2 ** min(attempts - 1, 32))
    return min(longest, wait)


def notice_key(case_id: str, seq: int, kind: str, target: str) -> str:
    """The idempotency key of one notice: the same change told to the same notifier has the
    same key however often it is delivered (``seq`` is the stored event it is about)."""
    return f"{case_id}:{seq}:{kind}:{target}"


class OutboxNotice(BaseModel):
    """One notice for one notifier, kept until it is delivered."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(description="idempotency key (notice_key); unique in the outbox")
    case_id: str
    seq: int = Field(ge=0, description="the event of the case the notice is about")
    kind: str = Field(description="case_received | case_transitioned | clock_alert …")
    event_type: str | None = None
    target: str = Field(description="the notifier it is for (its registered name)")
    detail: dict[str, Any] = Field(default_factory=dict)
    created_at: AwareDatetime
    status: OutboxStatus = "pending"
    attempts: int = Field(default=0, ge=0)
    last_error: str | None = None
    next_attempt_at: AwareDatetime
    delivered_at: AwareDatetime | None = None


class SweepIncident(BaseModel):
    """A due clock the sweep failed on: kept with why, retried with backoff, never blocking."""

    model_config = ConfigDict(extra="forbid")

    case_id: str
    clock: str
    reason: str
    attempts: int = Field(ge=1)
    first_at: AwareDatetime
    last_at: AwareDatetime
    next_retry_at: AwareDatetime
    resolved_at: AwareDatetime | None = None

    @property
    def open(self) -> bool:
        return self.resolved_at is None

    def holds(self, now: datetime) -> bool:
        """Whether the clock is held back from a sweep at ``now``."""
        return self.resolved_at is None and self.next_retry_at > now
