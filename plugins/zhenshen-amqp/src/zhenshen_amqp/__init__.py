"""RabbitMQ for zhenshen_core: ``zhenshen consume`` stores a queue's work orders exactly once
(acknowledged after the commit, poison messages dead-lettered); the back-sync turns the desk's
lifecycle events into the platform's status documents."""

from zhenshen_amqp.broker import BrokerError, dead_letter_name, declare_intake, shown_url
from zhenshen_amqp.consumer import Consumer, ConsumeStats
from zhenshen_amqp.events import EventsPlugin
from zhenshen_amqp.publisher import (
    EXCHANGE,
    EventPublisher,
    PublishError,
    event_document,
    routing_key,
)

__all__ = [
    "EXCHANGE",
    "BrokerError",
    "ConsumeStats",
    "Consumer",
    "EventPublisher",
    "EventsPlugin",
    "PublishError",
    "dead_letter_name",
    "declare_intake",
    "event_document",
    "routing_key",
    "shown_url",
]
