"""Shared output helpers: rich for people, plain JSON for machines (tests pin the width)."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import click
from rich.console import Console

FORMAT_OPTION = click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text for people, json for machines.",
)


def console(stderr: bool = False) -> Console:
    """A console that respects NO_COLOR and a fixed width under tests (COLUMNS)."""
    width = int(os.environ["COLUMNS"]) if os.environ.get("COLUMNS", "").isdigit() else None
    return Console(
        file=sys.stderr if stderr else sys.stdout,
        width=width,
        no_color="NO_COLOR" in os.environ,
        highlight=False,
        soft_wrap=False,
    )


def echo_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, default=str))
