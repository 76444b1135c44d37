"""The desk's lifecycle events on the topic exchange ``zhenshen.events``.

Every notification becomes one persistent JSON message with the routing key
``desk.<desk>.<event>`` (``desk.gaoxin.accept``, ``desk.gaoxin.record_feedback``,
``desk.gaoxin.clock_alert`` …), so a subscriber binds what it wants (``desk.*.close``,
``desk.gaoxin.#``). A work order's event carries the 12345 platform's status document
(``platform``: 签收, 受理, 退单, 延期申请, 办结, 回访; see ``zhenshen_12345.backsync``) for the
platform's own subscriber.

Exactly once, as far as a broker allows: the desk delivers notices from its outbox (written in
the transaction of the change) at least once, and ``send`` returns only once the broker has
confirmed the message (publisher confirms), so a notice is marked delivered only after the
broker has it; one not confirmed (a nack, a lost connection, a crash) raises, stays pending and
is sent again, after a restart too. The notice's idempotency key is the message id
(``message_id`` and the ``zhenshen-key`` header): a publisher drops a key it has had confirmed
already, and a subscriber drops a repeat that a crash between the confirm and the outbox's
mark can still cause. Messages carry no requester identity (detail masked).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

import pika
import pika.exceptions

from zhenshen_amqp.broker import RECONNECT_ERRORS, BrokerError, parameters, shown_url
from zhenshen_core.plugins import Notification

EXCHANGE = "zhenshen.events"
SCHEMA = "zhenshen.event/1"
_WORD = re.compile(r"[^A-Za-z0-9_-]")
_REMEMBERED = 10_000  # confirmed keys a publisher remembers to drop a repeat


class PublishError(Exception):
    """The broker did not confirm a message (nacked, unroutable, connection lost): the notice
    stays in the outbox and is sent again."""


def event_name(notification: Notification) -> str:
    """The event a notification is about: the lifecycle event of a transition
    (``accept``, ``close`` …), else its kind (``case_received``, ``clock_alert`` …)."""
    if notification.kind == "case_transitioned" and notification.event_type:
        return notification.event_type
    return notification.kind


def routing_key(desk: str, notification: Notification) -> str:
    """``desk.<desk>.<event>``, each word made of letters, digits, ``_`` and ``-`` (a dot in
    a desk name would add a word to the key and break the subscribers' patterns)."""
    return f"desk.{_WORD.sub('_', desk) or '_'}.{_WORD.sub('_', event_name(notification))}"


def _platform(notification: Notification, desk: str) -> dict[str, Any] | None:
    try:
        from zhenshen_12345.backsync import status_document
    except ImportError:  # the 12345 plugin is not installed: no platform documents
        return None
    return status_document(notification, desk=desk)


def event_document(notification: Notification, desk: str) -> dict[str, Any]:
    """The message body: what happened to which case, without the requester's identity."""
    from zhenshen_core.privacy import mask_document

    case = notification.case
    return {
        "schema": SCHEMA,
        "key": notification.key,
        "desk": desk,
        "kind": notification.kind,
        "event": event_name(notification),
        "case_id": case.id,
        "work_order": case.external_id,
        "channel": case.channel.value,
        "status": case.status.value,
        "domain": case.domain,
        "lead_department": case.lead_department,
        "detail": mask_document(_jsonable(notification.detail)),
        "platform": _platform(notification, desk),
    }


def _jsonable(detail: Mapping[str, Any]) -> Any:
    return json.loads(json.dumps(dict(detail), ensure_ascii=False, default=str))


@dataclass
class EventPublisher:
    """Publishes notifications to ``exchange`` on one connection (opened on first use, opened
    again after a loss); ``confirm=False`` publishes without waiting for the broker (faster,
    and a message can be lost: for measuring, not for the desk). Thread-safe."""

    url: str
    desk: str = "desk"
    exchange: str = EXCHANGE
    confirm: bool = True
    _connection: Any = None
    _channel: Any = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _confirmed: OrderedDict[str, None] = field(default_factory=OrderedDict)

    def send(self, notification: Notification) -> None:
        """Publish ``notification``; return once the broker confirmed it (:class:`PublishError`
        when it did not). A key confirmed before is not published again."""
        document = event_document(notification, self.desk)
        body = json.dumps(document, ensure_ascii=False).encode()
        key = notification.key or "sha256:" + hashlib.sha256(body).hexdigest()[:32]
        properties = pika.BasicProperties(
            delivery_mode=pika.DeliveryMode.Persistent,
            content_type="application/json",
            message_id=key,
            type=document["event"],
            app_id="zhenshen",
            headers={"zhenshen-key": key, "attempt": notification.attempt},
        )
        with self._lock:
            if key in self._confirmed:
                return
            self._publish(routing_key(self.desk, notification), body, properties)
            self._confirmed[key] = None
            while len(self._confirmed) > _REMEMBERED:
                self._confirmed.popitem(last=False)

    def _publish(self, routing: str, body: bytes, properties: Any) -> None:
        for attempt in (1, 2):  # a connection found dead is opened again once
            try:
                channel = self._open()
                channel.basic_publish(self.exchange, routing, body, properties)
                return
            except pika.exceptions.NackError as exc:
                raise PublishError(f"the broker refused the message ({exc})") from None
            except pika.exceptions.UnroutableError as exc:
                raise PublishError(f"the broker could not route the message ({exc})") from None
            except RECONNECT_ERRORS as exc:
                self.close()
                if attempt == 2:
                    raise PublishError(
                        f"no confirm from {shown_url(self.url)}: {type(exc).__name__}: {exc}"
                    ) from None

    def _open(self) -> Any:
        if self._channel is not None and self._channel.is_open:
            return self._channel
        self.close()
        try:
            self._connection = pika.BlockingConnection(
                parameters(self.url, f"zhenshen events {self.desk}")
            )
        except pika.exceptions.ProbableAuthenticationError:
            raise BrokerError(f"the broker {shown_url(self.url)} refused the login") from None
        channel = self._connection.channel()
        channel.exchange_declare(self.exchange, exchange_type="topic", durable=True)
        if self.confirm:
            channel.confirm_delivery()
        self._channel = channel
        return channel

    def close(self) -> None:
        """Close the connection (a later ``send`` opens a new one)."""
        connection, self._connection, self._channel = self._connection, None, None
        if connection is not None and connection.is_open:
            with suppress(*RECONNECT_ERRORS):
                connection.close()


__all__ = [
    "EXCHANGE",
    "SCHEMA",
    "EventPublisher",
    "PublishError",
    "event_document",
    "event_name",
    "routing_key",
]
