"""Registers the ``12345`` intake channel."""

from __future__ import annotations

from zhenshen_12345.reader import CHANNEL, channel_parts
from zhenshen_core.plugins import IntakeChannel, hookimpl


@hookimpl
def zhenshen_intake_channels() -> list[IntakeChannel]:
    return [
        IntakeChannel(
            CHANNEL,
            "a 12345 platform's work orders (.json, .jsonl, .csv, .xlsx export) mapped by a "
            "profile (--profile, --sheet)",
            **channel_parts(),
        )
    ]
