"""``zhenshen deadletters list|show|retry``: look at what intake could not store, and send it
again once the profile or the data is fixed.

A retried letter goes through its own channel's ``from_raw`` (the channel as set up with the
options given, e.g. ``--profile`` for 12345) and the same pipeline as ``zhenshen ingest``: a
record that now becomes a case (or finds its case stored already) leaves the list; one that
still fails stays, counted once more with the newest reason. Raw records are shown masked
(:func:`shown_raw` and :func:`shown_reason`, the one place that decides what a dead letter
looks like on screen).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

import click

from zhenshen_core.cli.context import CliContext, pass_cli
from zhenshen_core.cli.exits import OK, PROBLEMS, USAGE, CliExit, error_boundary
from zhenshen_core.cli.options import (
    DECIDE_PACK_OPTION,
    INTAKE_ACTOR_OPTION,
    STORE_OPTION,
    load_cli_pack,
    open_cli_store,
)
from zhenshen_core.cli.output import FORMAT_OPTION, Column, echo_json, print_table
from zhenshen_core.storage.protocol import CaseStore, DeadLetter


def shown_raw(raw: str) -> str:
    """A dead letter's text as a person may see it: personal data masked (a JSON object field
    by field, anything else as free text), the same style as every other output."""
    from zhenshen_core.privacy import mask_document, mask_text
    from zhenshen_core.textio import json_loads

    try:
        value = json_loads(raw)
    except ValueError:
        return mask_text(raw)
    if isinstance(value, dict | list):
        return json.dumps(mask_document(value), ensure_ascii=False)
    return mask_text(raw)


def shown_reason(reason: str) -> str:
    """A rejection's reason as shown: it may quote the value it refused (a phone number read
    as a date), so it is masked like free text."""
    from zhenshen_core.privacy import mask_text

    return mask_text(reason)


def _where(letter: DeadLetter) -> str:
    return letter.source if letter.line is None else f"{letter.source}:{letter.line}"


def _summary(letter: DeadLetter) -> dict[str, Any]:
    return {
        "key": letter.key,
        "channel": letter.channel,
        "source": letter.source,
        "line": letter.line,
        "reason": shown_reason(letter.reason),
        "at": letter.at.isoformat(),
        "seen": letter.seen,
        "last_seen": letter.last_seen.isoformat() if letter.last_seen else None,
    }


@click.group("deadletters")
def deadletters() -> None:
    """List, show and retry the records intake could not store (dead letters)."""


@deadletters.command("list")
@STORE_OPTION
@FORMAT_OPTION
@click.option("--channel", default=None, help="Only the letters of this intake channel.")
@pass_cli
@error_boundary
def list_letters(cli_ctx: CliContext, store_url: str | None, fmt: str, channel: str | None) -> None:
    """List the dead letters, first kept first: key, channel, where, times met, reason.

    The key names a letter for 'zhenshen deadletters show KEY' and 'retry KEY'.
    """
    store = open_cli_store(cli_ctx, store_url)
    try:
        letters = [x for x in store.dead_letters() if channel is None or x.channel == channel]
    finally:
        store.close()
    if fmt == "json":
        echo_json([_summary(x) for x in letters])
        return
    columns = (
        Column("key", whole=True),
        Column("channel", whole=True, drop=2),
        Column("where", drop=1),
        Column("seen", justify="right", whole=True, drop=3),
        Column("reason", min_width=20),
    )
    rows = [(x.key, x.channel, _where(x), str(x.seen), shown_reason(x.reason)) for x in letters]
    if rows:
        print_table(columns, rows)
    click.echo(f"{len(letters)} dead letter(s)", err=True)


@deadletters.command("show")
@click.argument("key")
@STORE_OPTION
@FORMAT_OPTION
@pass_cli
@error_boundary
def show_letter(cli_ctx: CliContext, key: str, store_url: str | None, fmt: str) -> None:
    """Show one dead letter: where it came from, why, and its record (masked)."""
    store = open_cli_store(cli_ctx, store_url)
    try:
        letter = store.dead_letter(key)
    finally:
        store.close()
    if letter is None:
        raise CliExit(f"no dead letter {key!r} (see 'zhenshen deadletters list')", USAGE)
    if fmt == "json":
        echo_json({**_summary(letter), "raw": shown_raw(letter.raw)})
        return
    seen = f"{letter.seen} time(s)"
    if letter.last_seen is not None:
        seen += f", last {letter.last_seen.isoformat()}"
    click.echo(f"key:     {letter.key}")
    click.echo(f"channel: {letter.channel}")
    click.echo(f"where:   {_where(letter)}")
    click.echo(f"first:   {letter.at.isoformat()}")
    click.echo(f"seen:    {seen}")
    click.echo(f"reason:  {shown_reason(letter.reason)}")
    click.echo("record:")
    click.echo(shown_raw(letter.raw))


@dataclass
class RetryOutcome:
    """What one retried letter became."""

    key: str
    outcome: str  # stored | duplicate | rejected | cannot
    detail: str = ""
    case_id: str | None = None


def retry_letter(
    letter: DeadLetter, store: CaseStore, desk: Any, options: dict[str, str], actor: str
) -> RetryOutcome:
    """Send ``letter`` through its channel again; forget it when its record is now a case."""
    host = desk.host
    channel = host.intake_channel(letter.channel)
    given = {k: v for k, v in options.items() if k in {o.name for o in channel.options}}
    reader = channel.reader(given)
    if reader.from_raw is None:
        return RetryOutcome(
            letter.key,
            "cannot",
            f"the {letter.channel} channel cannot read one record on its own; fix the source "
            "and ingest it again",
        )
    record = reader.from_raw(letter.raw, letter.source, letter.line)
    # Failing again it must meet the same letter (the key is channel, source, line and text).
    record = replace(record, source=letter.source, line=letter.line, raw=letter.raw, location=None)
    summary = desk.ingest_records(letter.channel, [record], source=letter.source, actor=actor)
    if summary.rejected:
        return RetryOutcome(letter.key, "rejected", shown_reason(summary.rejected[0].reason))
    store.remove_dead_letter(letter.key)
    outcome = "stored" if summary.created else "duplicate"
    return RetryOutcome(letter.key, outcome, case_id=summary.case_ids[0])


@deadletters.command("retry", context_settings={"ignore_unknown_options": False})
@click.argument("keys", nargs=-1)
@click.option("--all", "everything", is_flag=True, help="Retry every dead letter.")
@click.option("--channel", default=None, help="With --all: only this channel's letters.")
@click.option(
    "--profile",
    default=None,
    metavar="PROFILE.yaml",
    help="Mapping profile for the channels that take one (12345, xlsx): the fixed profile.",
)
@STORE_OPTION
@DECIDE_PACK_OPTION()
@FORMAT_OPTION
@INTAKE_ACTOR_OPTION
@click.option(
    "--received-window",
    "received_window",
    default=None,
    metavar="FROM..TO",
    help="The received_at instants accepted, as for 'zhenshen ingest' (an archive of older "
    "work orders refused by the default window).",
)
@pass_cli
@error_boundary
def retry(
    cli_ctx: CliContext,
    keys: tuple[str, ...],
    everything: bool,
    channel: str | None,
    profile: str | None,
    store_url: str | None,
    pack_source: str | None,
    fmt: str,
    actor: str,
    received_window: str | None,
) -> None:
    """Send dead letters (KEY …, or --all) through their channel again.

    Each letter's record is read again by its channel (with --profile, for a channel that
    takes one) and goes through the same validation, window and pack as 'zhenshen ingest'. A
    record that now becomes a case, or whose work order is stored already, leaves the
    dead-letter list; one that still fails stays, counted again with the newest reason.
    Exit 0 when every letter retried is stored, 1 when any still fails, 2 for a key the
    store does not hold.

    \b
    Example:
      zhenshen deadletters retry --all --channel 12345 --profile fixed.yaml --store sqlite:///desk.db
    """
    from zhenshen_core.cli.cases import _received_window
    from zhenshen_core.desk import Desk, DeskSettings

    window = _received_window(received_window or cli_ctx.config.received_window)
    if bool(keys) == everything:
        raise click.UsageError("name the letters to retry (KEY …) or give --all, not both")
    if channel is not None and not everything:
        raise click.BadParameter("goes with --all", param_hint="--channel")
    options = {"profile": profile} if profile is not None else {}
    pack_id = cli_ctx.pack_source(pack_source)
    pack = load_cli_pack(cli_ctx, pack_id) if pack_id is not None else None
    calendar = cli_ctx.calendar() if pack is not None else None
    store = open_cli_store(cli_ctx, store_url)
    outcomes: list[RetryOutcome] = []
    try:
        if everything:
            letters = [x for x in store.dead_letters() if channel is None or x.channel == channel]
        else:
            letters = []
            for key in keys:
                letter = store.dead_letter(key)
                if letter is None:
                    raise CliExit(
                        f"no dead letter {key!r} (see 'zhenshen deadletters list')", USAGE
                    )
                letters.append(letter)
        if profile is not None:
            takes = [x.channel for x in letters if _takes_profile(cli_ctx, x.channel)]
            if letters and not takes:
                raise CliExit("--profile: none of these letters' channels takes a profile", USAGE)
        settings = DeskSettings(received_window=window)
        desk = Desk(store, pack=pack, host=cli_ctx.host, calendar=calendar, settings=settings)
        for letter in letters:
            outcomes.append(retry_letter(letter, store, desk, options, actor))
    finally:
        store.close()
    stored = sum(o.outcome in ("stored", "duplicate") for o in outcomes)
    failed = len(outcomes) - stored
    if fmt == "json":
        echo_json(
            {
                "retried": len(outcomes),
                "stored": stored,
                "still_failing": failed,
                "letters": [o.__dict__ for o in outcomes],
            }
        )
    else:
        for o in outcomes:
            if o.outcome in ("stored", "duplicate"):
                click.echo(f"{o.key}: {o.outcome} as {o.case_id}")
            else:
                click.echo(f"{o.key}: still failing: {o.detail}", err=True)
        click.echo(f"{len(outcomes)} retried, {stored} stored, {failed} still dead letters")
    raise SystemExit(OK if failed == 0 else PROBLEMS)


def _takes_profile(cli_ctx: CliContext, name: str) -> bool:
    return any(o.name == "profile" for o in cli_ctx.host.intake_channel(name).options)


def register(group: click.Group) -> None:
    """Add ``deadletters`` to the main command group."""
    group.add_command(deadletters)
