"""Static analysis for ``zhenshen check``: rules that can never fire, and priority conflicts.

Both are warnings, not errors: a pack with them still loads, because a district may be
mid-way through a change. The analysis is sound but incomplete — it only reasons about
equality and ``in`` tests joined by ``and`` — so a warning is always worth reading and
silence is not a proof.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from zhenshen_core.rules.diagnostics import Diagnostic
from zhenshen_core.rules.lang.ast import And, Compare, Expr, Field, In, Literal, NotIn
from zhenshen_core.rules.pack.model import ResolvedPack, RuleSpec

#: An "allowed values" map: field → frozenset of values it must equal (None: unconstrained).
Allowed = dict[str, frozenset[Any]]


def _key(value: Any) -> Any:
    # Keep True and 1 apart, like the engines' kind-strict equality.
    return (type(value) is bool, value)


def allowed_values(expr: Expr | None) -> tuple[Allowed, dict[str, frozenset[Any]]]:
    """Per-field value sets implied by the top-level conjunction (and excluded values)."""
    allowed: Allowed = {}
    excluded: dict[str, frozenset[Any]] = {}
    if expr is None:
        return allowed, excluded
    for test in expr.items if isinstance(expr, And) else (expr,):
        name: str | None = None
        values: tuple[Any, ...] | None = None
        negative = False
        if isinstance(test, Compare) and test.op in ("==", "!="):
            for a, b in ((test.left, test.right), (test.right, test.left)):
                if (
                    isinstance(a, Field)
                    and isinstance(b, Literal)
                    and not isinstance(b.value, tuple)
                ):
                    name, values, negative = a.name, (b.value,), test.op == "!="
                    break
        elif isinstance(test, In | NotIn) and isinstance(test.item, Field):
            coll = test.collection
            if isinstance(coll, Literal) and isinstance(coll.value, tuple):
                name, values, negative = test.item.name, coll.value, isinstance(test, NotIn)
        if name is None or values is None:
            continue
        keys = frozenset(_key(v) for v in values)
        if negative:
            excluded[name] = excluded.get(name, frozenset()) | keys
        else:
            allowed[name] = allowed[name] & keys if name in allowed else keys
    return allowed, excluded


def _empty_field(allowed: Allowed, excluded: dict[str, frozenset[Any]]) -> str | None:
    for name, values in allowed.items():
        if not values - excluded.get(name, frozenset()):
            return name
    return None


def _exclusive(a: RuleSpec, b: RuleSpec) -> bool:
    """Provably never both true (their equality constraints on some field are disjoint)."""
    allowed_a, excluded_a = allowed_values(a.condition)
    allowed_b, excluded_b = allowed_values(b.condition)
    merged: Allowed = dict(allowed_a)
    for name, values in allowed_b.items():
        merged[name] = merged[name] & values if name in merged else values
    excluded = {
        n: excluded_a.get(n, frozenset()) | excluded_b.get(n, frozenset())
        for n in set(excluded_a) | set(excluded_b)
    }
    return _empty_field(merged, excluded) is not None


def _scalar_outputs(spec: RuleSpec) -> Iterable[tuple[str, str]]:
    out = spec.outcome
    if out.lead is not None:
        yield "departments.lead", out.lead
    if out.tier is not None:
        yield "tier", out.tier
    if out.chair is not None:
        yield "chair", out.chair
    for clock, period in out.deadlines:
        yield f"deadlines.{clock}", period


def analyse_pack(pack: ResolvedPack) -> list[Diagnostic]:
    """W400 (can never fire) and W401 (equal-priority conflict) warnings."""
    warnings: list[Diagnostic] = []
    for spec in pack.rules:
        allowed, excluded = allowed_values(spec.condition)
        field_name = _empty_field(allowed, excluded)
        if field_name is not None:
            warnings.append(
                Diagnostic(
                    spec.file,
                    spec.line,
                    spec.column,
                    "W400",
                    f"{spec.id} can never fire: its tests on {field_name!r} contradict each other",
                    "warning",
                    rule=spec.id,
                )
            )
    tables = {t.id: t for t in pack.tables}
    by_key: dict[str, list[tuple[RuleSpec, str]]] = {}
    for spec in pack.rules:
        for key, value in _scalar_outputs(spec):
            by_key.setdefault(key, []).append((spec, value))
    for key, setters in by_key.items():
        for i, (a, value_a) in enumerate(setters):
            for b, value_b in setters[i + 1 :]:
                if a.priority != b.priority or value_a == value_b:
                    continue
                if a.table is not None and a.table == b.table and tables[a.table].hit != "collect":
                    continue  # the hit policy already picks one row
                if _exclusive(a, b):
                    continue
                warnings.append(
                    Diagnostic(
                        b.file,
                        b.line,
                        b.column,
                        "W401",
                        f"{b.id} and {a.id} both set {key} with priority {a.priority} "
                        f"({value_b!r} vs {value_a!r}); when both fire, {a.id} wins because it is "
                        "defined first — give one a higher priority",
                        "warning",
                        rule=b.id,
                    )
                )
    return warnings


__all__ = ["allowed_values", "analyse_pack"]
