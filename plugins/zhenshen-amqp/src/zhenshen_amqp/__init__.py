"""RabbitMQ for zhenshen_core: ``zhenshen consume`` stores a queue's work orders exactly once
(acknowledged after the commit, poison messages dead-lettered); the back-sync turns the desk's
lifecycle events into the platform's status documents."""

from zhenshen_amqp.broker import BrokerError, dead_letter_name, declare_intake, shown_url
from zhenshen_amqp.consumer import Consumer, ConsumeStats

__all__ = [
    "BrokerError",
    "ConsumeStats",
    "Consumer",
    "dead_letter_name",
    "declare_intake",
    "shown_url",
]
