"""``zhenshen audit list``: read the store's access log (who saw personal data, when)."""

from __future__ import annotations

import click

from zhenshen_core.cli.context import CliContext, pass_cli
from zhenshen_core.cli.exits import error_boundary
from zhenshen_core.cli.options import STORE_OPTION, open_cli_store, parse_instant
from zhenshen_core.cli.output import FORMAT_OPTION, Column, echo_json, print_table


@click.group()
def audit() -> None:
    """Read the access log (审计日志): unmasked reads of personal data and other accesses."""


@audit.command("list")
@STORE_OPTION
@FORMAT_OPTION
@click.option("--case", "case_id", default=None, help="Only records about this case id.")
@click.option("--desk", default=None, help="Only records about this desk.")
@click.option("--since", default=None, help="Only records at or after this ISO date/time.")
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Show the newest N matching records; 0 shows them all.",
)
@pass_cli
@error_boundary
def list_audit(
    cli_ctx: CliContext,
    store_url: str | None,
    fmt: str,
    case_id: str | None,
    desk: str | None,
    since: str | None,
    limit: int,
) -> None:
    """List the access log, oldest first: when, who (actor and role), what (action), which
    desk and case, the outcome, and where from. The log is append-only: no command changes
    or removes a record. A record never holds personal data itself.

    \b
    Example:
      zhenshen audit list --store sqlite:///desk.db --case ZS1A2B3C4D5E6F7A8B --format json
    """
    when = parse_instant(since, "--since")
    store = open_cli_store(cli_ctx, store_url)
    try:
        records = store.audit(desk=desk, case_id=case_id, since=when, limit=limit or None)
    finally:
        store.close()
    if fmt == "json":
        echo_json([record.model_dump(mode="json") for record in records])
        return
    print_table(
        (
            Column("at", whole=True),
            Column("actor", whole=True),
            Column("role", whole=True, drop=2),
            Column("action", whole=True),
            Column("desk", whole=True, drop=3),
            Column("case", whole=True),
            Column("outcome", whole=True),
            Column("remote", whole=True, drop=1),
        ),
        (
            (
                r.at.strftime("%Y-%m-%d %H:%M:%S"),
                r.actor,
                r.role or "-",
                r.action,
                r.desk or "-",
                r.case_id or "-",
                r.outcome,
                r.remote or "-",
            )
            for r in records
        ),
    )
    click.echo(f"{len(records)} record(s)", err=True)


def register(group: click.Group) -> None:
    group.add_command(audit)
