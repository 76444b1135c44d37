"""Registers ``zhenshen serve`` and ``zhenshen keys``."""

from __future__ import annotations

from typing import Any

from zhenshen_core.plugins import CliCommands, hookimpl


@hookimpl
def zhenshen_cli_commands() -> list[CliCommands]:
    # Imported on use: listing plugins must not import FastAPI and uvicorn.
    from zhenshen_server.cli import keys, serve

    commands: list[Any] = [serve, keys]
    return [CliCommands("server", commands, "zhenshen serve, zhenshen keys")]
