"""The engine interface, and the one engine class every built-in engine is.

An engine is a *matcher* (which rule specs of a stage match a fact view: the only thing the
compiled and durable engines do differently) under one class that does the rest the same way
for all: it builds the case's fact view (only the fields the pack reads), hands the view and the
matcher to the shared combiner (``decision.DecisionCombiner``: stages, hit policies, severity,
the ``Decision`` and its JSON), and so explains and serialises identically. A new engine is a
new ``Matcher`` and a few lines: ``MatcherEngine(pack, MyMatcher(pack))``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Protocol, runtime_checkable

from zhenshen_core.model import Case
from zhenshen_core.rules.engines.decision import (
    DEFAULT_CACHE_SIZE,
    Decision,
    DecisionCombiner,
    Matcher,
)
from zhenshen_core.rules.engines.facts import FactProjection, read_dates
from zhenshen_core.rules.engines.partial import as_case
from zhenshen_core.rules.pack.model import ResolvedPack


@runtime_checkable
class Engine(Protocol):
    """A rule engine bound to one resolved pack."""

    name: str
    pack: ResolvedPack

    def evaluate(self, case: Case | Mapping[str, Any]) -> Decision:
        """The decision for one case (or a mapping of case fields, completed like a partial
        case: ``engines.partial``); deterministic for a given pack and case."""
        ...

    def evaluate_many(self, cases: Iterable[Case | Mapping[str, Any]]) -> Iterator[Decision]:
        """Decisions in input order (engines may batch internally)."""
        ...


class MatcherEngine:
    """``evaluate(case) -> Decision`` over any ``Matcher``; see the module docstring.

    ``view`` builds the fact view of a case; by default the pack's ``FactProjection`` (the
    fields its conditions read, the same values as ``fact_view``, less work per case).
    """

    name = "matcher"

    def __init__(
        self,
        pack: ResolvedPack,
        matcher: Matcher,
        *,
        cache_size: int = DEFAULT_CACHE_SIZE,
        view: Callable[[Case], dict[str, Any]] | None = None,
    ) -> None:
        self.pack = pack
        self.matcher = matcher
        self.combiner = DecisionCombiner(pack, cache_size=cache_size)
        # The requester's name is read whatever the rules read: a decision's trace masks it
        # wherever a text value repeats it (``decision._private``).
        self._view: Callable[[Case], dict[str, Any]] = view or FactProjection(
            (*(name for spec in pack.rules for name in spec.reads), "requester.name"),
            pack.date_facts,
        )

    def evaluate(self, case: Case | Mapping[str, Any]) -> Decision:
        """The decision for a ``Case``, or for a mapping of case fields (a work order, a
        partial case: completed by ``engines.partial.as_case``, so a bad one raises
        ``CaseValidationError``)."""
        if type(case) is not Case:
            case = as_case(case)
        return self.combiner.decide(case.id, self._view(case), self.matcher)

    def evaluate_json(self, case: Case | Mapping[str, Any]) -> bytes:
        """``evaluate(case).to_json()`` as UTF-8 bytes, without building the ``Decision``."""
        if type(case) is not Case:
            case = as_case(case)
        return self.combiner.decide_json(case.id, self._view(case), self.matcher)

    def evaluate_facts(self, facts: Mapping[str, Any], case_id: str = "") -> Decision:
        """Evaluate a ready fact view (e.g. from a test or another system); it is copied, and
        the pack's date facts are read as dates in it, as in a view of a case."""
        view = read_dates(dict(facts), self.pack.date_facts)
        return self.combiner.decide(case_id, view, self.matcher)

    def evaluate_many(self, cases: Iterable[Case | Mapping[str, Any]]) -> Iterator[Decision]:
        for case in cases:
            yield self.evaluate(case)

    def close(self) -> None:
        """Free what the matcher holds (the durable engine's rulesets); a no-op otherwise."""
        close = getattr(self.matcher, "close", None)
        if close is not None:
            close()

    def __enter__(self) -> MatcherEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["Engine", "MatcherEngine"]
