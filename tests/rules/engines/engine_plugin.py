"""A plugin that registers a rule engine, for the registry tests (loaded with ``-p``)."""

from __future__ import annotations

from typing import Any

from zhenshen_core.plugins import hookimpl
from zhenshen_core.plugins.records import RuleEngine
from zhenshen_core.rules import MatcherEngine, ResolvedPack, holds


class ReferenceMatcher:
    """Every condition read by the reference semantics: no closures, no index."""

    def __init__(self, pack: ResolvedPack) -> None:
        self.pack = pack

    def match(self, stage: str, facts: Any) -> list[int]:
        levels = self.pack.severity_levels
        return [
            i
            for i, rule in enumerate(self.pack.stage_rules(stage))
            if rule.condition is None or holds(rule.condition, facts, levels)
        ]


def reference(pack: ResolvedPack) -> MatcherEngine:
    engine = MatcherEngine(pack, ReferenceMatcher(pack))
    engine.name = "reference"
    return engine


@hookimpl
def zhenshen_engines() -> list[RuleEngine]:
    return [RuleEngine("reference", "the reference semantics, rule by rule", reference)]
