"""``zhenshen ingest``, ``zhenshen cases …`` and ``zhenshen schema case``."""

from __future__ import annotations

import json
import os
from datetime import datetime
from typing import Any

import click

from zhenshen_core.cli.context import PACK_ENV, CliContext, pass_cli
from zhenshen_core.cli.exits import OK, PROBLEMS, USAGE, error_boundary
from zhenshen_core.cli.options import (
    DECIDE_PACK_OPTION,
    INTAKE_ACTOR_OPTION,
    STORE_OPTION,
    calendar_label,
    load_cli_pack,
    open_cli_store,
    pack_label,
    parse_instant,
)
from zhenshen_core.cli.output import FORMAT_OPTION, Column, console, echo_json, print_table
from zhenshen_core.cli.personal import SHOW_PERSONAL_DATA_OPTION, Disclosure
from zhenshen_core.cli.progress import LiveProgress
from zhenshen_core.intake import count_source, ingest_source
from zhenshen_core.intake.window import ReceivedWindow, WindowError
from zhenshen_core.model.case import SHANGHAI, Case
from zhenshen_core.model.enums import CaseStatus
from zhenshen_core.model.lifecycle import PERSON_EVENTS
from zhenshen_core.storage.protocol import CaseQuery, CaseStore
from zhenshen_core.textio import json_loads

CHANNEL_OPTIONS = "zhenshen.channel_options"


class IngestCommand(click.Command):
    """``ingest`` taking the channel's own options (``--profile P``, ``--sheet NAME``) among
    its own: any ``--NAME VALUE`` or ``--NAME=VALUE`` that is not an option of ``ingest`` goes
    to the channel, which names what it takes when it does not know one."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        own: set[str] = set()
        for param in self.get_params(ctx):
            if isinstance(param, click.Option):
                own.update(param.opts)
                own.update(param.secondary_opts)
        kept: list[str] = []
        found: list[tuple[str, str]] = []
        i = 0
        while i < len(args):
            arg = args[i]
            if arg == "--":
                kept.extend(args[i:])
                break
            name, eq, value = arg[2:].partition("=")
            if arg.startswith("--") and name and f"--{name}" not in own:
                if not eq:
                    if i + 1 >= len(args):
                        raise click.UsageError(f"option --{name} needs a value", ctx)
                    i += 1
                    value = args[i]
                found.append((name, value))
            else:
                kept.append(arg)
            i += 1
        ctx.meta[CHANNEL_OPTIONS] = found
        return super().parse_args(ctx, kept)


def channel_options(ctx: click.Context, channel: Any) -> dict[str, str]:
    """The channel options given to ``ingest``, checked against what the channel declares:
    an unknown one is a usage error naming the channel's options (and ingest's own, for a
    typo of one of those)."""
    import difflib

    from zhenshen_core.errors import ChannelOptionError

    options: dict[str, str] = {}
    for name, value in ctx.meta.get(CHANNEL_OPTIONS, []):
        if name in options:
            raise click.UsageError(f"option --{name} is given twice", ctx)
        options[name] = value
    declared = {o.name for o in channel.options}
    unknown = sorted(set(options) - declared)
    if unknown:
        message = str(ChannelOptionError(channel.name, unknown, [o.name for o in channel.options]))
        own = [o for p in ctx.command.params if isinstance(p, click.Option) for o in p.opts]
        close = difflib.get_close_matches(f"--{unknown[0]}", own, n=1)
        if close:
            message += f"; did you mean {close[0]}?"
        raise click.UsageError(message, ctx)
    return options


@click.command(cls=IngestCommand)
@click.argument("channel")
@click.argument("source", type=click.Path(allow_dash=True))
@STORE_OPTION
@DECIDE_PACK_OPTION(
    "Decide every case with this rule pack (folder or pack id) before it is stored "
    "(default: $ZHENSHEN_PACK, then 'pack' in zhenshen.toml; none: stored undecided)."
)
@FORMAT_OPTION
@INTAKE_ACTOR_OPTION
@click.option(
    "--dry-run",
    is_flag=True,
    help="Read, map and validate the first records (--limit) and show each case field beside "
    "the source field(s) it came from; store nothing, decide nothing, open no store.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=None,
    help="With --dry-run: how many records to show (default 5).",
)
@click.option(
    "--received-window",
    "received_window",
    default=None,
    metavar="FROM..TO",
    help="The received_at instants accepted, as ISO dates or date-times, an empty side "
    "for the default (default: 'received_window' in zhenshen.toml, else 2004-01-01 up to a "
    "day after now); a record received outside it is a dead letter.",
)
@pass_cli
@error_boundary
def ingest(
    cli_ctx: CliContext,
    channel: str,
    source: str,
    store_url: str | None,
    pack_source: str | None,
    fmt: str,
    actor: str,
    dry_run: bool,
    limit: int | None,
    received_window: str | None,
) -> None:
    """Read SOURCE (a file or '-') with intake CHANNEL and store the cases.

    A channel may take options of its own, given as --NAME VALUE anywhere after the command:
    the 12345 and xlsx channels take --profile PROFILE.yaml (a mapping profile, see 'zhenshen
    profile check'), xlsx also --sheet NAME. An option the channel does not take is a usage
    error naming the options it does. --dry-run shows what the first records would become.

    With a rule pack (--pack, $ZHENSHEN_PACK or 'pack' in zhenshen.toml) every case goes
    through the desk's receive pipeline before it is stored: graded, tiered, routed, its
    deadline clocks started (on the calendar of zhenshen.toml, provisional past the published
    notices), so the report and the sweep see it at once. Without a pack the cases are stored
    undecided (said once on stderr); 'zhenshen decide --pending' decides them later.

    Records that fail validation, or that cannot be decided, go to the store's dead letters
    with their line (or cell) and reason; the batch goes on. So does a record received
    outside --received-window (a phone number read as a time is the year 2410), and a CSV
    row whose quoted field runs on over what looks like the next record (a quote left open).
    A dead letter is kept once per source, line and text: ingesting the same file again
    counts it again instead of adding it twice. Exit 1 when any record was rejected. A
    source the channel cannot read at all (an encrypted workbook, a file whose header lacks
    the profile's required columns) is refused before anything is stored: exit 3.

    Prints one summary line (read, created, duplicate, rejected, seconds). On a terminal, a
    progress line on stderr shows the records done, the file's total, the rate and the ETA
    while it runs; piped or in CI nothing else is printed.

    \b
    Example:
      zhenshen ingest jsonl examples/corpus/sample-200.jsonl --store sqlite:///desk.db \\
        --pack cn.chengdu.gaoxin
    """
    if source != "-":
        from pathlib import Path

        if not Path(source).is_file():
            raise click.BadParameter(f"no such file: {source}", param_hint="SOURCE")
    host = cli_ctx.host
    # An unknown channel → the known ones; a bad option or profile → said before a store opens.
    adapter = host.intake_channel(channel)
    options = channel_options(click.get_current_context(), adapter)
    reader = adapter.reader(options)
    if limit is not None and not dry_run:
        raise click.BadParameter("goes with --dry-run", param_hint="--limit")
    window = _received_window(received_window or cli_ctx.config.received_window)
    if dry_run:
        from zhenshen_core.cli.dryrun import show_dry_run

        raise SystemExit(show_dry_run(host, channel, source, reader, limit or 5, fmt, window))
    pack_id = cli_ctx.pack_source(pack_source)
    pack = None
    if pack_id is not None:
        pack = load_cli_pack(cli_ctx, pack_id)
    calendar = cli_ctx.calendar() if pack is not None else None
    store = open_cli_store(cli_ctx, store_url)
    try:
        with LiveProgress() as progress:
            advance = progress.phase(
                "ingest",
                lambda: count_source(host, channel, source, reader=reader),
                unit="records",
            )
            if pack is None:
                summary = ingest_source(
                    source,
                    channel=channel,
                    store=store,
                    host=host,
                    actor=actor,
                    progress=advance,
                    reader=reader,
                    window=window,
                )
            else:
                from zhenshen_core.desk import Desk, DeskSettings

                settings = DeskSettings(received_window=window)
                desk = Desk(store, pack=pack, host=host, calendar=calendar, settings=settings)
                summary = desk.ingest(
                    channel, source, actor=actor, progress=progress, options=options
                )
                summary.notification_failures.extend(desk.failures)
    finally:
        store.close()
    if fmt == "json":
        data = {**summary.as_dict(), "seconds": round(progress.seconds, 3)}
        shown = Disclosure.of(cli_ctx, False, "ingest")
        data["rejections"] = shown.document(data["rejections"])
        if pack is not None:
            data["pack"] = {"id": pack.id, "version": pack.version, "sha256": pack.sha256}
        echo_json(data)
    else:
        click.echo(
            f"{summary.read} read, {summary.created} created, {summary.duplicates} duplicate, "
            f"{len(summary.rejected)} rejected (dead letters) in {progress.seconds:.1f} s"
        )
        if pack is not None:
            click.echo(f"decided with pack {pack_label(pack)}, calendar {calendar_label(calendar)}")
        shown = Disclosure.of(cli_ctx, False, "ingest")
        for rejected in summary.rejected:
            where = rejected.location or (f"{source}:{rejected.line}" if rejected.line else source)
            click.echo(f"{where}: rejected: {shown.text(rejected.reason)}", err=True)
        for failure in summary.notification_failures:
            click.echo(
                f"warning: plugin {failure.plugin} failed in {failure.hook}: {failure.error}",
                err=True,
            )
    if pack is None:
        click.echo(
            "note: no rule pack (--pack, $ZHENSHEN_PACK or 'pack' in zhenshen.toml): the cases "
            "are stored undecided; 'zhenshen decide --pending' decides them later",
            err=True,
        )
    raise SystemExit(OK if summary.ok else PROBLEMS)


def _received_window(text: str | None) -> ReceivedWindow:
    """The window of ``--received-window`` (or the config's), checked before a store opens."""
    if text is None:
        return ReceivedWindow()
    try:
        return ReceivedWindow.parse(text)
    except WindowError as exc:
        raise click.BadParameter(str(exc), param_hint="--received-window") from None


@click.group()
def cases() -> None:
    """List, show and move stored cases."""


#: Cases ``cases list`` shows when no --limit is given.
PAGE = 50

CASE_COLUMNS = (
    Column("id", whole=True),
    Column("received", whole=True, drop=1),
    Column("status", words=True, min_width=8),
    Column("domain", words=True, drop=2),
    Column("lead", whole=True, drop=3),
    Column("title", min_width=16),
)


def page_note(offset: int, shown: int, total: int) -> str:
    """What a page of ``cases list`` holds, and how to see the rest."""
    if total <= offset + shown and offset == 0:
        return f"{shown} case(s)"
    if not shown:
        return f"no cases after --offset {offset}: {total:,} match"
    note = f"cases {offset + 1}-{offset + shown} of {total:,}"
    rest = total - offset - shown
    if rest > 0:
        note += f"; {rest:,} more: --offset {offset + shown} for the next page, --limit 0 for all"
    return note


@cases.command("list")
@STORE_OPTION
@FORMAT_OPTION
@click.option("--status", multiple=True, type=click.Choice([s.value for s in CaseStatus]))
@click.option("--domain")
@click.option("--department", help="Lead or co department id.")
@click.option("--enterprise", help="Enterprise USCC.")
@click.option("--received-from", help="ISO date/time (inclusive).")
@click.option("--received-before", help="ISO date/time (exclusive).")
@click.option("--due-before", help="A running clock is due before this ISO date/time.")
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=PAGE,
    show_default=True,
    help="Cases to list; 0 lists them all.",
)
@click.option(
    "--offset",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Skip this many matching cases first (the next page: --offset 50).",
)
@SHOW_PERSONAL_DATA_OPTION
@pass_cli
@error_boundary
def list_cases(
    cli_ctx: CliContext,
    store_url: str | None,
    fmt: str,
    status: tuple[str, ...],
    domain: str | None,
    department: str | None,
    enterprise: str | None,
    received_from: str | None,
    received_before: str | None,
    due_before: str | None,
    limit: int,
    offset: int,
    show_personal_data: bool,
) -> None:
    """List cases matching the filters (all filters combine with AND), oldest first.

    One page of --limit cases at a time; when more match, stderr says how many and how to see
    them (--offset for the next page, --limit 0 for all). On a terminal the table fits the
    width: ids are never cut, titles wrap, and the lead department, domain and received time
    are left out, in that order, where they do not fit. Piped, nothing is cut. Personal data
    is masked (--show-personal-data shows it, and the read is logged).
    """
    shown = Disclosure.of(cli_ctx, show_personal_data, "cases list")
    query = CaseQuery(
        status=[CaseStatus(s) for s in status] or None,
        domain=domain,
        department=department,
        enterprise=enterprise,
        received_from=parse_instant(received_from, "--received-from"),
        received_before=parse_instant(received_before, "--received-before"),
        due_before=parse_instant(due_before, "--due-before"),
        limit=limit or None,
        offset=offset,
    )
    store = open_cli_store(cli_ctx, store_url)
    try:
        found = list(store.query(query))
        # Counting costs a query: only when there may be more, or some were skipped.
        full = bool(limit) and len(found) == limit
        total = store.count(query) if full or offset else len(found)
        shown.record(store, [c.id for c in found])
    finally:
        store.close()
    documents = [shown.case(c) for c in found]
    if fmt == "json":
        click.echo(json.dumps(documents, ensure_ascii=False))
    else:
        print_table(
            CASE_COLUMNS,
            (
                (
                    case.id,
                    case.received_at.strftime("%Y-%m-%d %H:%M"),
                    f"{case.status.value} {case.status.label}",
                    case.domain or "-",
                    case.lead_department or "-",
                    document["title"],
                )
                for case, document in zip(found, documents, strict=True)
            ),
        )
    click.echo(page_note(offset, len(found), total), err=True)


def _get(cli_ctx: CliContext, store_url: str | None, case_id: str) -> tuple[CaseStore, Case]:
    store = open_cli_store(cli_ctx, store_url)
    try:
        return store, store.get(case_id)
    except Exception:
        store.close()
        raise


@cases.command("show")
@click.argument("case_id")
@STORE_OPTION
@FORMAT_OPTION
@SHOW_PERSONAL_DATA_OPTION
@pass_cli
@error_boundary
def show_case(
    cli_ctx: CliContext, case_id: str, store_url: str | None, fmt: str, show_personal_data: bool
) -> None:
    """Show one case. Personal data is masked (138****5678, 张*; a confidential requester is
    保密); --show-personal-data shows it as stored, and the read is logged."""
    shown = Disclosure.of(cli_ctx, show_personal_data, "cases show")
    store, case = _get(cli_ctx, store_url, case_id)
    try:
        shown.record(store, [case.id])
    finally:
        store.close()
    data = shown.case(case)
    if fmt == "json":
        echo_json(data)
        return
    out = console()
    out.print(f"[bold]{case.id}[/bold]  {case.status.value} ({case.status.label})  v{case.version}")
    out.print(data["title"], markup=False)
    rows: list[tuple[str, str]] = []
    for key in (
        "channel",
        "external_id",
        "received_at",
        "appeal_type",
        "domain",
        "severity",
        "tier",
        "chair",
    ):
        rows.append((key, str(data.get(key))))
    if case.enterprise:
        rows.append(("enterprise", f"{data['enterprise']['name']} {case.enterprise.uscc or ''}"))
    requester = data.get("requester") or {}
    who = " ".join(str(requester[k]) for k in ("name", "phone") if requester.get(k))
    if who:
        rows.append(("requester", who))
    address = (data.get("location") or {}).get("address")
    if address:
        rows.append(("address", str(address)))
    rows.append(("departments", ", ".join(f"{d.id}({d.role.label})" for d in case.departments)))
    for name, clock in case.clocks.items():
        rows.append((f"clock {name}", f"{clock.period} due {clock.due_at.isoformat()}"))
    print_table((Column("field", whole=True), Column("value")), rows, show_header=False)
    if data.get("content"):
        out.print(data["content"], markup=False)


@cases.command("history")
@click.argument("case_id")
@STORE_OPTION
@FORMAT_OPTION
@SHOW_PERSONAL_DATA_OPTION
@pass_cli
@error_boundary
def history(
    cli_ctx: CliContext, case_id: str, store_url: str | None, fmt: str, show_personal_data: bool
) -> None:
    """Show the case's append-only event history (personal data in payloads masked;
    --show-personal-data shows it, and the read is logged)."""
    shown = Disclosure.of(cli_ctx, show_personal_data, "cases history")
    store = open_cli_store(cli_ctx, store_url)
    try:
        events = store.events(case_id)
        case = store.get(case_id)
        shown.record(store, [case_id])
    finally:
        store.close()
    documents = shown.events(events, case)
    if fmt == "json":
        echo_json(documents)
        return
    print_table(
        (
            Column("seq", justify="right", whole=True),
            Column("at", whole=True),
            Column("actor", words=True, drop=1),
            Column("event", whole=True),
            Column("from", whole=True),
            Column("to", whole=True),
        ),
        (
            (
                str(e.seq),
                e.at.strftime("%Y-%m-%d %H:%M"),
                doc["actor"],
                e.type,
                e.from_status.value if e.from_status else "-",
                e.to_status.value,
            )
            for e, doc in zip(events, documents, strict=True)
        ),
    )


def _refuse_actor(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        raise click.BadParameter(
            "is not taken: events record who runs the command ($ZHENSHEN_ACTOR, else 'actor' "
            "of a config given with --config, else your operating-system user)",
            param_hint="--actor",
        )


@cases.command("transition")
@click.argument("case_id")
@click.argument("event", type=click.Choice(sorted(PERSON_EVENTS)), metavar="EVENT")
@click.option("--data", "data", default=None, metavar="JSON", help="Event payload as JSON.")
@click.option(
    "--actor",
    default=None,
    hidden=True,
    expose_value=False,
    callback=_refuse_actor,
    help="Refused: the actor is who runs the command.",
)
@click.option("--at", "at", default=None, help="ISO date-time of the event (default: now).")
@click.option(
    "--expected-version",
    type=click.IntRange(min=1),
    default=None,
    help="Refuse (exit 75, nothing written) unless the case is at this version.",
)
@STORE_OPTION
@FORMAT_OPTION
@pass_cli
@error_boundary
def transition(
    cli_ctx: CliContext,
    case_id: str,
    event: str,
    data: str | None,
    at: str | None,
    expected_version: int | None,
    store_url: str | None,
    fmt: str,
) -> None:
    """Request lifecycle EVENT on CASE_ID (e.g. accept, start_screening, withdraw).

    EVENT is one a person may request (accept, reject, return_case, record_feedback,
    withdraw …); what only the desk records (decide, clock_update, supervise, update_facts)
    is refused. The event goes through the desk's steps: the clocks it stops or starts, a
    task's clock, the outbox notices. The actor recorded is who runs the command:
    $ZHENSHEN_ACTOR, else 'actor' of a config given with --config, else the operating-system
    user; there is no --actor, and an 'actor' in the payload is ignored.

    An event not allowed in the case's state, or whose payload or precondition fails, is
    refused with the reason (and the events allowed in that state): exit 1, nothing written.
    An unknown CASE_ID is exit 2.
    """
    actor = cli_ctx.actor()
    payload: dict[str, Any] = {}
    if data is not None:
        try:
            payload = json_loads(data)
        except json.JSONDecodeError as exc:
            raise click.BadParameter(
                f"not valid JSON: {exc.msg} at column {exc.colno}", param_hint="--data"
            ) from None
        if not isinstance(payload, dict):
            raise click.BadParameter("must be a JSON object", param_hint="--data")
        from zhenshen_core.intake.deadletters import unstorable_at

        unstorable = unstorable_at(payload)
        if unstorable is not None:  # no store could write it (a lone surrogate, NaN …)
            raise click.BadParameter(unstorable, param_hint="--data")
    when = parse_instant(at, "--at") or datetime.now(SHANGHAI)
    from zhenshen_core.desk import Desk

    # A 退单 re-runs the rules when a pack is configured ($ZHENSHEN_PACK, 'pack' in the config).
    source = cli_ctx.pack_source(os.environ.get(PACK_ENV)) if event == "return_case" else None
    pack = load_cli_pack(cli_ctx, source) if source else None
    store = open_cli_store(cli_ctx, store_url)
    try:
        calendar = cli_ctx.calendar()
        desk = Desk(store, pack=pack, host=cli_ctx.host, calendar=calendar, now=lambda: when)
        before = store.get(case_id).version
        new = desk.transition(
            case_id, event, payload, actor=actor, expected_version=expected_version, at=when
        )
        events = store.events(case_id)[before:]
    finally:
        store.close()
    for failure in desk.failures:
        click.echo(
            f"warning: plugin {failure.plugin} failed in {failure.hook}: {failure.error}", err=True
        )
    record = next((e for e in events if e.type == event), events[-1])
    if fmt == "json":  # the payload as `cases history` shows it: masked
        echo_json(Disclosure.of(cli_ctx, False, "cases transition").events([record], new)[0])
    else:
        click.echo(f"{new.id}: {record.from_status} -> {record.to_status} (v{new.version})")


@click.group()
def schema() -> None:
    """Print JSON Schemas for integrators and editors."""


@schema.command("case")
@error_boundary
def schema_case() -> None:
    """The JSON Schema of the case model (what JSON intake and eval accept)."""
    click.echo(json.dumps(Case.model_json_schema(), ensure_ascii=False, indent=2))


def register(group: click.Group) -> None:
    group.add_command(ingest)
    group.add_command(cases)
    if "schema" in group.commands and isinstance(group.commands["schema"], click.Group):
        group.commands["schema"].add_command(schema_case)
    else:
        group.add_command(schema)


__all__ = ["USAGE", "register"]
