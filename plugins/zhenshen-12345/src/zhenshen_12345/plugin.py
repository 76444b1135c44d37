"""Registers the ``12345`` intake channel."""

from __future__ import annotations

from zhenshen_12345.reader import CHANNEL, channel_parts
from zhenshen_core.plugins import IntakeChannel, Notifier, hookimpl


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


@hookimpl
def zhenshen_notifiers() -> list[Notifier]:
    """The back-sync to a folder, when ``$ZHENSHEN_12345_OUTBOX`` names one."""
    from zhenshen_12345.folder import from_environment

    folder = from_environment()
    if folder is None:
        return []
    return [
        Notifier(
            "12345-backsync",
            f"12345 status documents (签收, 受理, 退单, 延期申请, 办结, 回访) to {folder.folder}",
            folder.send,
        )
    ]
