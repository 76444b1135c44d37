"""``zhenshen corpus generate``: synthetic work orders for demos, benchmarks and pack trials.

The output is JSON Lines in the minimal case JSON, so it feeds ``zhenshen ingest jsonl`` and
``zhenshen eval`` unchanged; the same arguments always write the same bytes.
"""

from __future__ import annotations

import io
import json
import os
import sys
from datetime import date
from pathlib import Path
from typing import Any

import click

from zhenshen_core.cli.exits import USAGE, CliExit, error_boundary
from zhenshen_core.corpus import DEFAULT_END, DEFAULT_START, generate_cases


class _DateType(click.ParamType[date]):
    name = "YYYY-MM-DD"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value).strip())
        except ValueError:
            self.fail(f"{value!r} is not a date YYYY-MM-DD", param, ctx)


@click.group("corpus")
def corpus_group() -> None:
    """Synthetic 12345-style enterprise work orders (no real people or firms)."""


@corpus_group.command("generate")
@click.argument("n", type=click.IntRange(min=0))
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@click.option(
    "--start",
    type=_DateType(),
    default=DEFAULT_START.isoformat(),
    show_default=True,
    help="First arrival day.",
)
@click.option(
    "--end",
    type=_DateType(),
    default=DEFAULT_END.isoformat(),
    show_default=True,
    help="Last arrival day (inclusive).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to FILE instead of standard output.",
)
@error_boundary
def generate(n: int, seed: int, start: date, end: date, output: Path | None) -> None:
    """Write N synthetic work orders as JSON Lines.

    About 7 % carry features that escalate them to joint review (several departments, a licensed
    firm that cannot operate, a large amount, repeated contact, two returns between departments,
    social-risk words). Example:

        zhenshen corpus generate 200 --seed 2020 -o sample.jsonl
    """
    if end < start:
        raise CliExit(f"--end {end} is before --start {start}", USAGE)
    lines = (
        json.dumps(c, ensure_ascii=False) + "\n"
        for c in generate_cases(n, seed=seed, start=start, end=end)
    )
    if output is None:
        try:
            for line in lines:
                sys.stdout.write(line)
            sys.stdout.flush()
        except BrokenPipeError:
            # `zhenshen corpus generate 1000 | head` is normal use: stop quietly, as cat does.
            _silence_stdout()
        return
    with output.open("w", encoding="utf-8", newline="\n") as out:
        out.writelines(lines)
    click.echo(f"wrote {n} cases to {output}", err=True)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not complain again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        pass  # no real file descriptor (e.g. under a test runner): nothing left to flush


def register(group: click.Group) -> None:
    group.add_command(corpus_group)
