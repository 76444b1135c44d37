"""The broker side every command shares: connection parameters, how a broker URL is shown,
which failures mean "try again", and the queue topology with its dead-letter exchange.

The topology is declared the same way by every consumer (declaring is idempotent when the
arguments agree): the intake queue is durable and names a dead-letter exchange
(``x-dead-letter-exchange``), ``<queue>.dead-letter``, a fanout exchange bound to a durable
queue of the same name. A message rejected without requeue (one that can never be a case)
lands there, for whoever keeps the platform's side, while our own dead letters keep it with
the reason for ``zhenshen deadletters``. A queue that exists already with other arguments
cannot be changed by a declare (RabbitMQ answers PRECONDITION_FAILED); ``--no-declare`` then
uses it as it is, and a broker policy (``rabbitmqctl set_policy … '{"dead-letter-exchange":
…}'``) gives it the dead-letter exchange.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import pika
import pika.exceptions

#: Failures after which the same work, on a new connection, may succeed: the broker restarted,
#: closed the connection (``rabbitmqctl close_connection``), or the network dropped.
RECONNECT_ERRORS: tuple[type[BaseException], ...] = (
    pika.exceptions.AMQPConnectionError,
    pika.exceptions.ConnectionClosedByBroker,
    pika.exceptions.StreamLostError,
    pika.exceptions.ChannelWrongStateError,
    pika.exceptions.ConnectionWrongStateError,
    ConnectionError,
)


class BrokerError(Exception):
    """A broker refusal that waiting will not mend (bad credentials, a queue declared with
    other arguments, a missing queue under ``--no-declare``); the message says what to do."""


def shown_url(url: str) -> str:
    """``url`` with its password replaced by ``***``: never echo a secret."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def parameters(url: str, name: str) -> pika.URLParameters:
    """Connection parameters from ``url``; ``name`` is the connection's name on the broker
    (``rabbitmqctl list_connections client_properties`` shows it), so an operator can tell
    which consumer is which."""
    if urlsplit(url).scheme not in ("amqp", "amqps"):
        raise BrokerError(f"not an AMQP URL: {shown_url(url)} (amqp://user:password@host:5672/)")
    try:
        params = pika.URLParameters(url)
    except (ValueError, TypeError) as exc:
        raise BrokerError(f"cannot read the broker URL {shown_url(url)}: {exc}") from None
    params.client_properties = {"connection_name": name}
    if "connection_attempts" not in url:
        params.connection_attempts = 1
    if "blocked_connection_timeout" not in url:
        params.blocked_connection_timeout = 60
    return params


def dead_letter_name(queue: str) -> str:
    """The dead-letter exchange and queue of ``queue``."""
    return f"{queue}.dead-letter"


def declare_intake(channel: pika.adapters.blocking_connection.BlockingChannel, queue: str) -> None:
    """The durable intake queue with its dead-letter exchange and queue (see the module)."""
    dead = dead_letter_name(queue)
    channel.exchange_declare(dead, exchange_type="fanout", durable=True)
    channel.queue_declare(dead, durable=True)
    channel.queue_bind(dead, dead)
    channel.queue_declare(queue, durable=True, arguments={"x-dead-letter-exchange": dead})


def backoff(first: float = 0.5, cap: float = 30.0) -> Iterator[float]:
    """Waits before reconnecting: doubling from ``first`` up to ``cap``, each with jitter
    (half to all of it), so consumers that lost one broker do not return in step."""
    wait = first
    while True:
        yield wait * random.uniform(0.5, 1.0)
        wait = min(cap, wait * 2)


def refusal(exc: BaseException, url: str, queue: str) -> BrokerError | None:
    """The :class:`BrokerError` for a failure that reconnecting cannot mend, or None."""
    if isinstance(
        exc,
        pika.exceptions.ProbableAuthenticationError | (pika.exceptions.ProbableAccessDeniedError),
    ):
        return BrokerError(
            f"the broker {shown_url(url)} refused the login or the virtual host: check the "
            "user, password and vhost of --broker"
        )
    if isinstance(exc, pika.exceptions.ChannelClosedByBroker):
        if exc.reply_code == 406:
            return BrokerError(
                f"queue {queue!r} exists with other arguments than a dead-letter exchange "
                f"({exc.reply_text}); run with --no-declare and give it one by a policy "
                f'(rabbitmqctl set_policy … \'{{"dead-letter-exchange": '
                f'"{dead_letter_name(queue)}"}}\')'
            )
        if exc.reply_code == 404:
            return BrokerError(f"no queue {queue!r} on the broker ({exc.reply_text})")
        if exc.reply_code == 403:
            return BrokerError(f"the broker refused access to {queue!r}: {exc.reply_text}")
    return None


__all__ = [
    "RECONNECT_ERRORS",
    "BrokerError",
    "backoff",
    "dead_letter_name",
    "declare_intake",
    "parameters",
    "refusal",
    "shown_url",
]
