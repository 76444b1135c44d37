"""``zhenshen demo`` and ``zhenshen corpus generate``, added through ``zhenshen_cli_commands``.

``demo`` is the main job of ``make demo``: a simulated year of the Chengdu desk on a store.
``corpus generate`` writes synthetic work orders for demos, benchmarks and pack trials, as JSON
Lines in the minimal case JSON, so they feed ``zhenshen ingest jsonl`` and ``zhenshen eval``
unchanged; the same arguments always write the same bytes. Both take the options, defaults and
exit codes of the built-in commands (``zhenshen_core.cli.options``).
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

from zhenshen_chengdu_gaoxin import PACK_ID
from zhenshen_chengdu_gaoxin.corpus import DEFAULT_END, DEFAULT_START, generate_cases
from zhenshen_core.cli.context import CliContext, pass_cli
from zhenshen_core.cli.exits import USAGE, CliExit, error_boundary
from zhenshen_core.cli.options import PACK_OPTION, STORE_OPTION, desk_for, parse_instant
from zhenshen_core.cli.output import echo_json

DEFAULT_CORPUS = "examples/corpus/sample-200.jsonl"


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


@click.command()
@STORE_OPTION
@PACK_OPTION
@click.option(
    "--corpus",
    default=DEFAULT_CORPUS,
    show_default=True,
    type=click.Path(dir_okay=False),
    help="JSONL work orders to ingest.",
)
@click.option(
    "--end",
    "end_text",
    default="2020-12-31T18:00",
    show_default=True,
    help="Simulated 'now' at the end of the demo year.",
)
@click.option("--seed", default=2020, show_default=True, type=int)
@click.option(
    "--html",
    "html_out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the HTML report with charts here.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@pass_cli
@error_boundary
def demo(
    cli_ctx: CliContext,
    store_url: str | None,
    pack_source: str | None,
    corpus: str,
    end_text: str,
    seed: int,
    html_out: Path | None,
    fmt: str,
) -> None:
    """Run the main job: a simulated year of the joint review desk on a store.

    Ingests CORPUS, decides every case with the pack, drives the cases it sends to joint
    review through meeting, opinion letter, confirmation, tasks and feedback, routes the rest
    to ordinary handling, sweeps the deadline clocks and prints the report.

    On a terminal each phase (ingest, decide, simulate, sweep, report) shows its progress with
    rate and ETA on stderr; the text output ends with one line on stderr giving the time of
    each (--format json prints the JSON alone).
    """
    from zhenshen_chengdu_gaoxin.demo import SimClock, run_demo
    from zhenshen_core.cli.progress import LiveProgress
    from zhenshen_core.desk.report import render_html, render_text

    if not Path(corpus).is_file():
        raise click.BadParameter(f"no such file: {corpus}", param_hint="--corpus")
    end = parse_instant(end_text, "--end")
    assert end is not None
    sim = SimClock()
    desk = desk_for(cli_ctx, store_url, pack_source or cli_ctx.config.pack or PACK_ID, now=sim)
    try:
        with LiveProgress() as progress:
            result = run_demo(desk, sim, corpus, end=end, seed=seed, progress=progress)
    finally:
        desk.store.close()
    if html_out is not None:
        html_out.parent.mkdir(parents=True, exist_ok=True)
        html_out.write_text(render_html(result.report), encoding="utf-8")
    if fmt == "json":
        echo_json(
            {
                "intake": result.intake.as_dict(),
                "alerts": len(result.sweep.alerts),
                "report": result.report.as_dict(),
                "skipped": result.skipped,
                "in_progress": result.in_progress,
                "after_end": result.after_end,
            }
        )
        return
    i = result.intake
    later = f", {result.after_end} received after the end" if result.after_end else ""
    click.echo(
        f"ingested {i.read} work orders: {i.created} new, {i.duplicates} duplicate, "
        f"{len(i.rejected)} rejected{later}"
    )
    click.echo(
        f"joint review: {len(result.joint_review_ids)}   ordinary handling: "
        f"{len(result.routed_ids)}   sweep alerts: {len(result.sweep.alerts)}   "
        f"still in progress at the end: {len(result.in_progress)}"
    )
    for failure in desk.failures:
        click.echo(f"warning: {failure.plugin} failed in {failure.hook}: {failure.error}", err=True)
    for line in result.skipped:
        click.echo(f"skipped: {line}", err=True)
    click.echo("")
    click.echo(render_text(result.report), nl=False)
    if html_out is not None:
        click.echo(f"\nHTML report: {html_out}")
    # On stderr: the time varies, the report on stdout must not (runs are compared).
    click.echo(
        f"demo: {result.intake.read} work orders in {progress.seconds:.1f} s "
        f"({progress.timings()})",
        err=True,
    )


COMMANDS = (demo, corpus_group)
