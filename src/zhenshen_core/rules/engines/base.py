"""The engine interface: one pack in, ``evaluate(case) -> Decision`` out.

Engines differ only in how they find the rules that match a fact view; the combination into a
``Decision`` is shared (``decision.decide``). So an engine is usually a ``Matcher`` plus the
few lines of ``CompiledEngine``: ``decide(pack, case.id, fact_view(case), matcher)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Protocol, runtime_checkable

from zhenshen_core.model import Case
from zhenshen_core.rules.engines.decision import Decision
from zhenshen_core.rules.pack.model import ResolvedPack


@runtime_checkable
class Engine(Protocol):
    """A rule engine bound to one resolved pack."""

    name: str
    pack: ResolvedPack

    def evaluate(self, case: Case | Mapping[str, Any]) -> Decision:
        """The decision for one case (or a mapping of case fields, completed like a partial
        case: ``rules.partial``); deterministic for a given pack and case."""
        ...

    def evaluate_many(self, cases: Iterable[Case | Mapping[str, Any]]) -> Iterator[Decision]:
        """Decisions in input order (engines may batch internally)."""
        ...


__all__ = ["Engine"]
