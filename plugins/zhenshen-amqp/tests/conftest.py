"""Fixtures of the amqp plugin's tests (defined in ``amqp_broker``, which tests import by
name for its helpers)."""

from amqp_broker import broker, run, spawn

__all__ = ["broker", "run", "spawn"]
