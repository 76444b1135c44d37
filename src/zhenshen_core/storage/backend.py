"""For backend authors: the checks and conversions every ``CaseStore`` shares.

The public module a storage plugin imports (the built-in memory and SQLite stores and the
PostgreSQL plugin do): ``check_new`` / ``check_update`` refuse an inconsistent history,
``external_keys`` gives the (channel, external id) keys intake is idempotent on, ``matches`` and
``sort_key`` are the reference semantics of ``query``, ``query_enterprise`` normalises its
enterprise filter, ``alerting_clocks`` says which clocks a sweep can find, ``to_micros`` /
``from_micros`` store instants as exact integers, ``backoff_delays`` spaces the retries of a
transient failure, and ``dead_letter_key`` and ``seen_again`` are the identity of a dead letter
and what meeting it again changes. These names are stable; see
docs/howto/write-a-storage-plugin.md.

The checks run before anything is written: a batch with one inconsistent item must fail as a
whole, and a backend that only discovered the problem half-way through would have to undo work.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from zhenshen_core.errors import CaseNotFoundError, StorageError
from zhenshen_core.model.case import SHANGHAI, Case, ensure_aware
from zhenshen_core.model.clock import Clock
from zhenshen_core.model.events import CaseEvent
from zhenshen_core.model.identity import normalise_uscc
from zhenshen_core.storage.audit import AuditRecord
from zhenshen_core.storage.outbox import OutboxNotice
from zhenshen_core.storage.protocol import CaseQuery, CaseStore, DeadLetter, IngestResult

__all__ = [
    "alerting_clocks",
    "backoff_delays",
    "check_new",
    "check_update",
    "dead_letter_key",
    "external_keys",
    "from_micros",
    "matches",
    "query_enterprise",
    "received_case",
    "seen_again",
    "sort_key",
    "to_micros",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)


def to_micros(value: datetime) -> int:
    """An instant as integer microseconds since the epoch: exact, and orders like time does.

    Naive values are read as Asia/Shanghai, the same rule the case model applies.
    """
    return (ensure_aware(value) - _EPOCH) // _MICRO


def from_micros(value: int) -> datetime:
    return (_EPOCH + value * _MICRO).astimezone(SHANGHAI)


def backoff_delays(
    retries: int,
    *,
    base: float = 0.1,
    cap: float = 5.0,
    rng: random.Random | None = None,
) -> list[float]:
    """How long to sleep before each of ``retries`` retries: exponential with full jitter.

    Retry ``n`` (from 0) sleeps a uniform random time in ``[0, min(cap, base * 2**n)]``: the
    bound grows so that a server that is restarting gets time to come back, and the jitter keeps
    nodes that failed together from retrying together (a thundering herd). With the defaults
    five retries sleep at most 3.1 s in all, 1.55 s on average.
    """
    if retries < 0:
        raise ValueError(f"retries must be >= 0, got {retries}")
    draw = (rng or random.Random()).uniform
    return [draw(0.0, min(cap, base * 2**n)) for n in range(retries)]


def check_new(case: Case, events: Sequence[CaseEvent]) -> None:
    """A new case must arrive with its whole history so far: events 1..n and version n."""
    if not case.id:
        raise StorageError("cannot store a case without an id")
    if not events:
        raise StorageError(f"case {case.id}: a new case needs at least its 'receive' event")
    _check_events(case, events, start=1)


def check_update(case: Case, events: Sequence[CaseEvent], expected_version: int) -> None:
    """The new events must continue the stored history and account for the new version."""
    if expected_version < 0:
        raise StorageError(f"case {case.id}: expected_version must be >= 0, got {expected_version}")
    _check_events(case, events, start=expected_version + 1)


def _check_events(case: Case, events: Sequence[CaseEvent], *, start: int) -> None:
    for offset, event in enumerate(events):
        if event.case_id != case.id:
            raise StorageError(
                f"case {case.id}: event {event.seq} ({event.type}) belongs to case {event.case_id}"
            )
        if event.seq != start + offset:
            raise StorageError(
                f"case {case.id}: event {event.type!r} has seq {event.seq}, expected "
                f"{start + offset} (events are numbered 1, 2, … without gaps)"
            )
    if case.version != start - 1 + len(events):
        raise StorageError(
            f"case {case.id}: version {case.version} does not match its history "
            f"({start - 1} stored + {len(events)} new events = {start - 1 + len(events)})"
        )


def kept_with_created(
    results: Iterable[IngestResult],
    outbox: Iterable[OutboxNotice],
    audit: Iterable[AuditRecord],
) -> tuple[list[OutboxNotice], list[AuditRecord]]:
    """The outbox notices and access-log records an ingest keeps: those of the cases it
    created. A work order delivered again stores nothing, so it announces and logs nothing
    in the batch's transaction (the caller records a repeat on its own, if it wants to)."""
    created = {r.case_id for r in results if r.created}
    return (
        [n for n in outbox if n.case_id in created],
        [r for r in audit if r.case_id in created],
    )


def external_keys(case: Case) -> list[tuple[str, str]]:
    """Every (channel, external id) the case is known by, without repeats."""
    keys: list[tuple[str, str]] = []
    for ref in case.external_refs:
        key = (ref.channel.value, ref.external_id)
        if key not in keys:
            keys.append(key)
    return keys


def received_case(
    store: CaseStore, refs: Sequence[tuple[str, str]], case_id: str
) -> Case | None:
    """The stored case of a work order: the case of the first of ``refs`` (channel, external
    id) that is stored, else the case ``case_id``, else None — a look-up per ref, through the
    protocol; a store that can answer in one statement offers it as ``find_received``
    (:class:`~zhenshen_core.storage.protocol.FindsReceived`)."""
    for channel, external_id in refs:
        found = store.find_external(channel, external_id)
        if found is not None:
            return found
    try:
        return store.get(case_id)
    except CaseNotFoundError:
        return None


def alerting_clocks(case: Case) -> Iterable[tuple[str, Clock]]:
    """(name, clock) pairs the sweep must look at: running and with an alert pending."""
    return (
        (name, c) for name, c in case.clocks.items() if c.running and c.next_alert_at is not None
    )


def query_enterprise(query: CaseQuery) -> str | None:
    """People type USCCs in every shape; compare the normalised form the model stores."""
    return normalise_uscc(query.enterprise) if query.enterprise else None


def matches(case: Case, query: CaseQuery) -> bool:
    """The reference semantics of :class:`CaseQuery` (the SQL backends must agree with it)."""
    if query.status is not None and case.status not in query.status:
        return False
    if query.domain is not None and case.domain != query.domain:
        return False
    if query.department is not None and not any(d.id == query.department for d in case.departments):
        return False
    if query.enterprise is not None and case.enterprise_uscc != query_enterprise(query):
        return False
    if query.channel is not None and case.channel.value != query.channel:
        return False
    received = to_micros(case.received_at)
    if query.received_from is not None and received < to_micros(query.received_from):
        return False
    if query.received_before is not None and received >= to_micros(query.received_before):
        return False
    if query.due_before is not None:
        limit = to_micros(query.due_before)
        if not any(c.running and to_micros(c.due_at) < limit for c in case.clocks.values()):
            return False
    return True


def sort_key(case: Case) -> tuple[int, str]:
    return to_micros(case.received_at), case.id


def dead_letter_key(channel: str, source: str, line: int | None, raw: str) -> str:
    """A dead letter's identity: the same record at the same place of the same source.

    Source and line say where the record is (a file ingested again has the same ones), the
    text says it is the same record (a file edited in between gives a new letter for what
    changed). ``DL`` and 16 hex digits of a SHA-256, so a person can type it; text that is not
    valid Unicode (a lone surrogate) is hashed in its escaped form rather than refused.
    """
    identity = json.dumps([channel, source, line, raw], ensure_ascii=True)
    return "DL" + hashlib.sha256(identity.encode("ascii")).hexdigest()[:16].upper()


def seen_again(kept: DeadLetter, again: DeadLetter) -> DeadLetter:
    """``kept`` after intake met the same record again as ``again`` (same key): counted once
    more, the time and the newest reason (the pack or the data may have changed it)."""
    return kept.model_copy(
        update={"seen": kept.seen + again.seen, "last_seen": again.at, "reason": again.reason}
    )
