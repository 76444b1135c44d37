"""Turning a channel's records into stored cases, without ever dropping one silently.

Each record is normalised (pipeline hook), validated against the case model and stored through
the idempotent ``ingest``; anything that fails goes to the store's dead letters with the raw
payload, its line and the reason, and the batch goes on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Protocol

from zhenshen_core.errors import CaseValidationError, NormaliseError
from zhenshen_core.intake.deadletters import Rejected, guarded_read, reject, unstorable_at
from zhenshen_core.intake.window import ReceivedWindow
from zhenshen_core.model.case import SHANGHAI, Case
from zhenshen_core.model.events import CaseEvent
from zhenshen_core.model.lifecycle import Lifecycle, load_case
from zhenshen_core.plugins.delivery import deliver_notices, notices_for
from zhenshen_core.plugins.host import HookFailure, PluginHost
from zhenshen_core.plugins.records import IntakeReader, IntakeRecord
from zhenshen_core.storage.outbox import OutboxNotice
from zhenshen_core.storage.protocol import CaseStore

BATCH_SIZE = 500
_DEFAULT_WINDOW = ReceivedWindow()


@dataclass
class IntakeSummary:
    """What ``zhenshen ingest`` prints; ``rejected`` lists every dead-lettered record."""

    channel: str
    source: str
    read: int = 0
    created: int = 0
    duplicates: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    case_ids: list[str] = field(default_factory=list)
    notification_failures: list[HookFailure] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.rejected

    def as_dict(self) -> dict[str, object]:
        return {
            "channel": self.channel,
            "source": self.source,
            "read": self.read,
            "created": self.created,
            "duplicates": self.duplicates,
            "rejected": len(self.rejected),
            "rejections": [
                {"line": r.line, "reason": r.reason, "location": r.location} for r in self.rejected
            ],
            "notification_failures": [f.__dict__ for f in self.notification_failures],
        }


class IntakePipeline(Protocol):
    """What a batch does around its write when a desk decides the cases (``Desk.ingest``).

    ``prepare`` turns a received case into the case and events to store (enriched, decided,
    clocks started) — it runs before the batch is written, so a case that cannot be decided
    is never stored; ``outbox`` gives the notices to write with a prepared case, in the
    batch's transaction (kept only if the case is created); ``stored`` runs after the write
    for each new case (notifications, actions); ``known`` for a work order the store already
    had (``stored_id``).
    """

    def prepare(
        self, case: Case, events: Sequence[CaseEvent]
    ) -> tuple[Case, Sequence[CaseEvent]]: ...

    def outbox(self, case: Case) -> Sequence[OutboxNotice]: ...

    def stored(self, case: Case) -> None: ...

    def known(self, case: Case, stored_id: str) -> None: ...


def _chunks(items: Iterable[IntakeRecord], size: int) -> Iterator[list[IntakeRecord]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def ingest_records(
    records: Iterable[IntakeRecord],
    *,
    store: CaseStore,
    host: PluginHost,
    channel: str,
    source: str,
    lifecycle: Lifecycle | None = None,
    actor: str = "intake",
    now: Callable[[], datetime] | None = None,
    progress: Callable[[int], None] | None = None,
    pipeline: IntakePipeline | None = None,
    window: ReceivedWindow = _DEFAULT_WINDOW,
) -> IntakeSummary:
    """Validate and store records in batches; reject bad ones to dead letters.

    With a ``pipeline`` each case is prepared (decided) before its batch is written; a record
    whose case cannot be prepared is a dead letter like an invalid one. A ``received_at``
    outside ``window`` (by default 2004-01-01 up to a day after the wall clock's now) is
    refused.
    """
    lifecycle = lifecycle or Lifecycle()
    clock = now or (lambda: datetime.now(SHANGHAI))
    summary = IntakeSummary(channel=channel, source=source)
    for chunk in _chunks(records, BATCH_SIZE):
        batch: list[tuple[Case, Sequence[CaseEvent]]] = []
        lines: list[tuple[int | None, str | None]] = []
        seen: set[str] = set()
        for record in chunk:
            summary.read += 1
            case = draft_case(record, host, channel, summary, store, clock, window)
            if case is None:
                continue
            received, event = lifecycle.receive(case, actor=actor)
            if received.id in seen:
                summary.duplicates += 1
                continue
            seen.add(received.id)
            item: tuple[Case, Sequence[CaseEvent]] = (received, [event])
            if pipeline is not None:
                try:
                    item = pipeline.prepare(received, [event])
                except Exception as exc:  # one undecidable record never stops the batch
                    reject(
                        record,
                        f"cannot decide: {_describe(exc)}",
                        channel,
                        summary.rejected,
                        store,
                        clock,
                    )
                    continue
            batch.append(item)
            lines.append((record.line, record.location))
        if pipeline is not None:
            outbox = [n for case, _ in batch for n in pipeline.outbox(case)]
        else:  # no desk: each new case's receipt, one notice per notifier
            outbox = _received_notices(host, batch, clock())
        # outbox= only when there are notices: a store written before the outbox still works
        # for a desk without notifiers.
        results = (
            (store.ingest_many(batch, outbox=outbox) if outbox else store.ingest_many(batch))
            if batch
            else []
        )
        created: dict[str, Case] = {}
        for (case, events), result, (line, location) in zip(batch, results, lines, strict=True):
            summary.case_ids.append(result.case_id)
            if result.created:
                summary.created += 1
                if pipeline is not None:  # the desk announces the receipt, from its outbox
                    pipeline.stored(case)
                    continue
                created[case.id] = case
                summary.notification_failures.extend(
                    host.notify_hooks("case_received", case=case, event=events[0])
                )
                continue
            summary.duplicates += 1
            if pipeline is not None:
                try:
                    pipeline.known(case, result.case_id)
                except Exception as exc:  # stored already: reported, not dead-lettered
                    reason = f"stored earlier but undecided; cannot decide: {_describe(exc)}"
                    summary.rejected.append(Rejected(line, reason, location))
        if created and outbox:
            kept = [n for n in outbox if n.case_id in created]
            _, failures = deliver_notices(store, host, kept, clock(), cases=created)
            summary.notification_failures.extend(failures)
        if progress is not None:
            progress(len(chunk))
    return summary


def _received_notices(
    host: PluginHost, batch: Sequence[tuple[Case, Sequence[CaseEvent]]], at: datetime
) -> list[OutboxNotice]:
    """The outbox notices of a batch's receipts (kept only for the cases it creates)."""
    targets = host.notifier_names() if batch else []
    return [
        notice
        for case, events in batch
        for notice in notices_for(
            targets, case.id, events[0].seq, "case_received", events[0].type, {}, at
        )
    ]


def _describe(exc: Exception) -> str:
    from zhenshen_core.errors import ZhenshenError

    return str(exc) if isinstance(exc, ZhenshenError) else f"{type(exc).__name__}: {exc}"


def draft_case(
    record: IntakeRecord,
    host: PluginHost,
    channel: str,
    summary: IntakeSummary,
    store: CaseStore,
    clock: Callable[[], datetime],
    window: ReceivedWindow = _DEFAULT_WINDOW,
) -> Case | None:
    """The validated case draft of one record, or None once it is a dead letter (listed in
    ``summary.rejected``): the one place a record becomes a case or a rejection. A case
    received outside ``window`` (read against the wall clock) is a dead letter too."""
    reason = record.error
    case: Case | None = None
    if reason is None and record.data is not None:
        try:
            data = dict(host.normalise_intake(channel, record.data))
            unstorable = unstorable_at(data)
            if unstorable is None:
                case = load_case(data)
            else:
                reason = f"invalid case: {unstorable}"
        except (CaseValidationError, NormaliseError) as exc:
            reason = str(exc)
    if case is not None:
        outside = window.problem(case.received_at)
        if outside is None:
            return case
        reason = f"invalid case: received_at: {outside}"
    reject(record, reason or "empty record", channel, summary.rejected, store, clock)
    return None


def count_source(
    host: PluginHost, channel: str, source: str, *, reader: IntakeReader | None = None
) -> int | None:
    """How many records ``source`` holds, when its channel can tell (for a progress total);
    None for standard input, a channel without ``count``, or a file the count cannot read (the
    ingest itself then reports what is wrong with it). ``reader``: the channel as set up with
    its options (``IntakeChannel.reader``), when it has some."""
    counter = (reader or host.intake_channel(channel).reader()).count
    if counter is None or source == "-":
        return None
    try:
        return counter(source)
    except (OSError, ValueError):
        return None


def ingest_source(
    source: str,
    *,
    channel: str,
    store: CaseStore,
    host: PluginHost,
    lifecycle: Lifecycle | None = None,
    actor: str = "intake",
    progress: Callable[[int], None] | None = None,
    pipeline: IntakePipeline | None = None,
    reader: IntakeReader | None = None,
    window: ReceivedWindow = _DEFAULT_WINDOW,
) -> IntakeSummary:
    """Read ``source`` with the named channel adapter and ingest it; ``reader`` is the channel
    as set up with its options (``IntakeChannel.reader``), when it takes some. ``window`` as
    for :func:`ingest_records`."""
    adapter = reader or host.intake_channel(channel).reader()
    return ingest_records(
        guarded_read(adapter.read(source), source, channel, host.intake_channel_plugin(channel)),
        store=store,
        host=host,
        channel=channel,
        source=source,
        lifecycle=lifecycle,
        actor=actor,
        progress=progress,
        pipeline=pipeline,
        window=window,
    )
