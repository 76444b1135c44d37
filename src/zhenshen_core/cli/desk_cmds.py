"""``zhenshen report``, ``sweep`` and ``letter``: the desk from a terminal."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from zhenshen_core.cli.context import CliContext, pass_cli
from zhenshen_core.cli.exits import LOAD_ERROR, OK, CliExit, error_boundary
from zhenshen_core.cli.options import (
    NOW_OPTION,
    PACK_OPTION,
    STORE_OPTION,
    desk_for,
    open_cli_store,
    pack_or_default,
    parse_instant,
)
from zhenshen_core.cli.output import echo_json
from zhenshen_core.cli.personal import SHOW_PERSONAL_DATA_OPTION, Disclosure
from zhenshen_core.errors import ZhenshenError
from zhenshen_core.model.case import SHANGHAI

if TYPE_CHECKING:
    from zhenshen_core.desk import SweepResult
    from zhenshen_core.rules import ResolvedPack

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
@SHOW_PERSONAL_DATA_OPTION
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
    show_personal_data: bool,
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
    from zhenshen_core.desk.report import ReportLabels, build_report, render_html, render_text
    from zhenshen_core.storage.digest import latest_event_at

    if as_of_text is not None and now_text is not None:
        raise click.UsageError("give --as-of or --now (its old name), not both")
    asked = as_of_text if as_of_text is not None else now_text
    labels = ReportLabels.from_pack(_report_pack(cli_ctx, pack_source))
    shown = Disclosure.of(cli_ctx, show_personal_data, "report")
    store = open_cli_store(cli_ctx, store_url)
    try:
        shown.record(store, None, format=fmt)
        found: datetime | None
        if asked is not None and asked.strip().lower() == "now":
            found, source = datetime.now(SHANGHAI), "now"
        elif asked is not None:
            found, source = parse_instant(asked, "--as-of"), "given"
        else:
            found, source = latest_event_at(store), "data"
        if found is None:  # an empty store has no data instant
            found, source = datetime.now(SHANGHAI), "now"
        as_of = found
        built = build_report(store, as_of, labels=labels, as_of_source=source)
        shown.report(built, store)
    finally:
        store.close()
    # Titles were masked with their requesters' names; the whole output once more by what the
    # detector finds, the JSON form value by value.
    text = {
        "text": lambda: shown.text(render_text(built)),
        "json": lambda: (
            json.dumps(shown.document(built.as_dict()), ensure_ascii=False, indent=2) + "\n"
        ),
        "html": lambda: shown.text(render_html(built)),
    }[fmt]()
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output} (as of {as_of.isoformat()})", err=True)


def _report_pack(cli_ctx: CliContext, pack_source: str | None) -> ResolvedPack | None:
    """The pack that names domains and departments. One asked for must load; without one, the
    configured or default pack is used if it loads, and codes are shown if none does."""
    if pack_source:
        pack: ResolvedPack = cli_ctx.load_pack(pack_source)
        return pack
    try:
        source = pack_or_default(cli_ctx, None)
        if source is None:
            raise ZhenshenError("no pack is configured and no installed plugin marks a default")
        pack = cli_ctx.load_pack(source)
    except ZhenshenError as exc:
        click.echo(f"warning: no pack to name domains and departments ({exc}); "
                   "showing codes (give --pack)", err=True)
        return None
    return pack


def _kind_label(kind: str) -> str:
    return kind if kind == "breach" else f"{float(kind):.0%}"


def _sweep_summary(result: SweepResult, now: datetime) -> list[str]:
    """Counts per clock and kind: a sweep over a backlog is read as a table, not 14,000 lines."""
    counts = result.counts()
    kinds = sorted(
        {k for per_kind in counts.values() for k in per_kind},
        key=lambda k: (k == "breach", float(k) if k != "breach" else 0.0),
    )
    notices = sum(1 for a in result.alerts if a.kind == "breach")
    reminders = len(result.alerts) - notices
    lines = [
        f"swept {result.clocks} due clock(s) at {now:%Y-%m-%d %H:%M}: "
        f"{len(result.alerts)} alert(s) ({reminders} 催办 reminder(s), {notices} 督办 notice(s)), "
        f"{len(result.conflicts)} conflict(s), {len(result.incidents)} incident(s)"
    ]
    if counts:
        width = max(len("clock"), len("total"), *(len(c) for c in counts))
        header = [_kind_label(k) for k in kinds] + ["total"]
        lines.append("  " + "clock".ljust(width) + "".join(f"{h:>8}" for h in header))
        for clock in sorted(counts):
            row = [counts[clock].get(k, 0) for k in kinds]
            cells = "".join(f"{n:>8}" for n in [*row, sum(row)])
            lines.append("  " + clock.ljust(width) + cells)
        totals = [sum(per_kind.get(k, 0) for per_kind in counts.values()) for k in kinds]
        cells = "".join(f"{n:>8}" for n in [*totals, sum(totals)])
        lines.append("  " + "total".ljust(width) + cells)
    if result.conflicts:
        lines.append(
            "conflicts (changed meanwhile; the next sweep takes them): "
            + " ".join(result.conflicts)
        )
    for incident in result.incidents:
        lines.append(
            f"incident {incident.case_id} {incident.clock} (attempt {incident.attempts}, "
            f"next try {incident.next_retry_at:%Y-%m-%d %H:%M}): {incident.reason}"
        )
    if result.resolved:
        lines.append(f"{len(result.resolved)} earlier incident(s) resolved")
    if result.held:
        lines.append(f"{result.held} clock(s) held back by open incidents until their retry time")
    if result.notices_delivered or result.notices_failed:
        lines.append(
            f"notices: {result.notices_delivered} delivered, {result.notices_failed} failed "
            "(kept in the outbox: zhenshen outbox list)"
        )
    if result.limit_reached:
        lines.append(f"the limit of {result.clocks} clock(s) was reached: sweep again for the rest")
    return lines


@click.command()
@STORE_OPTION
@NOW_OPTION
@click.option("--limit", type=click.IntRange(min=1), default=1000, show_default=True)
@click.option("-v", "--verbose", is_flag=True, help="Also list every alert, one line each.")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@pass_cli
@error_boundary
def sweep(
    cli_ctx: CliContext,
    store_url: str | None,
    now_text: str | None,
    limit: int,
    verbose: bool,
    fmt: str,
) -> None:
    """Raise reminders (thresholds crossed) and 督办 notices (breaches) for due clocks.

    Each clock raises one alert per sweep, for the highest it crossed: a clock found long
    overdue gets one 督办 notice, and the 50 % and 75 % reminders it skipped are marked done.
    Prints a summary (alerts per clock and kind); -v lists every alert, --format json gives
    the list and the counts.

    One case never stops the sweep: a clock whose case cannot be handled is an incident
    (printed with its reason, kept in the store, counted by the report) and is tried again
    after a backoff (1 minute, doubling up to 6 hours); the others are swept. Outbox notices
    left pending (a crash, a failing notifier) are delivered first. Exit 0 unless the store
    cannot be reached (75).
    """
    now = parse_instant(now_text, "--now") or datetime.now(SHANGHAI)
    desk = desk_for(cli_ctx, store_url, None, lambda: now)
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
                "clocks": result.clocks,
                "limit_reached": result.limit_reached,
                "counts": result.counts(),
                "incidents": [i.model_dump(mode="json") for i in result.incidents],
                "resolved": [i.model_dump(mode="json") for i in result.resolved],
                "held": result.held,
                "notices": {
                    "delivered": result.notices_delivered,
                    "failed": result.notices_failed,
                },
            }
        )
        return
    if verbose:
        for a in result.alerts:
            click.echo(
                f"{a.case_id}  {a.clock:<12} {_kind_label(a.kind):<7} due {a.due_at:%Y-%m-%d %H:%M}"
            )
    for line in _sweep_summary(result, now):
        click.echo(line)
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
@SHOW_PERSONAL_DATA_OPTION
@pass_cli
@error_boundary
def letter(
    cli_ctx: CliContext,
    case_id: str,
    store_url: str | None,
    pack_source: str | None,
    renderer: str,
    output: Path | None,
    show_personal_data: bool,
) -> None:
    """Render the 甄别审查意见书 (review opinion letter) of a case.

    The pack supplies the Chinese names of departments, experts and domains. The letter is
    checked first: its date is not before anything it cites, every name is the pack's, every
    measure has a department and a due day, every required expert's advice is recorded; a
    letter that fails exits 1 with every problem listed. The letter goes to the enterprise
    and the departments: personal data in it is masked (a confidential requester is 保密);
    --show-personal-data writes it as stored, and the read is logged.
    """
    shown = Disclosure.of(cli_ctx, show_personal_data, "letter")
    source = pack_or_default(cli_ctx, pack_source)
    if source is None:
        raise CliExit(
            "no pack to name departments, experts and domains: give --pack (no pack is "
            "configured and no installed plugin marks a default)",
            LOAD_ERROR,
        )
    desk = desk_for(cli_ctx, store_url, source)
    try:
        shown.record(desk.store, [desk.store.get(case_id).id], renderer=renderer)
        data = desk.render_letter(case_id, renderer, show_personal_data=show_personal_data)
    finally:
        desk.store.close()
    if renderer in ("markdown", "html"):
        data = shown.text(data.decode("utf-8")).encode("utf-8")
    if output is None:
        click.echo(data.decode("utf-8") if renderer in ("markdown", "html") else data, nl=False)
    else:
        output.write_bytes(data)
        click.echo(f"wrote {output}", err=True)


def register(group: click.Group) -> None:
    for command in (report, sweep, letter):
        group.add_command(command)
