"""Registers ``zhenshen consume`` and, when ``$ZHENSHEN_EVENTS_BROKER`` names a broker, the
``amqp-events`` notifier publishing every lifecycle event to ``zhenshen.events``."""

from __future__ import annotations

import os
from typing import Any

from zhenshen_core.plugins import CliCommands, Notification, Notifier, hookimpl

EVENTS_BROKER_ENV = "ZHENSHEN_EVENTS_BROKER"
DESK_ENV = "ZHENSHEN_DESK"


@hookimpl
def zhenshen_cli_commands() -> list[CliCommands]:
    # Imported on use: listing plugins must not load pika.
    from zhenshen_amqp.cli import consume

    commands: list[Any] = [consume]
    return [CliCommands("amqp", commands, "zhenshen consume")]


def _publish_once(notification: Notification) -> None:
    """One notice on a connection of its own: the plugin keeps no connection between calls
    (no module state); an embedding service registers :class:`EventsPlugin` to keep one."""
    from zhenshen_amqp.publisher import EventPublisher

    publisher = EventPublisher(os.environ[EVENTS_BROKER_ENV], os.environ.get(DESK_ENV) or "desk")
    try:
        publisher.send(notification)
    finally:
        publisher.close()


@hookimpl
def zhenshen_notifiers() -> list[Notifier]:
    if not os.environ.get(EVENTS_BROKER_ENV):
        return []
    return [
        Notifier(
            "amqp-events",
            "every lifecycle event to the topic exchange zhenshen.events "
            "(desk.<desk>.<event>, persistent, publisher confirms)",
            _publish_once,
        )
    ]


class EventsPlugin:
    """A plugin object for embedding code: ``host.register(EventsPlugin(publisher))`` keeps
    one connection for every notice (the entry point opens one per notice)."""

    def __init__(self, publisher: Any) -> None:
        self.publisher = publisher

    @hookimpl
    def zhenshen_notifiers(self) -> list[Notifier]:
        return [Notifier("amqp-events", "lifecycle events to zhenshen.events", self.publisher.send)]
