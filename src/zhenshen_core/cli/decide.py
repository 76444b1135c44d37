"""``zhenshen decide`` and ``zhenshen clocks recompute``: bringing stored cases up to date.

Both are what an operator runs after something the cases depend on changed — a new pack
version, or newer calendar data — and both are idempotent, so a cron job can run them again.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import click
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from zhenshen_core.cli.context import PACK_ENV, PACK_PATH_OPTION, CliContext, pass_cli
from zhenshen_core.cli.exits import OK, PROBLEMS, USAGE, error_boundary, shown_message
from zhenshen_core.cli.options import STORE_OPTION, load_cli_pack, open_cli_store, pack_label
from zhenshen_core.cli.output import FORMAT_OPTION, console, echo_json
from zhenshen_core.errors import ZhenshenError

PACK_FOR_DECIDING = click.option(
    "--pack",
    "pack_source",
    envvar=PACK_ENV,
    default=None,
    metavar="PACK",
    help="Rule pack folder or pack id (default: $ZHENSHEN_PACK, then 'pack' in zhenshen.toml).",
)


def _progress(fmt: str, what: str) -> Progress:
    show = fmt == "text" and console(stderr=True).is_terminal
    return Progress(
        TextColumn(what),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeRemainingColumn(),
        console=console(stderr=True),
        disable=not show,
        transient=True,
    )


@click.command("decide")
@STORE_OPTION
@click.option("--pending", is_flag=True, help="Every active case that has no decision yet.")
@click.option(
    "--case",
    "case_ids",
    multiple=True,
    metavar="ID",
    help="This case (repeatable).",
)
@click.option("--all", "all_cases", is_flag=True, help="Every active case.")
@PACK_FOR_DECIDING
@PACK_PATH_OPTION
@click.option("--actor", default="rules", show_default=True, help="Recorded as the event actor.")
@FORMAT_OPTION
@pass_cli
@error_boundary
def decide_cmd(
    cli_ctx: CliContext,
    store_url: str | None,
    pending: bool,
    case_ids: tuple[str, ...],
    all_cases: bool,
    pack_source: str | None,
    actor: str,
    fmt: str,
) -> None:
    """Decide or re-decide stored cases with a rule pack, e.g. after a pack change.

    Choose the cases with exactly one of --pending (active cases never decided, such as those
    ingested without a pack), --case ID (repeatable) or --all (every active case). Finished
    cases (closed, withdrawn, merged, not accepted) keep the decision they had.

    Idempotent: a case whose outcome (severity, tier, chair, departments, experts, tags,
    deadlines, actions) is the same as its recorded decision records nothing, whatever pack
    version produced either; running the command twice changes nothing the second time. A
    changed outcome is one 'decide' event carrying the pack's id, version and hash, plus a
    'clock_update' per clock it starts or changes: a clock newly named starts at the case's
    receipt, a running clock whose period changed is counted again from its start with the new
    period (pauses, extensions and alerts already sent are kept; a 'deadline_changed'
    notification goes out), and a clock the pack no longer names keeps running. Tags are
    added, never removed.

    Exit 0 when every selected case is decided or unchanged (also when none is selected), 1
    when some could not be decided (each listed on stderr), 2 for a usage error (no pack, no
    or several selections), 3 when the pack or the store cannot be loaded.

    \b
    Example:
      zhenshen decide --store sqlite:///desk.db --pending --pack cn.chengdu.gaoxin
    """
    from zhenshen_core.desk import Desk

    chosen = sum((pending, bool(case_ids), all_cases))
    if chosen != 1:
        raise click.UsageError("choose exactly one of --pending, --case ID or --all")
    source = cli_ctx.pack_source(pack_source)
    if source is None:
        raise click.UsageError(
            "no rule pack: give --pack, set ZHENSHEN_PACK or 'pack' in zhenshen.toml"
        )
    pack = load_cli_pack(cli_ctx, source)
    calendar = cli_ctx.calendar()
    store = open_cli_store(cli_ctx, store_url)
    desk = Desk(store, pack=pack, host=cli_ctx.host, calendar=calendar)
    counts = {"decided": 0, "changed": 0, "unchanged": 0}
    touched: dict[str, list[str]] = {"decided": [], "changed": []}
    failed: list[tuple[str, str]] = []
    try:
        selected, total = _selection(desk, pending, case_ids)
        with _progress(fmt, "deciding") as bar:
            task = bar.add_task("decide", total=total)
            for case_id in selected:
                try:
                    outcome = desk.redecide(case_id, actor=actor).outcome
                except ZhenshenError as exc:
                    failed.append((case_id, shown_message(str(exc))))
                else:
                    counts[outcome] += 1
                    if outcome in touched:
                        touched[outcome].append(case_id)
                bar.advance(task)
    finally:
        store.close()
    if fmt == "json":
        echo_json(
            {
                "pack": {"id": pack.id, "version": pack.version, "sha256": pack.sha256},
                "decided": touched["decided"],
                "changed": touched["changed"],
                "unchanged": counts["unchanged"],
                "failed": [{"case_id": c, "error": e} for c, e in failed],
            }
        )
    else:
        for case_id, error in failed:
            click.echo(f"{case_id}: cannot decide: {error}", err=True)
        for failure in desk.failures:
            click.echo(
                f"warning: plugin {failure.plugin} failed in {failure.hook}: {failure.error}",
                err=True,
            )
        click.echo(
            f"{counts['decided']} decided, {counts['changed']} changed, "
            f"{counts['unchanged']} unchanged, {len(failed)} failed — pack {pack_label(pack)}"
        )
    raise SystemExit(PROBLEMS if failed else OK)


def _selection(desk: Any, pending: bool, case_ids: tuple[str, ...]) -> tuple[Iterator[str], int]:
    """The ids to decide and how many there are (for the progress bar)."""
    if case_ids:
        return iter(dict.fromkeys(case_ids)), len(set(case_ids))
    from zhenshen_core.model.enums import CaseStatus
    from zhenshen_core.model.lifecycle import TERMINAL
    from zhenshen_core.storage.protocol import CaseQuery

    query = CaseQuery(status=[s for s in CaseStatus if s not in TERMINAL])
    if not pending:
        return (c.id for c in desk.store.query(query)), desk.store.count(query)
    # Undecided cases have no column of their own: read the active cases once, keep the ids.
    ids = [c.id for c in desk.store.query(query) if c.decision is None]
    return iter(ids), len(ids)


@click.group("clocks")
def clocks_group() -> None:
    """Deadline clocks across the stored cases."""


@clocks_group.command("recompute")
@STORE_OPTION
@click.option(
    "--calendar",
    "calendar_name",
    default=None,
    metavar="NAME|FILE",
    help="'cn', a plugin calendar's name or a calendar layer file (default: "
    "$ZHENSHEN_CALENDAR, then 'calendar' in zhenshen.toml, then cn).",
)
@click.option(
    "--policy",
    type=click.Choice(["provisional", "strict"]),
    default=None,
    help="Past the calendar's data (default: $ZHENSHEN_CALENDAR_POLICY, then "
    "'calendar_policy' in zhenshen.toml, then provisional).",
)
@click.option("--actor", default="calendar", show_default=True, help="Recorded as the actor.")
@FORMAT_OPTION
@pass_cli
@error_boundary
def recompute_cmd(
    cli_ctx: CliContext,
    store_url: str | None,
    calendar_name: str | None,
    policy: str | None,
    actor: str,
    fmt: str,
) -> None:
    """Recompute every provisional clock on the calendar installed now.

    Run it after newer holiday data arrives — a zhenshen-core release with next year's State
    Council notice, a calendar plugin, or a layer file (--calendar cn-2027.yaml; set the same
    'calendar' in zhenshen.toml so that the desk keeps using it). A clock is provisional when
    its due date rests on estimated days past the published notices. Each clock whose due date
    moves gets a 'clock_update' event and a 'deadline_changed' notification, as for an
    extension; a clock the data now covers loses the provisional flag. A second run changes
    nothing. 'zhenshen sweep' does the same when it finds the calendar changed.

    Exit 0 when every clock was recomputed, 1 when some case could not be (changed meanwhile:
    run again; or beyond a strict calendar), 2 for a usage error, 3 when the store or the
    calendar cannot be loaded.

    \b
    Example:
      zhenshen clocks recompute --store sqlite:///desk.db --calendar cn-2027.yaml
    """
    from zhenshen_core.desk import Desk

    calendar = cli_ctx.calendar(calendar_name, policy)
    store = open_cli_store(cli_ctx, store_url)
    desk = Desk(store, host=cli_ctx.host, calendar=calendar)
    try:
        result = desk.recompute_provisional_clocks(actor=actor)
    finally:
        store.close()
    problems = [*((c, "changed meanwhile; run again") for c in result.conflicts), *result.failures]
    if fmt == "json":
        echo_json(
            {
                "calendar": {"name": result.calendar, "version": result.version},
                "checked": result.checked,
                "changed": [
                    {
                        "case_id": c.case_id,
                        "clock": c.clock,
                        "previous_due": c.previous_due.isoformat(),
                        "due": c.due.isoformat(),
                        "provisional": c.provisional,
                    }
                    for c in result.changed
                ],
                "settled": result.settled,
                "problems": [{"case_id": c, "error": shown_message(e)} for c, e in problems],
            }
        )
    else:
        for c in result.changed:
            still = "  (still provisional)" if c.provisional else ""
            click.echo(
                f"{c.case_id}  {c.clock}  due {c.previous_due:%Y-%m-%d %H:%M} -> "
                f"{c.due:%Y-%m-%d %H:%M}{still}"
            )
        for case_id, error in problems:
            click.echo(f"{case_id}: {shown_message(error)}", err=True)
        for failure in desk.failures:
            click.echo(
                f"warning: plugin {failure.plugin} failed in {failure.hook}: {failure.error}",
                err=True,
            )
        click.echo(
            f"{result.checked} provisional clock(s) checked on calendar {result.calendar} "
            f"({result.version[:12]}): {len(result.changed)} due date(s) moved, "
            f"{result.settled} no longer provisional, {len(problems)} problem(s)"
        )
    raise SystemExit(PROBLEMS if problems else OK)


def register(group: click.Group) -> None:
    group.add_command(decide_cmd)
    group.add_command(clocks_group)


__all__ = ["USAGE", "register"]
