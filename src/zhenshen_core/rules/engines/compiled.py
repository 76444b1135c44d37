"""The compiled engine: expressions become Python closures, rules are indexed by value.

Two ideas keep per-case cost low and nearly flat in the number of rules:

* **Closures.** Each AST node is compiled once into a small function specialised for its
  operand kinds (a string equality is ``facts.get(name) == "x"``), so evaluation never walks the
  tree or dispatches on node types.
* **Indexing.** A rule whose condition is (or is a conjunction containing) ``field == literal``,
  ``field in [literals]``, ``list_field contains literal`` or, on a string field,
  ``contains "word"`` / ``contains_any [words]`` is filed under that value or word (the
  cheapest such test of the rule is its *anchor*). For a case, only rules filed under the case's
  actual values, plus the rules with no anchor, are candidates.

The index only narrows the candidates (a superset of the matches). A candidate found through a
string literal has its anchoring test proved by the lookup itself (a string key equals only
strings), so the rest of its condition, the *residual*, is evaluated; through any other literal,
its whole condition is. So the index can never change an answer. Semantics are exactly those of
``semantics.holds`` (the reference interpreter), which property tests check.

Over 600 lines on purpose: the closures and the index are one design (an index anchor is a
closure's conjunct, its residual the rest); apart, each half would need the other's internals.
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from zhenshen_core.rules.engines.base import MatcherEngine
from zhenshen_core.rules.engines.decision import DEFAULT_CACHE_SIZE, bit_indices
from zhenshen_core.rules.engines.facts import (
    STAGES,
    FieldType,
    fact_view,
    field_spec,
)
from zhenshen_core.rules.lang.ast import (
    And,
    Compare,
    Contains,
    ContainsAll,
    ContainsAny,
    Count,
    Exists,
    Expr,
    Field,
    In,
    Literal,
    Matches,
    Not,
    NotIn,
    Operand,
    Or,
)
from zhenshen_core.rules.lang.regex import searcher
from zhenshen_core.rules.lang.semantics import holds, is_severity, member, ordered, same
from zhenshen_core.rules.pack.model import ResolvedPack

Facts = Mapping[str, Any]
Test = Callable[[Facts], bool]
Getter = Callable[[Facts], Any]


def _getter(operand: Operand) -> Getter:
    if isinstance(operand, Field):
        name = operand.name

        def get_field(facts: Facts) -> Any:
            return facts.get(name)

        return get_field
    if isinstance(operand, Literal):
        const = operand.value

        def get_const(facts: Facts) -> Any:
            return const

        return get_const
    inner = operand.field.name

    def get_count(facts: Facts) -> Any:
        value = facts.get(inner)
        if value is None:
            return 0
        if isinstance(value, tuple | list):
            return len(value)
        return None

    return get_count


def _is_str_field(operand: Operand) -> bool:
    if not isinstance(operand, Field):
        return False
    spec = field_spec(operand.name)
    return spec is not None and spec.type in (FieldType.STRING, FieldType.SEVERITY)


_FLIP = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_NUMBER = (int, float)


def _fast_getter(operand: Operand) -> Getter:
    """Like ``_getter`` for a field or count, without a nested call for literals."""
    if isinstance(operand, Count):
        name = operand.field.name

        def count(facts: Facts) -> Any:
            value = facts.get(name)
            if value is None:
                return 0
            return len(value) if type(value) is tuple or type(value) is list else None

        return count
    return _getter(operand)


def _compile_scalar_compare(op: str, subject: Operand, const: Any, levels: tuple[str, ...]) -> Test:
    """``subject OP literal`` for a scalar literal, specialised on the literal's kind."""
    get = _fast_getter(subject)
    if op in _ORDER and is_severity(subject):
        rank = {level: i for i, level in enumerate(levels)}
        wanted = rank.get(const)
        cmp = _ORDER[op]
        if wanted is None:
            return lambda facts: False

        def severity_order(facts: Facts) -> bool:
            have = rank.get(get(facts))
            return have is not None and cmp(have, wanted)

        return severity_order
    if isinstance(const, bool):
        if op == "==":
            return lambda facts: get(facts) is const
        if op == "!=":
            return lambda facts: (value := get(facts)) is not None and value is not const
        return lambda facts: False
    if isinstance(const, int | float):
        if op == "==":
            return lambda facts: type(value := get(facts)) in _NUMBER and value == const
        if op == "!=":
            return lambda facts: (
                (value := get(facts)) is not None
                and not (type(value) in _NUMBER and value == const)
            )
        cmp = _ORDER[op]
        return lambda facts: type(value := get(facts)) in _NUMBER and cmp(value, const)
    if isinstance(const, date):
        if op == "==":
            return lambda facts: isinstance(value := get(facts), date) and value == const
        if op == "!=":
            return lambda facts: (
                (value := get(facts)) is not None
                and not (isinstance(value, date) and value == const)
            )
        cmp = _ORDER[op]
        return lambda facts: isinstance(value := get(facts), date) and cmp(value, const)
    # Strings: equal only to strings; a missing value (None) equals no string.
    if op == "==":
        return lambda facts: get(facts) == const
    if op == "!=":
        return lambda facts: (value := get(facts)) is not None and value != const
    return lambda facts: False  # ordering strings (not severity) is never true


def _compile_compare(node: Compare, levels: tuple[str, ...]) -> Test:
    op, left, right = node.op, node.left, node.right
    if isinstance(left, Literal) and not isinstance(right, Literal):
        left, right, op = right, left, _FLIP[op]  # type: ignore[assignment]
    if (
        isinstance(right, Literal)
        and not isinstance(right.value, tuple)
        and not isinstance(left, Literal)
    ):
        return _compile_scalar_compare(op, left, right.value, levels)
    # Fast path: a field compared with a string literal. Strings are only equal to strings, and
    # a missing field reads None, which equals no string: plain == is exactly kind-strict here.
    if isinstance(left, Literal) and not isinstance(right, Literal) and op in ("==", "!="):
        left, right = right, left
    if isinstance(left, Field) and isinstance(right, Literal) and isinstance(right.value, str):
        name, const = left.name, right.value
        if op == "==":
            return lambda facts: facts.get(name) == const
        if op == "!=":

            def not_equal(facts: Facts) -> bool:
                value = facts.get(name)
                return value is not None and value != const

            return not_equal
    get_a, get_b = _getter(left), _getter(right)
    if op == "==":

        def equal(facts: Facts) -> bool:
            a, b = get_a(facts), get_b(facts)
            return a is not None and b is not None and same(a, b)

        return equal
    if op == "!=":

        def unequal(facts: Facts) -> bool:
            a, b = get_a(facts), get_b(facts)
            return a is not None and b is not None and not same(a, b)

        return unequal
    if is_severity(left) or is_severity(right):
        rank = {level: i for i, level in enumerate(levels)}

        def severity_order(facts: Facts) -> bool:
            a, b = rank.get(get_a(facts)), rank.get(get_b(facts))
            return a is not None and b is not None and ordered(op, a, b)

        return severity_order

    def order(facts: Facts) -> bool:
        a, b = get_a(facts), get_b(facts)
        return a is not None and b is not None and ordered(op, a, b)

    return order


def _string_set(values: Any) -> frozenset[str] | None:
    if isinstance(values, tuple) and all(isinstance(v, str) for v in values):
        return frozenset(values)
    return None


def compile_expr(expr: Expr, levels: tuple[str, ...] = ()) -> Test:
    """A closure equivalent to ``semantics.holds(expr, facts, levels)``."""
    match expr:
        case And(items):
            parts = [compile_expr(i, levels) for i in items]
            if len(parts) == 2:
                first, second = parts
                return lambda facts: first(facts) and second(facts)

            def all_of(facts: Facts) -> bool:
                for part in parts:  # noqa: SIM110 (a loop, not all(generator): no frame per call)
                    if not part(facts):
                        return False
                return True

            return all_of
        case Or(items):
            parts = [compile_expr(i, levels) for i in items]
            if len(parts) == 2:
                first, second = parts
                return lambda facts: first(facts) or second(facts)

            def any_of(facts: Facts) -> bool:
                for part in parts:  # noqa: SIM110
                    if part(facts):
                        return True
                return False

            return any_of
        case Not(item):
            inner = compile_expr(item, levels)
            return lambda facts: not inner(facts)
        case Exists(field_node):
            name = field_node.name
            return lambda facts: facts.get(name) is not None
        case Compare():
            return _compile_compare(expr, levels)
        case Contains(Field() as container, Literal(value=str() as word)):
            return _word_in(container.name, word)
        case In(Literal(value=str() as word), Field() as container):
            return _word_in(container.name, word)
        case In(item, collection):
            return _compile_in(item, collection, negated=False)
        case NotIn(item, collection):
            return _compile_in(item, collection, negated=True)
        case Contains(container, item):
            get_c, get_i = _getter(container), _getter(item)

            def contains(facts: Facts) -> bool:
                c, i = get_c(facts), get_i(facts)
                return c is not None and i is not None and member(i, c)

            return contains
        case ContainsAny(container, items):
            return _compile_contains_any(container, items)
        case ContainsAll(container, items):
            get_c, get_i = _getter(container), _getter(items)

            def contains_all(facts: Facts) -> bool:
                c, i = get_c(facts), get_i(facts)
                if not isinstance(c, tuple | list | str) or not isinstance(i, tuple | list):
                    return False
                return all(member(x, c) for x in i)

            return contains_all
        case Matches(subject, pattern):
            search = searcher(pattern)
            get_s = _getter(subject)

            def matches(facts: Facts) -> bool:
                s = get_s(facts)
                return isinstance(s, str) and search(s)

            return matches
    raise TypeError(f"not an expression: {expr!r}")  # pragma: no cover


def _word_in(name: str, word: str) -> Test:
    """A string in a list field (an equal element) or a string field (a substring): Python's
    ``in`` does both with exactly the kind-strict semantics, as a word equals only strings."""
    return lambda facts: (
        isinstance(value := facts.get(name), tuple | list | str) and (word in value)
    )


def _compile_in(item: Operand, collection: Operand, *, negated: bool) -> Test:
    get_i, get_c = _getter(item), _getter(collection)
    strings = (
        _string_set(collection.value)
        if isinstance(collection, Literal) and isinstance(item, Field)
        else None
    )
    if strings is not None:
        name = item.name  # type: ignore[union-attr]
        if not negated:

            def in_strings(facts: Facts) -> bool:
                value = facts.get(name)
                return isinstance(value, str) and value in strings

            return in_strings

        def not_in_strings(facts: Facts) -> bool:
            value = facts.get(name)
            return value is not None and not (isinstance(value, str) and value in strings)

        return not_in_strings

    def membership(facts: Facts) -> bool:
        i, c = get_i(facts), get_c(facts)
        if i is None or c is None:
            return False
        if negated:
            return isinstance(c, tuple | list | str) and not member(i, c)
        return member(i, c)

    return membership


def _compile_contains_any(container: Operand, items: Operand) -> Test:
    get_c, get_i = _getter(container), _getter(items)
    if _is_str_field(container) and isinstance(items, Literal):
        words = _string_set(items.value)
        if words is not None and words:
            name = container.name  # type: ignore[union-attr]
            search = re.compile("|".join(re.escape(w) for w in sorted(words))).search
            return lambda facts: (
                isinstance(value := facts.get(name), str) and search(value) is not None
            )

    def contains_any(facts: Facts) -> bool:
        c, i = get_c(facts), get_i(facts)
        if c is None or not isinstance(i, tuple | list):
            return False
        return any(member(x, c) for x in i)

    return contains_any


# ---------------------------------------------------------------------------------------------
# Indexing.

#: Anchor kinds, cheapest lookup first: ``eq`` (the field's value is one of the literals: one
#: dict lookup), ``elem`` (the list field holds one of them: a lookup per element), ``sub``
#: (the string field contains one of the words: a substring test per word).
_ANCHOR_KINDS = ("eq", "elem", "sub")

Anchor = tuple[str, str, tuple[Any, ...], int]


def _anchors(expr: Expr) -> Iterator[Anchor]:
    """Indexable tests among the top-level conjuncts: (kind, field, values, conjunct number).

    Only hashable scalar literals qualify; ``sub`` only on fields typed string, whose values
    are always strings (so ``word in value`` is exactly the test).
    """
    conjuncts = expr.items if isinstance(expr, And) else (expr,)
    for number, test in enumerate(conjuncts):
        if isinstance(test, Compare) and test.op == "==":
            for a, b in ((test.left, test.right), (test.right, test.left)):
                if (
                    isinstance(a, Field)
                    and isinstance(b, Literal)
                    and not isinstance(b.value, tuple)
                ):
                    yield ("eq", a.name, (b.value,), number)
                    break
        elif isinstance(test, In) and isinstance(test.item, Field):
            coll = test.collection
            if isinstance(coll, Literal) and isinstance(coll.value, tuple) and coll.value:
                yield ("eq", test.item.name, coll.value, number)
        elif isinstance(test, Contains) and isinstance(test.container, Field):
            spec = field_spec(test.container.name)
            item = test.item
            if spec is None or not isinstance(item, Literal) or isinstance(item.value, tuple):
                continue
            if spec.type == FieldType.LIST:
                yield ("elem", test.container.name, (item.value,), number)
            elif spec.type == FieldType.STRING and isinstance(item.value, str) and item.value:
                yield ("sub", test.container.name, (item.value,), number)
        elif isinstance(test, ContainsAny) and isinstance(test.container, Field):
            spec = field_spec(test.container.name)
            words = test.items.value if isinstance(test.items, Literal) else None
            if (
                spec is not None
                and spec.type == FieldType.STRING
                and isinstance(words, tuple)
                and words
                and all(isinstance(w, str) and w for w in words)
            ):
                yield ("sub", test.container.name, words, number)


def _anchor(expr: Expr) -> Anchor | None:
    """The cheapest anchor of ``expr`` (see ``_ANCHOR_KINDS``), first in the rule on ties."""
    found = list(_anchors(expr))
    if not found:
        return None
    return min(found, key=lambda a: (_ANCHOR_KINDS.index(a[0]), a[3]))


def _residual(expr: Expr, anchor: Anchor, levels: tuple[str, ...]) -> Test | None:
    """The test left to run on a candidate found through ``anchor``: the condition without the
    anchoring conjunct when a hit proves that conjunct (string literals: a string key equals
    only strings, so the lookup *is* the test), else the whole condition. None: always true."""
    if not all(isinstance(v, str) for v in anchor[2]):
        return compile_expr(expr, levels)
    conjuncts = expr.items if isinstance(expr, And) else (expr,)
    rest = tuple(c for n, c in enumerate(conjuncts) if n != anchor[3])
    if not rest:
        return None
    return compile_expr(rest[0] if len(rest) == 1 else And(rest), levels)


#: An index hit: (the rule's bit, the residual test; None when the hit proves the condition).
Candidates = tuple[tuple[int, Test | None], ...]


@dataclass
class _StageIndex:
    """The rules of one or more stages while the index is built: those with no anchor (tested
    on every case, or always true) and the anchored ones, filed by field and value with the
    test left to run on a hit. A rule is its bit (``pack.stage_offsets``) throughout."""

    always: int = 0
    tested: list[tuple[int, Test]] = field(default_factory=list)
    eq: dict[str, dict[Any, list[tuple[int, Test | None]]]] = field(default_factory=dict)
    elem: dict[str, dict[Any, list[tuple[int, Test | None]]]] = field(default_factory=dict)
    sub: dict[str, dict[str, list[tuple[int, Test | None]]]] = field(default_factory=dict)

    def add(self, frozen: _FrozenIndex) -> None:
        """Take in the rules of another index (their bits never overlap with these)."""
        self.always |= frozen.always
        self.tested.extend(frozen.tested)
        for mine, theirs in ((self.eq, frozen.eq), (self.elem, frozen.elem)):
            for name, table in theirs:
                target = mine.setdefault(name, {})
                for value, hits in table.items():
                    target.setdefault(value, []).extend(hits)
        for name, words in frozen.sub:
            target = self.sub.setdefault(name, {})
            for word, hits in words:
                target.setdefault(word, []).extend(hits)

    def frozen(self) -> _FrozenIndex:
        def tables(
            by_field: dict[str, dict[Any, list[tuple[int, Test | None]]]],
        ) -> tuple[tuple[str, dict[Any, Candidates]], ...]:
            return tuple(
                (name, {value: tuple(hits) for value, hits in table.items()})
                for name, table in by_field.items()
            )

        return _FrozenIndex(
            always=self.always,
            tested=tuple(self.tested),
            eq=tables(self.eq),
            elem=tables(self.elem),
            sub=tuple(
                (name, tuple((word, tuple(hits)) for word, hits in table.items()))
                for name, table in self.sub.items()
            ),
        )


@dataclass(frozen=True, slots=True)
class _FrozenIndex:
    always: int
    tested: tuple[tuple[int, Test], ...]
    eq: tuple[tuple[str, dict[Any, Candidates]], ...]
    elem: tuple[tuple[str, dict[Any, Candidates]], ...]
    sub: tuple[tuple[str, tuple[tuple[str, Candidates], ...]], ...]


class CompiledMatcher:
    """Per-stage indexes and closures for one pack (immutable after construction)."""

    def __init__(self, pack: ResolvedPack, *, indexed: bool = True) -> None:
        self.indexed = indexed
        self.stages: dict[str, _FrozenIndex] = {}
        self._offsets = pack.stage_offsets
        levels = pack.severity_levels
        for stage in STAGES:
            index = _StageIndex()
            offset = self._offsets[stage]
            for i, spec in enumerate(pack.stage_rules(stage)):
                bit = 1 << (offset + i)
                condition = spec.condition
                if condition is None:
                    index.always |= bit
                    continue
                anchor = _anchor(condition) if indexed else None
                if anchor is None:
                    index.tested.append((bit, compile_expr(condition, levels)))
                    continue
                kind, name, values, _ = anchor
                table = getattr(index, kind).setdefault(name, {})
                entry = (bit, _residual(condition, anchor, levels))
                for value in dict.fromkeys(values):
                    table.setdefault(value, []).append(entry)
            self.stages[stage] = index.frozen()

    def match(self, stage: str, facts: Facts) -> list[int]:
        """Indices of the stage's rules that hold for ``facts``, ascending."""
        return bit_indices(_match(self.stages[stage], facts), self._offsets[stage])

    def bits_matcher(self, stages: Sequence[str]) -> Callable[[Facts], int]:
        """One function matching several stages at once (what the combiner asks for each
        group of stages that see the same facts): their indexes merged, so a field is looked
        up once for all of them. The answer is the OR of the matching rules' bits
        (``pack.stage_offsets``): cheaper than collecting, deduplicating and hashing indices."""
        if len(stages) == 1:
            return functools.partial(_match, self.stages[stages[0]])
        merged = _StageIndex()
        for stage in stages:
            merged.add(self.stages[stage])
        return functools.partial(_match, merged.frozen())


def _match(index: _FrozenIndex, facts: Facts) -> int:
    """The rules of ``index`` that hold for ``facts``, as an OR of their bits."""
    bits = index.always
    for bit, test in index.tested:
        if test(facts):
            bits |= bit
    get = facts.get
    found: list[Candidates] = []  # the index's hits; their residual tests run below
    for name, table in index.eq:
        value = get(name)
        if value is None:
            continue
        try:
            hits = table.get(value)
        except TypeError:  # unhashable fact value: cannot equal a scalar literal
            continue
        if hits:
            found.append(hits)
    for name, table in index.elem:
        values = get(name)
        if type(values) is tuple or type(values) is list:
            for value in values:
                try:
                    hits = table.get(value)
                except TypeError:
                    continue
                if hits:
                    found.append(hits)
    for name, words in index.sub:
        text = get(name)
        if type(text) is str:
            for word, hits in words:  # a loop, not a generator: this runs per case
                if word in text:
                    found.append(hits)
    for hits in found:
        for bit, residual in hits:
            if residual is None or residual(facts):
                bits |= bit
    return bits


class InterpretedMatcher:
    """The naive baseline: interpret every rule's AST for every case (no closures, no index)."""

    def __init__(self, pack: ResolvedPack) -> None:
        self.pack = pack

    def match(self, stage: str, facts: Facts) -> list[int]:
        levels = self.pack.severity_levels
        return [
            i
            for i, spec in enumerate(self.pack.stage_rules(stage))
            if spec.condition is None or holds(spec.condition, facts, levels)
        ]


class CompiledEngine(MatcherEngine):
    """The default engine: ``evaluate(case) -> Decision``. Thread-safe; build once per pack."""

    name = "compiled"

    def __init__(
        self, pack: ResolvedPack, *, indexed: bool = True, cache_size: int = DEFAULT_CACHE_SIZE
    ) -> None:
        super().__init__(pack, CompiledMatcher(pack, indexed=indexed), cache_size=cache_size)


class InterpretedEngine(MatcherEngine):
    """Same interface, reference semantics, no optimisation: for tests and benchmarks."""

    name = "interpreted"

    def __init__(self, pack: ResolvedPack, *, cache_size: int = 0) -> None:
        super().__init__(
            pack,
            InterpretedMatcher(pack),
            cache_size=cache_size,
            view=functools.partial(fact_view, dates=pack.date_facts),
        )


__all__ = [
    "CompiledEngine",
    "CompiledMatcher",
    "InterpretedEngine",
    "InterpretedMatcher",
    "compile_expr",
]
