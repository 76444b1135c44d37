"""The object the group callback builds and every command receives (click's habit)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from zhenshen_core.config import Config
from zhenshen_core.plugins import PluginConfig, PluginHost

STORE_ENV = "ZHENSHEN_STORE"
PACK_PATH_ENV = "ZHENSHEN_PACK_PATH"
DEFAULT_STORE = "sqlite:///zhenshen.db"


@dataclass
class CliContext:
    plugin_config: PluginConfig
    pack_paths: list[Path] = field(default_factory=list)
    config: Config = field(default_factory=Config)
    _host: PluginHost | None = None

    def store_url(self, given: str | None) -> str:
        """``--store`` / ``ZHENSHEN_STORE``, else the config file's ``store``, else the default."""
        return given or self.config.store or DEFAULT_STORE

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
        """A pack folder or pack id → ``ResolvedPack``, with the plugins' packs and actions."""
        from zhenshen_core.rules import load_pack

        return load_pack(
            source,
            search_paths=self.all_pack_paths(),
            plugin_packs={pid: rec.path for pid, rec in self.host.rule_packs().items()},
            actions=set(self.host.rule_actions()),
        )


pass_cli = click.make_pass_decorator(CliContext)
