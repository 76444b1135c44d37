"""Registers ``zhenshen consume`` (the ``amqp-events`` notifier is the entry point
``amqp-events``, :mod:`zhenshen_amqp.events`)."""

from __future__ import annotations

from typing import Any

from zhenshen_core.plugins import CliCommands, hookimpl


@hookimpl
def zhenshen_cli_commands() -> list[CliCommands]:
    # Imported on use: listing plugins must not load pika.
    from zhenshen_amqp.cli import consume

    commands: list[Any] = [consume]
    return [CliCommands("amqp", commands, "zhenshen consume")]
