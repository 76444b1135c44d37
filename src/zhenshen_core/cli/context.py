"""The object the group callback builds and every command receives (click's habit)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from zhenshen_core.config import Config
from zhenshen_core.plugins import PluginConfig, PluginHost

STORE_ENV = "ZHENSHEN_STORE"
PACK_ENV = "ZHENSHEN_PACK"
CALENDAR_ENV = "ZHENSHEN_CALENDAR"
CALENDAR_POLICY_ENV = "ZHENSHEN_CALENDAR_POLICY"
PACK_PATH_ENV = "ZHENSHEN_PACK_PATH"
ACTOR_ENV = "ZHENSHEN_ACTOR"
DEFAULT_STORE = "sqlite:///zhenshen.db"


@dataclass
class CliContext:
    plugin_config: PluginConfig
    pack_paths: list[Path] = field(default_factory=list)
    config: Config = field(default_factory=Config)
    config_named: bool = False
    """The config was named with ``--config`` (trusted), not merely found in the directory."""
    _host: PluginHost | None = None

    def actor(self) -> str:
        """Who runs the command, as events record it: ``ZHENSHEN_ACTOR``, else ``actor`` of a
        config named with ``--config``, else the operating-system user. Never an option or a
        payload: a config found in the working directory (perhaps a folder another district
        sent) cannot choose who acts, like it cannot choose code to import."""
        import getpass

        named = os.environ.get(ACTOR_ENV, "").strip()
        if named:
            return named
        if self.config.actor and self.config_named:
            return self.config.actor
        try:
            user = getpass.getuser().strip()
        except (OSError, KeyError):  # no login name and no passwd entry (a bare container)
            user = ""
        if not user:
            raise click.UsageError(
                f"cannot tell who you are: set {ACTOR_ENV} or 'actor' in a config given "
                "with --config"
            )
        return user

    def store_url(self, given: str | None) -> str:
        """``--store`` / ``ZHENSHEN_STORE``, else the config file's ``store``, else the default."""
        return given or self.config.store or DEFAULT_STORE

    def pack_source(self, given: str | None) -> str | None:
        """``--pack`` / ``ZHENSHEN_PACK``, else the config file's ``pack``, else None."""
        return given or self.config.pack

    def calendar(self, given: str | None = None, policy: str | None = None) -> Any:
        """The desk's calendar: the one given, ``ZHENSHEN_CALENDAR``, the config's, or 'cn'.

        The policy (``ZHENSHEN_CALENDAR_POLICY``, then ``calendar_policy`` in the config)
        defaults to provisional: past the published notices the desk still decides, on the
        law's holidays, and flags those clocks for ``zhenshen clocks recompute``.
        """
        from zhenshen_core.cli.deadline import resolve_calendar
        from zhenshen_core.deadlines import CalendarPolicy

        name = given or os.environ.get(CALENDAR_ENV) or self.config.calendar or "cn"
        chosen = (
            policy
            or os.environ.get(CALENDAR_POLICY_ENV)
            or self.config.calendar_policy
            or CalendarPolicy.PROVISIONAL.value
        )
        if chosen not in (CalendarPolicy.PROVISIONAL.value, CalendarPolicy.STRICT.value):
            raise click.BadParameter(
                f"unknown calendar policy {chosen!r}; choose one of: provisional, strict",
                param_hint=CALENDAR_POLICY_ENV,
            )
        return resolve_calendar(name, CalendarPolicy(chosen))

    @property
    def host(self) -> PluginHost:
        """Built on first use, so ``--help`` and ``--version`` never load plugins."""
        if self._host is None:
            self._host = PluginHost(self.plugin_config)
        return self._host

    def all_pack_paths(self) -> list[Path]:
        env = [Path(p) for p in os.environ.get(PACK_PATH_ENV, "").split(os.pathsep) if p]
        return [*self.pack_paths, *env, *self.config.pack_paths]

    def pack_ref(self, source: str) -> Any:
        """How a worker process finds the same pack again (``rules.impact.PackRef``)."""
        from zhenshen_core.rules.impact import PackRef

        path = Path(source)
        return PackRef(
            str(path.resolve()) if path.exists() else source,
            tuple(str(p) for p in self.all_pack_paths()),
            tuple(sorted((k, str(v.path)) for k, v in self.host.rule_packs().items())),
            tuple(sorted(self.host.rule_actions())),
        )

    def load_pack(self, source: str | Path) -> Any:
        """A pack folder or pack id → ``ResolvedPack``, with the plugins' packs and actions.

        The plugins are only loaded if the pack needs them: to find a pack or base by id that
        no search folder holds, or to check an action a rule names. A folder pack with
        neither starts without importing any plugin.
        """
        from zhenshen_core.rules import load_pack

        return load_pack(
            source,
            search_paths=self.all_pack_paths(),
            plugin_packs=_OnFirstUse(
                lambda: {pid: rec.path for pid, rec in self.host.rule_packs().items()}
            ),
            actions=_OnFirstUse(lambda: dict.fromkeys(self.host.rule_actions())).keys(),
        )


class _OnFirstUse(Mapping[str, Any]):
    """A mapping computed by ``make`` when it is first read."""

    def __init__(self, make: Callable[[], dict[str, Any]]) -> None:
        self._make = make
        self._data: dict[str, Any] | None = None

    def _get(self) -> dict[str, Any]:
        if self._data is None:
            self._data = self._make()
        return self._data

    def __getitem__(self, key: str) -> Any:
        return self._get()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())


pass_cli = click.make_pass_decorator(CliContext)


def _add_pack_paths(ctx: click.Context, param: click.Parameter, value: tuple[Path, ...]) -> None:
    cli_ctx = ctx.find_object(CliContext)
    if cli_ctx is not None:
        cli_ctx.pack_paths.extend(value)


#: ``--pack-path`` where people type it: after the command (``zhenshen diff --pack-path X …``)
#: as well as before it. Both add to one list, searched in the order given, then
#: ``ZHENSHEN_PACK_PATH``, then ``pack_paths`` in zhenshen.toml.
PACK_PATH_OPTION = click.option(
    "--pack-path",
    type=click.Path(file_okay=False, path_type=Path),
    multiple=True,
    expose_value=False,
    callback=_add_pack_paths,
    metavar="DIR",
    help="Folder to search for rule packs by id; adds to a --pack-path before the command and "
    "ZHENSHEN_PACK_PATH. Repeatable.",
)
