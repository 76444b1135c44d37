"""``zhenshen outbox list|retry|purge``: the notices the desk owes the outside world.

Every notice is written to the store's outbox with the change it is about and delivered from
there at least once (:mod:`zhenshen_core.desk.outbox`); these commands show what is pending,
delivered or failed, deliver again, and drop what was delivered long ago.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import click

from zhenshen_core.cli.context import CliContext, pass_cli
from zhenshen_core.cli.exits import OK, PROBLEMS, USAGE, CliExit, error_boundary
from zhenshen_core.cli.options import STORE_OPTION, desk_for, open_cli_store
from zhenshen_core.cli.output import FORMAT_OPTION, Column, echo_json, print_table
from zhenshen_core.model.case import SHANGHAI
from zhenshen_core.storage.outbox import OUTBOX_STATUSES, OutboxNotice


@click.group()
def outbox() -> None:
    """List, retry and purge the notices owed to notifiers (the outbox)."""


@outbox.command("list")
@STORE_OPTION
@click.option("--status", type=click.Choice(OUTBOX_STATUSES), default=None, help="Only these.")
@click.option(
    "--limit", type=click.IntRange(min=0), default=100, show_default=True, help="0: all."
)
@FORMAT_OPTION
@pass_cli
@error_boundary
def list_notices(
    cli_ctx: CliContext, store_url: str | None, status: str | None, limit: int, fmt: str
) -> None:
    """List notices, oldest first: key (the idempotency key a notifier receives), notifier,
    status, attempts, next try and last error."""
    store = open_cli_store(cli_ctx, store_url)
    try:
        notices = store.outbox_notices(status, limit=limit or None)
    finally:
        store.close()
    if fmt == "json":
        echo_json([n.model_dump(mode="json") for n in notices])
        return
    print_table(
        (
            Column("key", whole=True),
            Column("notifier", whole=True),
            Column("status", whole=True),
            Column("tries", justify="right", whole=True),
            Column("next try", whole=True, drop=1),
            Column("last error", min_width=12),
        ),
        (
            (
                n.key,
                n.target,
                n.status,
                str(n.attempts),
                "-" if n.status == "delivered" else f"{n.next_attempt_at:%Y-%m-%d %H:%M}",
                n.last_error or "",
            )
            for n in notices
        ),
    )
    click.echo(f"{len(notices)} notice(s)", err=True)


@outbox.command("retry")
@click.argument("keys", nargs=-1, metavar="[KEY]...")
@STORE_OPTION
@pass_cli
@error_boundary
def retry(cli_ctx: CliContext, keys: tuple[str, ...], store_url: str | None) -> None:
    """Deliver again now: the notices named by KEY, or every failed and pending one.

    A failed notice (it used up its attempts) becomes pending again and is delivered with the
    notifiers this command loads. Exit 1 when a delivery failed again (it stays in the outbox
    with its error), 2 for a KEY the outbox does not hold.
    """
    now = datetime.now(SHANGHAI)
    desk = desk_for(cli_ctx, store_url, None, lambda: now)
    try:
        chosen = _chosen(desk.store.outbox_notices(), keys)
        from zhenshen_core.desk.outbox import deliver

        again = [n.model_copy(update={"status": "pending", "next_attempt_at": now}) for n in chosen]
        done = deliver(desk, again, now)
    finally:
        desk.store.close()
    click.echo(f"{done.delivered} delivered, {len(done.failed)} failed")
    for key, error in done.failed:
        click.echo(f"{key}: {error}", err=True)
    raise SystemExit(PROBLEMS if done.failed else OK)


def _chosen(notices: list[OutboxNotice], keys: tuple[str, ...]) -> list[OutboxNotice]:
    if not keys:
        return [n for n in notices if n.status != "delivered"]
    by_key = {n.key: n for n in notices}
    unknown = [k for k in keys if k not in by_key]
    if unknown:
        raise CliExit(f"no notice {unknown[0]!r} in the outbox", USAGE)
    return [by_key[k] for k in dict.fromkeys(keys)]


_AGE = re.compile(r"(\d{1,6})([dh])")


@outbox.command("purge")
@STORE_OPTION
@click.option("--delivered", is_flag=True, required=True, help="Purge delivered notices only.")
@click.option(
    "--older-than",
    "older_than",
    required=True,
    metavar="AGE",
    help="Delivered longer ago than this: 30d (days) or 12h (hours).",
)
@pass_cli
@error_boundary
def purge(cli_ctx: CliContext, store_url: str | None, delivered: bool, older_than: str) -> None:
    """Delete notices delivered longer ago than AGE (pending and failed ones are kept)."""
    del delivered  # required: the only kind purged, said on the command line
    found = _AGE.fullmatch(older_than.strip())
    if found is None:
        raise click.BadParameter(
            "use a number of days or hours: 30d, 12h", param_hint="--older-than"
        )
    amount, unit = int(found[1]), found[2]
    age = timedelta(days=amount) if unit == "d" else timedelta(hours=amount)
    store = open_cli_store(cli_ctx, store_url)
    try:
        gone = store.outbox_purge(datetime.now(SHANGHAI) - age)
    finally:
        store.close()
    click.echo(f"{gone} delivered notice(s) purged")


def register(group: click.Group) -> None:
    group.add_command(outbox)
