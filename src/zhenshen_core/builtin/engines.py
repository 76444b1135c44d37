"""The built-in rule engines, registered like a plugin's (``zhenshen plugins`` lists them and a
plugin claiming one of their names is refused)."""

from __future__ import annotations

from zhenshen_core.plugins.hookspecs import hookimpl
from zhenshen_core.plugins.records import RuleEngine
from zhenshen_core.rules.engines.registry import BUILTIN_ENGINES


@hookimpl(trylast=True)
def zhenshen_engines() -> list[RuleEngine]:
    return [
        RuleEngine(name, description, factory)
        for name, (description, factory) in BUILTIN_ENGINES.items()
    ]
