"""Engines by name: ``make_engine("compiled", pack)`` — the one place a name becomes an engine.

The desk, ``zhenshen eval``, ``zhenshen test`` and the pytest plugin all choose their engine
here. The built-in engines (``compiled``, ``durable``) are built without consulting the plugins,
so choosing one costs no plugin loading; any other name is looked up among the engines the
plugins register with the ``zhenshen_engines`` hook (records of
:class:`~zhenshen_core.plugins.records.RuleEngine`). An unknown name is an error that lists the
names that would have worked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from zhenshen_core.errors import UnknownNameError

if TYPE_CHECKING:  # importing this module stays cheap: the CLI reads BUILTIN_ENGINES for --help
    from zhenshen_core.plugins.host import PluginHost
    from zhenshen_core.rules.engines.base import Engine
    from zhenshen_core.rules.pack.model import ResolvedPack

KIND = "rule engine"


def _compiled(pack: ResolvedPack) -> Engine:
    from zhenshen_core.rules.engines.compiled import CompiledEngine

    return CompiledEngine(pack)


def _durable(pack: ResolvedPack) -> Engine:
    # Imported here: the durable_rules C extension loads only when this engine is asked for.
    from zhenshen_core.rules.engines.durable import DurableEngine

    return DurableEngine(pack)


#: The engines that ship with the core: name -> (description, factory).
BUILTIN_ENGINES: dict[str, tuple[str, Callable[[ResolvedPack], Engine]]] = {
    "compiled": ("closures and a value index over the rules (the default)", _compiled),
    "durable": ("the durable_rules (Rete) engine, same decisions", _durable),
}


class UnknownEngineError(UnknownNameError, ValueError):
    """No engine of that name: the message lists the names there are."""

    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(KIND, name, known)


def _plugin_host() -> PluginHost:
    """The installed plugins' host (entry points only, as ``load_pack`` finds plugin packs:
    a project's ``zhenshen_local.py`` is the CLI's, not a library's)."""
    from zhenshen_core.plugins import PluginConfig, PluginHost

    return PluginHost(PluginConfig(autoload=PluginConfig.from_env().autoload))


def engine_names(*, host: PluginHost | None = None) -> list[str]:
    """Every engine name that ``make_engine`` accepts with this ``host`` (the installed plugins'
    when None), built-ins first."""
    registered = (host or _plugin_host()).engines()
    return [*BUILTIN_ENGINES, *sorted(n for n in registered if n not in BUILTIN_ENGINES)]


def make_engine(name: str, pack: ResolvedPack, *, host: PluginHost | None = None) -> Engine:
    """The engine ``name`` bound to ``pack``.

    A built-in name is built straight away, without loading a plugin. Any other name is looked
    up among the engines ``host`` (the installed plugins' when None) registers; the host refuses
    a plugin that claims a name already taken (a built-in's too), naming both. Raises
    :class:`UnknownEngineError` (a ``ValueError``) for a name nobody registered; an engine's own
    failure to build (the durable_rules extension missing: ``ImportError``) passes through.
    """
    if name in BUILTIN_ENGINES:
        return BUILTIN_ENGINES[name][1](pack)
    engines = (host or _plugin_host()).engines()
    record = engines.get(name)
    if record is None:
        known = [*BUILTIN_ENGINES, *(n for n in engines if n not in BUILTIN_ENGINES)]
        raise UnknownEngineError(name, known)
    return record.factory(pack)


__all__ = ["BUILTIN_ENGINES", "UnknownEngineError", "engine_names", "make_engine"]
