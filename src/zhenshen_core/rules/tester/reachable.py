"""Expected values no decision of the pack can hold: typos in a test's ``expect``.

A test that expects ``tier: majr`` or ``experts: {required: [lawer]}`` can never pass, and one
that expects ``experts: {suggested: {excludes: [lawer]}}`` can never fail: either way the test
is not testing what its author meant. Every value a decision holds comes from the pack (its
severity levels, the tier and chair enums, and what its rules and table rows set), so such
values are reported as an error of the test file, with the closest value that could occur,
before the case is even evaluated.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from zhenshen_core.echo import shown
from zhenshen_core.rules.engines.outputs import OUTPUTS, OutputKind
from zhenshen_core.rules.pack.model import ResolvedPack


def _possible(pack: ResolvedPack) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Per decision path, every value a decision of ``pack`` can hold there; and per deadline
    clock, every period a rule gives it. Worked out once per pack (kept in ``pack.memo``)."""
    cached: tuple[dict[str, set[str]], dict[str, set[str]]] | None = pack.memo.get("reachable")
    if cached is not None:
        return cached
    values: dict[str, set[str]] = {}
    for output in OUTPUTS:
        if output.kind is OutputKind.LEVEL:
            values[output.name] = set(pack.severity_levels)
        elif output.kind is not OutputKind.CLOCKS:
            fixed = output.values if isinstance(output.values, tuple) else ()
            values[output.name] = set(fixed)
    gathered = [
        o
        for o in OUTPUTS
        if o.kind in (OutputKind.CHOICE, OutputKind.LIST) and not isinstance(o.values, tuple)
    ]
    periods: dict[str, set[str]] = {}
    for spec in pack.rules:
        outcome = spec.outcome
        for output in gathered:
            value = getattr(outcome, output.outcome)
            if output.kind is OutputKind.LIST:
                values[output.name].update(value)
            elif value:
                values[output.name].add(value)
        for clock, period in outcome.deadlines:
            periods.setdefault(clock, set()).add(period)
    pack.memo["reachable"] = (values, periods)
    return values, periods


def _values(want: Any) -> Iterator[str]:
    """The values an expectation names: a value, a list, or ``{contains, excludes}``."""
    if isinstance(want, str):
        yield want
    elif isinstance(want, list):
        yield from (item for item in want if isinstance(item, str))
    elif isinstance(want, Mapping):
        for key in ("contains", "excludes"):
            yield from _values(want.get(key) or [])


def _hint(value: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(value, sorted(choices), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def impossible_expectations(expect: Mapping[str, Any], pack: ResolvedPack) -> list[str]:
    """One message per expected value that no decision of ``pack`` can hold."""
    possible, periods = _possible(pack)
    problems: list[str] = []
    for path, want in _expected(expect):
        if path == "deadlines":
            problems.extend(_deadline_problems(want, pack.id, periods))
            continue
        choices = possible.get(path)
        if choices is None:
            continue
        for value in _values(want):
            if value in choices:
                continue
            if path in ("severity", "tier", "chair"):
                known = ", ".join(sorted(choices) if path != "severity" else pack.severity_levels)
                problems.append(f"{path}: {shown(value)} is not a {path} here ({known})")
            else:
                problems.append(
                    f"{path}: no rule or table row of pack {pack.id} sets {shown(value)}"
                    + _hint(value, choices)
                )
    return problems


def _deadline_problems(want: Any, pack_id: str, periods: Mapping[str, set[str]]) -> Iterator[str]:
    if not isinstance(want, Mapping):
        return
    for clock, period in want.items():
        if clock not in periods:
            if period is not None:  # expecting no such clock is what always happens
                yield (
                    f"deadlines.{clock}: no rule or table row of pack {pack_id} sets this "
                    f"clock" + _hint(str(clock), periods)
                )
        elif period is not None and period not in periods[clock]:
            known = ", ".join(repr(p) for p in sorted(periods[clock]))
            yield f"deadlines.{clock}: no rule sets the period {shown(period)} (only {known})"


def _expected(expect: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """(decision path, expectation), one level into ``departments`` and ``experts``."""
    for key, value in expect.items():
        if key in ("departments", "experts") and isinstance(value, Mapping):
            for inner, want in value.items():
                yield f"{key}.{inner}", want
        else:
            yield key, value


__all__ = ["impossible_expectations"]
