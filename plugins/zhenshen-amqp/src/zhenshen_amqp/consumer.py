"""The consumer: one work order per message, acknowledged only once its case is committed.

Delivery is at least once and the effect exactly once. Messages are taken in batches of up
to ``prefetch`` (or what arrived within ``max_wait``), read by the channel's ``from_raw``,
stored through the desk's intake in one transaction, and only then acknowledged; a message
delivered again (after a crash, a lost connection, another consumer's death) finds its work
order stored and is a duplicate, acknowledged without storing anything. A message that can
never be a case is kept in our dead letters first and then rejected without requeue, so the
broker routes it to the queue's dead-letter exchange instead of delivering it again forever.

Every way out keeps that promise: a lost broker drops the batch not yet committed (the broker
delivers it again, to us after reconnecting or to another consumer) and reconnects with
backoff; ``stop()`` (SIGTERM, Ctrl-C) finishes the batch in hand, acknowledges it and closes,
so the messages prefetched but not begun go back to the queue unacknowledged; a kill -9
leaves a batch either committed (delivered again: duplicates) or not (stored then).
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import pika
import pika.exceptions

from zhenshen_amqp.broker import (
    RECONNECT_ERRORS,
    BrokerError,
    backoff,
    declare_intake,
    parameters,
    refusal,
)
from zhenshen_core.plugins import IntakeRecord

#: A rejection the pipeline reports for a work order it did store (a repeat delivery that
#: could not be decided): acknowledged, never dead-lettered.
_STORED_PREFIX = "stored earlier"


@dataclass
class ConsumeStats:
    """What ``zhenshen consume`` prints when it stops."""

    received: int = 0
    stored: int = 0
    duplicates: int = 0
    dead_letters: int = 0
    reconnects: int = 0
    case_ids: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {
            "received": self.received,
            "stored": self.stored,
            "duplicates": self.duplicates,
            "dead_letters": self.dead_letters,
            "reconnects": self.reconnects,
        }


@dataclass(frozen=True)
class _Message:
    tag: int
    body: bytes
    message_id: str | None


@dataclass
class Consumer:
    """Consumes ``queue`` into ``desk`` through an intake channel's ``from_raw``.

    ``desk`` is a :class:`~zhenshen_core.desk.Desk` (``ingest_records``; with or without a
    pack). ``stop_when_idle``: return once no message came for that many seconds (batch jobs,
    tests, benchmarks); None consumes until :meth:`stop`. ``advance`` hears the messages done
    after each batch, ``log`` the reconnections.
    """

    url: str
    queue: str
    channel: str
    from_raw: Callable[[str, str, int | None], IntakeRecord]
    desk: Any
    prefetch: int = 200
    declare: bool = True
    actor: str = "intake"
    stop_when_idle: float | None = None
    max_wait: float = 0.2
    advance: Callable[[int], None] | None = None
    log: Callable[[str], None] = print
    stats: ConsumeStats = field(default_factory=ConsumeStats)
    _stopping: bool = False
    _connected: bool = False
    _pending: list[_Message] = field(default_factory=list)

    @property
    def source(self) -> str:
        return f"amqp:{self.queue}"

    def stop(self) -> None:
        """Finish the batch in hand, acknowledge it and return from :meth:`run` (safe to call
        from a signal handler: it only sets a flag the loop reads every few milliseconds)."""
        self._stopping = True

    def run(self) -> ConsumeStats:
        """Consume until :meth:`stop` or idle; reconnect with backoff when the broker goes.

        :class:`~zhenshen_amqp.broker.BrokerError` for a refusal that waiting cannot mend; a
        store error propagates (the batch is not acknowledged: the broker delivers it again).
        """
        waits = backoff()
        params = parameters(self.url, f"zhenshen consume {self.queue}")
        while not self._stopping:
            self._connected = False
            try:
                self._session(params)
                return self.stats
            except (*RECONNECT_ERRORS, pika.exceptions.ChannelClosedByBroker) as exc:
                refused = refusal(exc, self.url, self.queue)
                if refused is not None:
                    raise refused from None
                self._pending.clear()  # not committed: the broker delivers them again
                if self._connected:  # it was working: start the waits again from the first
                    waits = backoff()
                wait = next(waits)
                said = str(exc).strip()
                why = f"{type(exc).__name__}: {said}" if said else type(exc).__name__
                self.log(f"broker connection lost or refused ({why}); reconnecting in {wait:.1f} s")
                self.stats.reconnects += 1
                self._sleep(wait)
        return self.stats

    def _sleep(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while not self._stopping and time.monotonic() < end:
            time.sleep(min(0.05, max(0.0, end - time.monotonic())))

    def _session(self, params: pika.URLParameters) -> None:
        connection = pika.BlockingConnection(params)
        try:
            channel = connection.channel()
            if self.declare:
                declare_intake(channel, self.queue)
            else:
                channel.queue_declare(self.queue, passive=True)
            channel.basic_qos(prefetch_count=self.prefetch)
            self._connected = True
            self._consume(channel)
            if channel.is_open:
                channel.cancel()  # prefetched, not begun: back to the queue
        finally:
            if connection.is_open:
                with contextlib.suppress(*RECONNECT_ERRORS):
                    connection.close()

    def _consume(self, channel: Any) -> None:
        last = first = time.monotonic()
        for method, properties, body in channel.consume(self.queue, inactivity_timeout=0.05):
            now = time.monotonic()
            if method is not None:
                if not self._pending:
                    first = now
                self._pending.append(_Message(method.delivery_tag, body, properties.message_id))
                last = now
            full = len(self._pending) >= self.prefetch
            if self._pending and (method is None or full or now - first >= self.max_wait):
                self._flush(channel)
            if self._stopping:
                break
            idle = self.stop_when_idle
            if idle is not None and not self._pending and now - last >= idle:
                break
        if self._pending:
            self._flush(channel)

    def _record(self, message: _Message) -> IntakeRecord:
        text = message.body.decode("utf-8", "surrogateescape")
        try:
            record = self.from_raw(text, self.source, None)
        except Exception as exc:  # a channel's bug on one message costs that message only
            problem = f"channel {self.channel!r} failed reading it: {type(exc).__name__}: {exc}"
            record = IntakeRecord(self.source, None, text[:2000], None, problem)
        tag = message.message_id or "sha256:" + hashlib.sha256(message.body).hexdigest()[:16]
        # The dead letter is kept under this location: the same message delivered again meets
        # the same letter (counted, not kept twice).
        return replace(record, location=f"{self.source}#{tag}")

    def _flush(self, channel: Any) -> None:
        batch, self._pending = self._pending, []
        records = [self._record(m) for m in batch]
        summary = self.desk.ingest_records(
            self.channel, records, source=self.source, actor=self.actor
        )
        dead = {r.location for r in summary.rejected if not r.reason.startswith(_STORED_PREFIX)}
        # Committed (cases and dead letters): now, and only now, the broker may forget them.
        if not dead:
            channel.basic_ack(batch[-1].tag, multiple=True)
        else:
            for message, record in zip(batch, records, strict=True):
                if record.location in dead:
                    channel.basic_reject(message.tag, requeue=False)
                else:
                    channel.basic_ack(message.tag)
        stats = self.stats
        stats.received += len(batch)
        stats.stored += summary.created
        stats.duplicates += summary.duplicates
        stats.dead_letters += sum(1 for r in records if r.location in dead)
        if self.advance is not None:
            self.advance(len(batch))


__all__ = ["BrokerError", "ConsumeStats", "Consumer"]
