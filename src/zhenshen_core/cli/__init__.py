"""The ``zhenshen`` command-line interface."""

from zhenshen_core.cli.main import build_cli, cli, main

__all__ = ["build_cli", "cli", "main"]
