"""``zhenshen export xlsx``: the command the plugin adds."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Any

import click

from zhenshen_core.cli.cases import STORE_OPTION, open_cli_store
from zhenshen_core.cli.context import PACK_PATH_OPTION, CliContext, pass_cli
from zhenshen_core.cli.exits import error_boundary
from zhenshen_core.model.case import SHANGHAI
from zhenshen_core.model.enums import CaseStatus


@click.group("export")
def export() -> None:
    """Export stored cases to a file for people to read (xlsx: a workbook to filter)."""


def _instant(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"not an ISO date or date-time: {value!r}", param_hint=name
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=SHANGHAI)


@export.command("xlsx")
@STORE_OPTION
@click.option(
    "--status",
    multiple=True,
    type=click.Choice([s.value for s in CaseStatus]),
    help="Only cases in this status (repeatable).",
)
@click.option("--domain", help="Only cases of this domain id.")
@click.option("--department", help="Only cases with this lead or co department id.")
@click.option("--received-from", help="ISO date/time (inclusive).")
@click.option("--received-before", help="ISO date/time (exclusive).")
@click.option(
    "--pack",
    "pack_source",
    default=None,
    metavar="PACK",
    help="Add the pack's names of domains and departments beside their ids.",
)
@PACK_PATH_OPTION
@click.option(
    "-o",
    "--output",
    default="cases.xlsx",
    show_default=True,
    metavar="FILE",
    help="The workbook to write ('-': standard output). Written whole or not at all.",
)
@pass_cli
@error_boundary
def export_xlsx(
    cli_ctx: CliContext,
    store_url: str | None,
    status: tuple[str, ...],
    domain: str | None,
    department: str | None,
    received_from: str | None,
    received_before: str | None,
    pack_source: str | None,
    output: str,
) -> None:
    """Write the cases matching the filters to a workbook a desk manager can filter.

    One row per case, oldest first: a frozen header with an autofilter, column widths set,
    received and due times as real dates, each coded value as its Chinese label beside its
    code (a second sheet, 代码说明, lists every code). Personal data is masked: the phone
    keeps its first 3 and last 4 digits, a confidential requester is not named. The columns
    are what 'zhenshen ingest xlsx' reads by default, so the workbook imports again.

    \b
    Example:
      zhenshen export xlsx --store sqlite:///desk.db --status screening -o 甄别中.xlsx
    """
    from zhenshen_core.storage.protocol import CaseQuery
    from zhenshen_xlsx.export import Names, export_cases, export_to_stream

    query = CaseQuery(
        status=[CaseStatus(s) for s in status] or None,
        domain=domain,
        department=department,
        received_from=_instant(received_from, "--received-from"),
        received_before=_instant(received_before, "--received-before"),
    )
    names: Names | None = None
    if pack_source is not None:
        from zhenshen_core.cli.decide import load_cli_pack

        names = Names.of(load_cli_pack(cli_ctx, pack_source))
    store = open_cli_store(cli_ctx, store_url)
    try:
        cases: Any = store.query(query)
        if output == "-":
            count = export_to_stream(cases, sys.stdout.buffer, names=names)
        else:
            count = export_cases(cases, output, names=names)
    finally:
        store.close()
    where = "standard output" if output == "-" else output
    click.echo(f"{count} case(s) written to {where}", err=output == "-")
