"""The desk's side of the outbox: delivering its notices at least once.

A step writes one notice per registered notifier in the same transaction as the change it is
about (:meth:`DeskCore._save <zhenshen_core.desk.core.DeskCore._save>`), then tries to deliver
them at once (a sweep, in batches of :data:`DELIVERY_BATCH`); whatever a crash, a failing
notifier or a lost connection left pending is delivered by the next sweep (:func:`deliver_due`)
or ``zhenshen outbox retry``. A notifier receives the notice's idempotency key
(``Notification.key``), so a notice delivered twice (the process died after the notifier ran
and before the delivery was recorded) can be dropped by the receiver. A failed delivery stays
pending with its attempts, last error and backoff; after
:data:`~zhenshen_core.storage.outbox.OUTBOX_MAX_ATTEMPTS` it is ``failed``. The delivery itself
is :func:`zhenshen_core.plugins.delivery.deliver_notices`, which plain intake uses too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from zhenshen_core.model.case import Case
from zhenshen_core.plugins.delivery import Deliveries, deliver_notices, notices_for
from zhenshen_core.storage.outbox import OutboxNotice

if TYPE_CHECKING:
    from zhenshen_core.desk.core import DeskCore

__all__ = ["DELIVERY_BATCH", "Deliveries", "deliver", "deliver_due", "notices_for"]

DELIVERY_BATCH = 100
"""Notices a sweep delivers before it records their outcomes in one write."""


def deliver(
    desk: DeskCore,
    notices: Sequence[OutboxNotice],
    now: datetime,
    *,
    cases: Mapping[str, Case] | None = None,
) -> Deliveries:
    """Deliver ``notices`` with the desk's store and plugins; failures go to
    ``desk.failures``, counts to ``desk.deliveries``."""
    done, failures = deliver_notices(desk.store, desk.host, notices, now, cases=cases)
    desk.failures.extend(failures)
    desk.deliveries.add(done)
    return done


def deliver_due(desk: DeskCore, now: datetime, *, limit: int = 1000) -> Deliveries:
    """Deliver the pending notices whose time has come (what a sweep does first)."""
    return deliver(desk, desk.store.outbox_due(now, limit=limit), now)
