"""The ``amqp-events`` notifier, registered when ``$ZHENSHEN_EVENTS_BROKER`` names a broker:
every lifecycle event to the topic exchange ``zhenshen.events`` (see
:mod:`zhenshen_amqp.publisher`).

A plugin module keeps no state, so this notifier opens a connection per notice (about 12 ms on
a local broker): right for the sweep and the service, whose events come a few at a time. A
process that sends many — ``zhenshen consume`` — swaps it for :class:`EventsPlugin` over one
publisher for its whole run (:func:`one_connection`), and so should embedding code.
"""

from __future__ import annotations

import os
from typing import Any

from zhenshen_core.plugins import Notification, Notifier, PluginHost, hookimpl

EVENTS_BROKER_ENV = "ZHENSHEN_EVENTS_BROKER"
DESK_ENV = "ZHENSHEN_DESK"
EXCHANGE_ENV = "ZHENSHEN_EVENTS_EXCHANGE"
NAME = "amqp-events"
DESCRIPTION = (
    "every lifecycle event to the topic exchange zhenshen.events "
    "(desk.<desk>.<event>, persistent, publisher confirms)"
)


def _settings() -> tuple[str, str, str] | None:
    """(broker URL, desk, exchange) from the environment, or None when no broker is named."""
    from zhenshen_amqp.publisher import EXCHANGE

    url = os.environ.get(EVENTS_BROKER_ENV)
    if not url:
        return None
    return url, os.environ.get(DESK_ENV) or "desk", os.environ.get(EXCHANGE_ENV) or EXCHANGE


def _publish_once(notification: Notification) -> None:
    from zhenshen_amqp.publisher import EventPublisher

    settings = _settings()
    if settings is None:
        raise RuntimeError(f"${EVENTS_BROKER_ENV} is no longer set")
    publisher = EventPublisher(*settings)
    try:
        publisher.send(notification)
    finally:
        publisher.close()


@hookimpl
def zhenshen_notifiers() -> list[Notifier]:
    if _settings() is None:
        return []
    return [Notifier(NAME, DESCRIPTION, _publish_once)]


class EventsPlugin:
    """``host.register(EventsPlugin(publisher))``: the ``amqp-events`` notifier over one
    :class:`~zhenshen_amqp.publisher.EventPublisher` (one connection for every notice)."""

    def __init__(self, publisher: Any) -> None:
        self.publisher = publisher

    @hookimpl
    def zhenshen_notifiers(self) -> list[Notifier]:
        return [Notifier(NAME, DESCRIPTION, self.publisher.send)]


def one_connection(host: PluginHost) -> Any | None:
    """In ``host``, put the ``amqp-events`` notifier of this module (a connection per notice)
    on one publisher instead; the publisher, to close when done, or None when the notifier is
    not in use (the variable unset, or this module not loaded)."""
    import sys

    settings = _settings()
    module = sys.modules[__name__]
    if settings is None or not host.pm.is_registered(module):
        return None
    from zhenshen_amqp.publisher import EventPublisher

    publisher = EventPublisher(*settings)
    host.pm.unregister(module)
    host.register(EventsPlugin(publisher), name=f"{NAME}-one-connection")
    return publisher


__all__ = ["DESK_ENV", "EVENTS_BROKER_ENV", "EXCHANGE_ENV", "EventsPlugin", "one_connection"]
