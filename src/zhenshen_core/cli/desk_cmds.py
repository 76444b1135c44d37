"""``zhenshen demo``, ``report``, ``sweep`` and ``letter``: the desk from a terminal."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from zhenshen_core.cli.cases import STORE_OPTION, _parse_instant, open_cli_store
from zhenshen_core.cli.context import CliContext, pass_cli
from zhenshen_core.cli.exits import OK, error_boundary
from zhenshen_core.cli.output import echo_json
from zhenshen_core.desk import Desk
from zhenshen_core.errors import ZhenshenError
from zhenshen_core.model.case import SHANGHAI

DEFAULT_PACK = "cn.chengdu.gaoxin"
DEFAULT_CORPUS = "examples/corpus/sample-200.jsonl"

PACK_OPTION = click.option(
    "--pack",
    "pack_source",
    default=None,
    help=f"Rule pack folder or pack id (default: 'pack' in zhenshen.toml, then {DEFAULT_PACK}).",
)
NOW_OPTION = click.option(
    "--now",
    "now_text",
    default=None,
    help="ISO date-time to treat as now (default: the real time).",
)


def _desk(
    cli_ctx: CliContext, store_url: str | None, pack_source: str | None, now: datetime | None = None
) -> Desk:

    pack = cli_ctx.load_pack(pack_source) if pack_source else None
    store = open_cli_store(cli_ctx, store_url)
    return Desk(store, pack=pack, host=cli_ctx.host, now=(lambda: now) if now else None)


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
    """
    from zhenshen_core.demo import SimClock, run_demo
    from zhenshen_core.report import render_html, render_text

    if not Path(corpus).is_file():
        raise click.BadParameter(f"no such file: {corpus}", param_hint="--corpus")
    end = _parse_instant(end_text, "--end")
    assert end is not None
    sim = SimClock(end)
    desk = _desk(cli_ctx, store_url, pack_source or cli_ctx.config.pack or DEFAULT_PACK)
    desk._now = sim
    try:
        result = run_demo(desk, sim, corpus, end=end, seed=seed)
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
            }
        )
        return
    i = result.intake
    click.echo(
        f"ingested {i.read} work orders: {i.created} new, {i.duplicates} duplicate, "
        f"{len(i.rejected)} rejected"
    )
    click.echo(
        f"joint review: {len(result.joint_review_ids)}   ordinary handling: "
        f"{len(result.routed_ids)}   sweep alerts: {len(result.sweep.alerts)}"
    )
    for failure in desk.failures:
        click.echo(f"warning: {failure.plugin} failed in {failure.hook}: {failure.error}", err=True)
    for line in result.skipped:
        click.echo(f"skipped: {line}", err=True)
    click.echo("")
    click.echo(render_text(result.report), nl=False)
    if html_out is not None:
        click.echo(f"\nHTML report: {html_out}")


@click.command()
@STORE_OPTION
@PACK_OPTION
@click.option(
    "--as-of",
    "as_of_text",
    default=None,
    metavar="INSTANT",
    help="The instant running clocks are measured against: an ISO date-time, or 'now'. "
    "Default: the newest event in the store, so the same data gives the same report "
    "whenever it is run (the report says which instant it used).",
)
@click.option("--now", "now_text", default=None, hidden=True, help="Old name of --as-of.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "html"]),
    default="text",
    show_default=True,
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to a file instead of stdout.",
)
@pass_cli
@error_boundary
def report(
    cli_ctx: CliContext,
    store_url: str | None,
    pack_source: str | None,
    as_of_text: str | None,
    now_text: str | None,
    fmt: str,
    output: Path | None,
) -> None:
    """The desk report: cases by domain and tier, deadlines kept, a 督办 view per department
    (cases led, on time, overdue, 退单, 按时办结率 / 满意率 / 退单率, monthly trend), the
    overdue cases with department and days overdue, satisfaction and 举一反三 proposals.

    Names come from the pack (domains, departments); ``--format json`` keeps the codes and
    gives the labels beside them; ``--format html`` adds charts (inline SVG, no scripts).

    \b
    Examples:
      zhenshen report --store sqlite:///desk.db                      # as of the newest event
      zhenshen report --store sqlite:///desk.db --as-of now -o today.html --format html
      zhenshen report --store sqlite:///desk.db --as-of 2020-12-31T18:00 --format json
    """
    from zhenshen_core.report import ReportLabels, build_report, render_html, render_text
    from zhenshen_core.storage.digest import latest_event_at

    if as_of_text is not None and now_text is not None:
        raise click.UsageError("give --as-of or --now (its old name), not both")
    asked = as_of_text if as_of_text is not None else now_text
    labels = ReportLabels.from_pack(_report_pack(cli_ctx, pack_source))
    store = open_cli_store(cli_ctx, store_url)
    try:
        found: datetime | None
        if asked is not None and asked.strip().lower() == "now":
            found, source = datetime.now(SHANGHAI), "now"
        elif asked is not None:
            found, source = _parse_instant(asked, "--as-of"), "given"
        else:
            found, source = latest_event_at(store), "data"
        if found is None:  # an empty store has no data instant
            found, source = datetime.now(SHANGHAI), "now"
        as_of = found
        built = build_report(store, as_of, labels=labels, as_of_source=source)
    finally:
        store.close()
    text = {
        "text": lambda: render_text(built),
        "json": lambda: json.dumps(built.as_dict(), ensure_ascii=False, indent=2) + "\n",
        "html": lambda: render_html(built),
    }[fmt]()
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output} (as of {as_of.isoformat()})", err=True)


def _report_pack(cli_ctx: CliContext, pack_source: str | None) -> Any:
    """The pack that names domains and departments. One asked for must load; without one, the
    configured or reference pack is used if it loads, and codes are shown if none does."""
    if pack_source:
        return cli_ctx.load_pack(pack_source)
    try:
        return cli_ctx.load_pack(cli_ctx.config.pack or DEFAULT_PACK)
    except ZhenshenError as exc:
        click.echo(f"warning: no pack to name domains and departments ({exc}); "
                   "showing codes (give --pack)", err=True)
        return None


@click.command()
@STORE_OPTION
@NOW_OPTION
@click.option("--limit", type=click.IntRange(min=1), default=1000, show_default=True)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@pass_cli
@error_boundary
def sweep(
    cli_ctx: CliContext, store_url: str | None, now_text: str | None, limit: int, fmt: str
) -> None:
    """Raise reminders (thresholds crossed) and 督办 notices (breaches) for due clocks."""
    now = _parse_instant(now_text, "--now") or datetime.now(SHANGHAI)
    desk = _desk(cli_ctx, store_url, None, now)
    try:
        result = desk.sweep(now, limit=limit)
    finally:
        desk.store.close()
    if fmt == "json":
        echo_json(
            {
                "alerts": [
                    {
                        "case_id": a.case_id,
                        "clock": a.clock,
                        "kind": a.kind,
                        "due_at": a.due_at.isoformat(),
                    }
                    for a in result.alerts
                ],
                "conflicts": result.conflicts,
            }
        )
        return
    for a in result.alerts:
        click.echo(f"{a.case_id}  {a.clock:<12} {a.kind:<7} due {a.due_at:%Y-%m-%d %H:%M}")
    click.echo(f"{len(result.alerts)} alert(s), {len(result.conflicts)} conflict(s)")
    raise SystemExit(OK)


@click.command()
@click.argument("case_id")
@STORE_OPTION
@PACK_OPTION
@click.option(
    "--renderer",
    default="markdown",
    show_default=True,
    help="Renderer plugin name (markdown, html, docx …).",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
@pass_cli
@error_boundary
def letter(
    cli_ctx: CliContext,
    case_id: str,
    store_url: str | None,
    pack_source: str | None,
    renderer: str,
    output: Path | None,
) -> None:
    """Render the 甄别审查意见书 (review opinion letter) of a case.

    The pack supplies the Chinese names of departments, experts and domains. The letter is
    checked first: its date is not before anything it cites, every name is the pack's, every
    measure has a department and a due day, every required expert's advice is recorded; a
    letter that fails exits 1 with every problem listed.
    """
    desk = _desk(cli_ctx, store_url, pack_source or cli_ctx.config.pack or DEFAULT_PACK)
    try:
        data = desk.render_letter(case_id, renderer)
    finally:
        desk.store.close()
    if output is None:
        click.echo(data.decode("utf-8") if renderer in ("markdown", "html") else data, nl=False)
    else:
        output.write_bytes(data)
        click.echo(f"wrote {output}", err=True)


def register(group: click.Group) -> None:
    for command in (demo, report, sweep, letter):
        group.add_command(command)
