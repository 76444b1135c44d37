"""The durable_rules engine: the same ``Engine`` interface as the compiled one.

An engine is a *matcher* (which rule specs of a stage match a fact view?) plus the shared
combiner ``decision.decide``. This module only replaces the matcher, so the two engines can
differ in nothing but the set of rules found to match — which the differential test compares.

Per stage (``classify`` → ``route`` → ``deadline``) the pack's rules *and decision-table rows*
(rows are rule specs whose condition is the conjunction of their cells; the hit policy is
applied afterwards by the combiner, for both engines) are translated by ``translate.py`` and split
by ``limits.partition`` into as few rulesets as keep every engine limit. Evaluating a case
encodes its fact view (plus the ``decision.*`` fields of earlier stages, added by ``decide``)
into the stage's slim fact and fires it through each ruleset with the worker-sid pattern
(``session.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from zhenshen_core.rules.engines.base import MatcherEngine
from zhenshen_core.rules.engines.decision import DEFAULT_CACHE_SIZE
from zhenshen_core.rules.engines.durable.limits import DEFAULT_LIMITS, Limits, partition, properties
from zhenshen_core.rules.engines.durable.session import DurableSession, EngineError, Strategy
from zhenshen_core.rules.engines.durable.translate import (
    Encoder,
    StageTranslator,
    TranslatedStage,
    Unrepresentable,
    encode,
    encoders,
)
from zhenshen_core.rules.engines.facts import STAGES
from zhenshen_core.rules.lang.semantics import holds
from zhenshen_core.rules.pack.model import ResolvedPack, RuleSpec


@dataclass(frozen=True)
class _Ruleset:
    session: DurableSession
    reads: tuple[str, ...]  # slim-fact properties this ruleset's rules test


@dataclass(frozen=True)
class StageStats:
    """What a stage compiled to (for docs, benchmarks and ``--explain``)."""

    rules: int  # pack rules and table rows
    durable_rules: int  # after merging identical conditions
    rulesets: int
    properties: int
    features: int  # properties computed in Python


class DurableMatcher:
    """Finds matching rule specs with durable_rules; see the module docstring."""

    def __init__(
        self,
        pack: ResolvedPack,
        *,
        strategy: Strategy = "worker",
        limits: Limits = DEFAULT_LIMITS,
    ) -> None:
        self.levels = pack.severity_levels
        self.rank = {level: i for i, level in enumerate(self.levels)}
        self._specs: dict[str, tuple[RuleSpec, ...]] = {}
        self._compiled: dict[str, TranslatedStage] = {}
        self._encoders: dict[str, tuple[tuple[str, Encoder], ...]] = {}
        self._rulesets: dict[str, tuple[_Ruleset, ...]] = {}
        self.stats: dict[str, StageStats] = {}
        self._closed = False
        label = f"{pack.id}_{pack.version}"
        try:
            for stage in STAGES:
                specs = pack.stage_rules(stage)
                self._specs[stage] = specs
                if not specs:
                    continue
                compiled = StageTranslator(self.levels, limits).translate(
                    [spec.condition for spec in specs]
                )
                groups = partition(compiled.rules, limits)
                rulesets = []
                for group in groups:
                    reads = set().union(*(properties(c) for c in group.values()))
                    session = DurableSession(group, label=f"{label}_{stage}", strategy=strategy)
                    rulesets.append(_Ruleset(session, tuple(sorted(reads))))
                self._compiled[stage] = compiled
                self._encoders[stage] = encoders(compiled.props, self.levels, self.rank)
                self._rulesets[stage] = tuple(rulesets)
                self.stats[stage] = StageStats(
                    rules=len(specs),
                    durable_rules=len(compiled.rules),
                    rulesets=len(rulesets),
                    properties=len(compiled.props),
                    features=compiled.features,
                )
        except BaseException:
            self.close()
            raise

    def match(self, stage: str, facts: Mapping[str, Any]) -> list[int]:
        if self._closed:
            raise EngineError("this durable engine is closed; build a new one")
        compiled = self._compiled.get(stage)
        if compiled is None:
            return []
        try:
            encoded = encode(self._encoders[stage], facts)
        except Unrepresentable:
            # A hand-made view with a value of the wrong kind in a typed field: answer exactly
            # with the reference interpreter rather than approximately with the engine.
            return [
                i
                for i, spec in enumerate(self._specs[stage])
                if spec.condition is None or holds(spec.condition, facts, self.levels)
            ]
        owners = compiled.owners
        rulesets = self._rulesets[stage]
        found: list[int] = []
        if len(rulesets) == 1:  # it reads every property of the stage
            for name in rulesets[0].session.fire(encoded):
                found.extend(owners[name])
            return found
        for ruleset in rulesets:
            fact = {key: encoded[key] for key in ruleset.reads if key in encoded}
            for name in ruleset.session.fire(fact):
                found.extend(owners[name])
        return found

    def close(self) -> None:
        self._closed = True
        for rulesets in self._rulesets.values():
            for ruleset in rulesets:
                ruleset.session.close()
        self._rulesets = {}
        self._compiled = {}


class DurableEngine(MatcherEngine):
    """``evaluate(case) -> Decision`` on durable_rules; same results as ``CompiledEngine``.

    Not thread-safe (one engine per thread or process; the C extension holds the GIL anyway).
    Building one creates durable rulesets that live until :meth:`close` (also called on leaving
    a ``with`` block).
    """

    name = "durable"
    matcher: DurableMatcher

    def __init__(
        self,
        pack: ResolvedPack,
        *,
        strategy: Strategy = "worker",
        limits: Limits = DEFAULT_LIMITS,
        cache_size: int = DEFAULT_CACHE_SIZE,
    ) -> None:
        matcher = DurableMatcher(pack, strategy=strategy, limits=limits)
        super().__init__(pack, matcher, cache_size=cache_size)

    @property
    def stats(self) -> dict[str, StageStats]:
        return dict(self.matcher.stats)


__all__ = ["DurableEngine", "DurableMatcher", "StageStats"]
