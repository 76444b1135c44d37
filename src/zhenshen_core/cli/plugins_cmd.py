"""``zhenshen plugins``: what is loaded, from which distribution, registering what."""

from __future__ import annotations

import click

from zhenshen_core.cli.context import CliContext, pass_cli
from zhenshen_core.cli.exits import error_boundary
from zhenshen_core.cli.output import FORMAT_OPTION, Column, echo_json, print_table


@click.command("plugins")
@FORMAT_OPTION
@pass_cli
@error_boundary
def plugins(cli_ctx: CliContext, fmt: str) -> None:
    """List loaded plugins and what each registers (backends, channels, packs …)."""
    infos = cli_ctx.host.plugins()
    if fmt == "json":
        echo_json(
            [
                {
                    "name": i.name,
                    "distribution": i.distribution,
                    "version": i.version,
                    "origin": i.origin,
                    "registers": dict(i.registers),
                }
                for i in infos
            ]
        )
        return
    rows = []
    for i in infos:
        regs = "; ".join(f"{k}: {', '.join(v)}" for k, v in sorted(i.registers.items()))
        dist = f"{i.distribution or '-'} {i.version or ''}".strip()
        rows.append((i.name, dist, i.origin, regs or "-"))
    print_table(
        (
            Column("plugin", whole=True),
            Column("distribution", words=True, drop=2),
            Column("origin", whole=True, drop=1),
            Column("registers", words=True),
        ),
        rows,
    )


def register(group: click.Group) -> None:
    group.add_command(plugins)
