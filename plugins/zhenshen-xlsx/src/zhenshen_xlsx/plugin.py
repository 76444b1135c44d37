"""Registers the ``xlsx`` intake channel and the ``zhenshen export xlsx`` command."""

from __future__ import annotations

from typing import Any

from zhenshen_core.plugins import CliCommands, IntakeChannel, hookimpl
from zhenshen_xlsx.reader import CHANNEL, channel_parts


@hookimpl
def zhenshen_intake_channels() -> list[IntakeChannel]:
    return [
        IntakeChannel(
            CHANNEL,
            "Excel workbooks (.xlsx), headers mapped by a profile (--profile, --sheet, "
            "--max-rows); rejected rows located at their cell",
            **channel_parts(),
        )
    ]


@hookimpl
def zhenshen_cli_commands() -> list[CliCommands]:
    # Imported on use: listing plugins must not load click commands and openpyxl.
    from zhenshen_xlsx.cli import export

    commands: list[Any] = [export]
    return [CliCommands("xlsx", commands, "zhenshen export xlsx")]
