"""The desk's cross-case monitor: patterns over many cases, run on durable_rules.

A pack declares them beside its per-case rules (``crosscase:`` in a rule file; see the rule
language reference). Each says which cases to watch (``on`` an event, filtered by ``when``),
how to correlate them (``key``: fact paths such as ``enterprise.uscc`` or ``[domain, tags]``),
how many within how long (``count`` within ``window``), and what to do when the pattern
completes: set facts on the completing case (the pack's rules then grade it again), escalate a
routed case into joint review, or propose a 举一反三 generalisation for staff to review.

The windowed joins run in a :class:`~zhenshen_core.rules.engines.durable.CrossCaseSession` (a Rete
engine is what such patterns are for); its state is rebuilt from the store on start-up by
:meth:`CrossCaseMonitor.warm_up`, so a restart loses nothing within the windows.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from zhenshen_core.model.case import SHANGHAI, Case
from zhenshen_core.rules import CrossCaseSpec, CrossCaseThen, fact_view, holds

Trigger = Literal["receive", "return"]

__all__ = [
    "CrossCaseHit",
    "CrossCaseMonitor",
    "CrossCaseSpec",
    "CrossCaseThen",
    "Trigger",
    "generalisation_record",
]


@dataclass(frozen=True)
class CrossCaseHit:
    """A completed pattern: the rule, the key values and the cases, oldest first."""

    rule: CrossCaseSpec
    key: tuple[Any, ...]
    case_ids: tuple[str, ...]
    first_day: date
    last_day: date


def _key_text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "+".join(sorted(str(v) for v in value))
    return str(value)


class CrossCaseMonitor:
    """Feeds cases to one durable session holding every cross-case rule of a pack."""

    def __init__(
        self,
        specs: Sequence[CrossCaseSpec],
        levels: tuple[str, ...] = (),
        *,
        max_keys: int = 1000,
        dates: Iterable[str] = (),
    ) -> None:
        from zhenshen_core.rules.engines.durable import CrossCaseSession
        from zhenshen_core.rules.engines.durable.patterns import WindowPattern

        self.specs = tuple(specs)
        self.levels = levels
        self.dates = frozenset(dates)  # the pack's date facts, read as its engines read them
        self._by_id = {s.id: s for s in self.specs}
        self._session = (
            CrossCaseSession(
                [WindowPattern(s.id, s.count, s.window_days, {"rule": s.id}) for s in self.specs],
                max_keys=max_keys,
                label="desk_crosscase",
            )
            if self.specs
            else None
        )
        self._keys: dict[str, tuple[Any, ...]] = {}

    @property
    def max_window_days(self) -> int:
        return max((s.window_days for s in self.specs), default=0)

    def observe(self, case: Case, event: Trigger, day: date | None = None) -> list[CrossCaseHit]:
        """Record ``case`` for every rule watching ``event``; return the patterns it completed."""
        if self._session is None:
            return []
        facts = fact_view(case, self.dates)
        when = day or case.received_at.astimezone(SHANGHAI).date()
        hits: list[CrossCaseHit] = []
        for spec in self.specs:
            if spec.event != event or (
                spec.when is not None and not holds(spec.when, facts, self.levels)
            ):
                continue
            values = tuple(facts.get(path) for path in spec.key)
            if any(v is None or v == () for v in values):
                continue  # a case without the key's facts cannot be correlated
            key = f"{spec.id}|" + "|".join(_key_text(v) for v in values)
            self._keys[key] = values
            for alert in self._session.observe(key, case.id, when, {"rule": spec.id}):
                hits.append(
                    CrossCaseHit(
                        self._by_id[alert.pattern],
                        self._keys[alert.key],
                        alert.case_ids,
                        alert.first_day,
                        alert.last_day,
                    )
                )
        return hits

    def warm_up(self, cases: Iterable[Case]) -> int:
        """Replay recent cases (oldest first) so the windows survive a restart; no effects."""
        n = 0
        for case in sorted(cases, key=lambda c: (c.received_at, c.id)):
            self.observe(case, "receive")
            for ret in case.returns:
                self.observe(case, "return", ret.at.astimezone(SHANGHAI).date())
            n += 1
        return n

    def close(self) -> None:
        if self._session is not None:
            self._session.close()


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _condition(path: str, value: Any) -> str:
    if isinstance(value, list | tuple):
        return f"{path} contains_all [{', '.join(_literal(v) for v in value)}]"
    return f"{path} == {_literal(value)}"


def generalisation_record(
    hit: CrossCaseHit, sample: Case, names: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """A 举一反三 proposal: the linked cases, a suggested rule and a test case for it.

    Staff review it; nothing is added to a pack automatically. The suggested rule and test are
    YAML in the pack's own format, so accepting it is a copy into the district pack.
    """
    spec = hit.rule
    conditions = " and ".join(_condition(p, v) for p, v in zip(spec.key, hit.key, strict=True))
    label = "、".join((names or {}).get(_key_text(v), _key_text(v)) for v in hit.key)
    rule_id = f"generalised.{_slug(spec.id)}.{hit.first_day:%Y%m%d}"
    suggested_rule = (
        f"- id: {rule_id}\n"
        f"  description: 举一反三：{label}类问题{len(hit.case_ids)}件，建议作为类案统一研究\n"
        f"  when: {conditions}\n"
        f"  then:\n"
        f"    tags: [举一反三]\n"
        f"    severity: {{at_least: S2}}\n"
    )
    case_data: dict[str, Any] = {"title": sample.title, "content": sample.content[:200]}
    for path, value in zip(spec.key, hit.key, strict=True):
        if path.startswith(("decision.", "facts.")) or path in ("returns", "lead_department"):
            continue  # derived facts: the sample's own text and tags carry them
        target = case_data
        *parents, leaf = path.split(".")
        for part in parents:
            target = target.setdefault(part, {})
        target[leaf] = list(value) if isinstance(value, tuple) else value
    test_case = (
        f"- name: {rule_id} fires for the linked cases\n"
        f"  case: {json.dumps(case_data, ensure_ascii=False)}\n"
        f"  expect: {{tags: [举一反三]}}\n"
        f"  fired: [{rule_id}]\n"
    )
    return {
        "status": "proposed",
        "rule": spec.id,
        "summary": (
            f"{label}：{hit.first_day:%Y-%m-%d}至{hit.last_day:%Y-%m-%d}"
            f"共{len(hit.case_ids)}件同类问题"
        ),
        "key": [list(v) if isinstance(v, list | tuple) else v for v in hit.key],
        "case_ids": list(hit.case_ids),
        "first_day": hit.first_day.isoformat(),
        "last_day": hit.last_day.isoformat(),
        "suggested_rule": suggested_rule,
        "suggested_test": test_case,
    }
