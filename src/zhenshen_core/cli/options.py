"""What the commands working on a store share: the ``--store``, ``--pack`` and instant options,
opening the store, loading a pack, building a desk.

Plugins that add commands (``zhenshen_cli_commands``) use these too, so their commands take the
same options, defaults and exit codes as the built-in ones (the reference pack's ``demo``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from zhenshen_core.cli.context import PACK_ENV, PACK_PATH_OPTION, STORE_ENV, CliContext
from zhenshen_core.cli.exits import LOAD_ERROR, CliExit
from zhenshen_core.model.case import SHANGHAI

if TYPE_CHECKING:
    from zhenshen_core.desk import Desk
    from zhenshen_core.rules import ResolvedPack
    from zhenshen_core.storage.protocol import CaseStore

STORE_OPTION = click.option(
    "--store",
    "store_url",
    envvar=STORE_ENV,
    default=None,
    metavar="URL",
    help="Store URL: sqlite:///path.db, memory://, postgresql://… (default: $ZHENSHEN_STORE, "
    "then 'store' in zhenshen.toml, then sqlite:///zhenshen.db).",
)

_PACK = click.option(
    "--pack",
    "pack_source",
    envvar=PACK_ENV,
    default=None,
    help="Rule pack folder or pack id (default: $ZHENSHEN_PACK, then 'pack' in zhenshen.toml, "
    "then the pack an installed plugin marks as the default).",
)


def PACK_OPTION(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--pack`` and the ``--pack-path`` folders that find it by id."""
    return _PACK(PACK_PATH_OPTION(command))


def DECIDE_PACK_OPTION(
    help: str = "Decide every case with this rule pack before it is stored, "
    "as 'ingest --pack' does.",
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--pack`` for a command that stores cases (no pack: stored undecided) and the
    ``--pack-path`` folders that find it by id; ``help`` says what this command does with it."""
    pack = click.option(
        "--pack", "pack_source", envvar=PACK_ENV, default=None, metavar="PACK", help=help
    )

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        return pack(PACK_PATH_OPTION(command))

    return decorate


INTAKE_ACTOR_OPTION = click.option(
    "--actor", default="intake", show_default=True, help="Recorded as the event actor."
)

NOW_OPTION = click.option(
    "--now",
    "now_text",
    default=None,
    help="ISO date-time to treat as now (default: the real time).",
)


def parse_instant(value: str | None, name: str) -> datetime | None:
    """An ISO date or date-time option (Asia/Shanghai when it names no zone); None for None."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        from zhenshen_core.privacy import mask_text  # a phone number typed in the wrong place

        raise click.BadParameter(
            f"not an ISO date or date-time: {mask_text(value)!r}", param_hint=name
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=SHANGHAI)


def open_cli_store(cli_ctx: CliContext, url: str | None) -> CaseStore:
    from zhenshen_core.storage.url import open_store

    return open_store(cli_ctx.store_url(url), cli_ctx.host)


def load_cli_pack(cli_ctx: CliContext, source: str) -> ResolvedPack:
    """The pack, or every diagnostic on stderr and exit 3 (as ``eval`` does)."""
    from zhenshen_core.rules import PackError

    try:
        pack: ResolvedPack = cli_ctx.load_pack(source)
    except PackError as exc:
        for diag in exc.diagnostics:
            click.echo(str(diag), err=True)
        raise CliExit(f"pack {source!r} failed to load", LOAD_ERROR) from exc
    return pack


def pack_label(pack: ResolvedPack) -> str:
    return f"{pack.id} {pack.version} ({pack.sha256[:12]})"


def calendar_label(calendar: Any) -> str:
    return f"{calendar.name} ({calendar.policy.value}, known until {calendar.known_until})"


def pack_or_default(cli_ctx: CliContext, given: str | None) -> str | None:
    """``--pack`` / ``ZHENSHEN_PACK``, else zhenshen.toml's ``pack``, else the pack an
    installed plugin marks ``default`` (``RulePackSource.default``), else None."""
    return given or cli_ctx.config.pack or cli_ctx.host.default_pack()


def desk_for(
    cli_ctx: CliContext,
    store_url: str | None,
    pack_source: str | None,
    now: Callable[[], datetime] | None = None,
) -> Desk:
    """A desk on the command's store, calendar and plugins, deciding with ``pack_source``."""
    from zhenshen_core.desk import Desk, DeskSettings

    pack = cli_ctx.load_pack(pack_source) if pack_source else None
    calendar = cli_ctx.calendar()
    store = open_cli_store(cli_ctx, store_url)
    settings = DeskSettings(mask_policy=cli_ctx.config.privacy)
    return Desk(store, pack=pack, host=cli_ctx.host, calendar=calendar, now=now, settings=settings)
