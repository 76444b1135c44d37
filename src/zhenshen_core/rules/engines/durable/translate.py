"""Rule conditions (AST) → durable_rules JSON conditions over a slim, encoded fact.

durable_rules compares loosely (``"2" == 2`` and ``true == 1`` match, ``true < 2.5`` holds),
cannot parse numbers such as ``1e+16`` (error 204), has no substring test, and its ``$mt`` is a
DFA dialect, not Python's ``re``. So the engine never sees the case's raw values. For each
stage the translator derives a *slim fact*: a few short properties ``p0 … pN`` (safe names: no dot
paths, no user text), each computed in Python from the fact view, and translates every condition to
native durable operators over them:

``intern`` (scalar fields only tested for equality / ``in``)
    The literal's index among the field's literals, 0 for any other value, decided with the
    language's kind-strict equality (``semantics.same``: ``true`` is not ``1``, ``1 == 1.0``).
``code`` (scalar fields with ordered comparisons: numbers, dates, severity levels)
    An order-preserving integer code. With the field's literals sorted ``L0 < L1 < …``, a value
    equal to ``Li`` gets ``2i+1``, a value strictly between ``Li-1`` and ``Li`` gets ``2i``.
    Then ``x OP Li`` ⇔ ``code OP 2i+1`` exactly, for ``== != < <= > >=`` — numbers of any
    size, dates and severity levels (by the pack's order) included.
``other`` (with ``code``)
    ``1`` when the value is present but of another kind (a string in a number field, a severity
    outside the pack's levels): its code is then absent, so ordering and ``==`` fail while
    ``!=`` and ``not in`` hold, as in ``semantics.holds``.

A missing (absent or ``None``) field leaves its properties out, so every test on it is false,
as the language requires.

``member`` (``list contains v``, ``contains_any``, ``contains_all``, ``v in list``)
    ``1``/``0`` per literal item; absent when the list is missing.
``count`` (``count(f) OP n``)
    The order-preserving code of a list's length (0 when missing; absent when the value is not
    a list, which makes every test on it false).
``present`` (``exists(f)``)
    ``1``, absent when the field is missing.
``feature`` (everything else)
    A boolean computed in Python with the compiled engine's closure for that test (which is
    property-tested against ``semantics.holds``): substring ``contains`` on text, ``matches``,
    comparisons between two fields, ordered comparisons whose literals mix kinds, and any
    condition that would exceed durable_rules' per-rule limits.

``bucket`` (fields tested for equality with more than ``BUCKET_AT`` values)
    The field's code divided by ``BUCKET_SIZE``, tested just before the code itself, so that no
    alpha node gets more than ``BUCKET_SIZE`` equality children (the engine hangs past 511).

``not`` is pushed down to the leaves (De Morgan); the complement of a leaf that is false on a
missing field is ``$nex`` *or* the complementary operator, which is exactly "not (test)". ``$ne``
is never emitted (durable refuses it or accepts it and never matches); ``$neq`` is.

Rules with identical compiled conditions are merged into one durable rule mapped back to every
pack rule, which avoids the engine's 256-rules-per-node crash and saves activations.

Over 600 lines on purpose: each encoding (intern, code, member, count, present, feature,
bucket) is a pair — how a condition is translated and how a fact is encoded for it — and the
pairs must change together.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import date
from typing import Any

from zhenshen_core.rules.engines.compiled import compile_expr
from zhenshen_core.rules.engines.durable.limits import DEFAULT_LIMITS, Limits, check_rule
from zhenshen_core.rules.engines.durable.session import EngineError
from zhenshen_core.rules.engines.facts import FieldType, field_spec
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
    Not,
    NotIn,
    Operand,
    Or,
    to_source,
)
from zhenshen_core.rules.lang.semantics import _kind, holds, member

Condition = dict[str, Any]
View = Mapping[str, Any]

_FLIP = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_NEGATE = {"==": "!=", "!=": "==", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}
_DURABLE_OP = {"!=": "$neq", "<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte"}
_ORDERED = frozenset({"<", "<=", ">", ">="})
_MISSING = object()
#: A field tested for equality with more distinct values than this gets a bucket property, so no
#: alpha node has more than ``BUCKET_SIZE`` equality children (durable_rules hangs past 511).
BUCKET_AT = 256
BUCKET_SIZE = 128


# ---------------------------------------------------------------------------------------------
# Slim-fact properties.


@dataclass(frozen=True, slots=True)
class Prop:
    """How one slim-fact property is computed from the fact view."""

    name: str
    kind: str  # code | other | intern | member | count | present | feature
    field: str = ""
    literals: tuple[Any, ...] = ()  # code/count: the sorted literals
    table: Mapping[Any, int] = dc_field(default_factory=dict)  # intern: literal key → code
    item: Any = None  # member: the literal item
    expr: Expr | None = None  # feature
    severity: bool = False  # code: map values through the pack's severity order
    bucket: int = 0  # > 0: this is the bucket (code // bucket) of an intern/code property

    def compute(self, view: View, levels: tuple[str, ...], rank: Mapping[str, int]) -> Any:
        """The property's value, or ``_MISSING`` to leave it out of the fact.

        Raises :class:`Unrepresentable` for a ``datetime`` in a date field (the fact view never
        produces one; a hand-made view might): the caller then answers that stage with the
        reference interpreter, which raises the same way the compiled engine does.
        """
        kind = self.kind
        if kind == "feature":
            assert self.expr is not None
            return 1 if holds(self.expr, view, levels) else 0
        value = view.get(self.field)
        if kind == "count":
            if value is None:
                value = ()
            if not isinstance(value, tuple | list):
                return _MISSING  # count of a string or scalar: no number, every test false
            return _rank(self.literals, len(value))
        if value is None:
            return _MISSING
        if kind == "present":
            return 1
        if kind == "member":
            return 1 if member(self.item, value) else 0
        if kind == "intern":
            code = _intern(self.table, value)
            return code // self.bucket if self.bucket else code
        comparable = self._comparable(value, rank)
        if kind == "other":
            return _MISSING if comparable else 1
        if not comparable:
            return _MISSING
        code = _rank(self.literals, rank[value] if self.severity else value)
        return code // self.bucket if self.bucket else code

    def _comparable(self, value: Any, rank: Mapping[str, int]) -> bool:
        """Whether a present value can be ordered against this property's literals.

        A value that cannot (a string in a number field, ``true`` among numbers, a severity
        outside the pack's levels) equals no literal and orders with none: its ``code`` is left
        out and its ``other`` flag set, so ``!=``/``not in`` hold and every other test fails,
        exactly as in ``semantics.holds``.
        """
        if self.severity:
            return isinstance(value, str) and value in rank
        literal = self.literals[0]
        if _kind(value) != _kind(literal):
            return False
        if isinstance(literal, date) and type(value) is not type(literal):
            raise Unrepresentable(self.field)  # datetime vs date: holds raises; so do we
        return True


class Unrepresentable(Exception):
    """A fact value the slim-fact encoding cannot represent exactly."""


def _rank(literals: tuple[Any, ...], value: Any) -> Any:
    try:
        i = bisect.bisect_left(literals, value)
    except TypeError:
        return _MISSING
    if i < len(literals) and literals[i] == value:
        return 2 * i + 1
    return 2 * i


def _intern_key(value: Any) -> Any:
    """A dict key that is equal exactly when ``semantics.same`` says so (for scalars)."""
    kind = _kind(value)
    if kind == "list":
        return ("list", repr(value))  # never the same as a scalar literal
    return (kind, value)


def _intern(literals: Mapping[Any, int], value: Any) -> int:
    try:
        return literals.get(_intern_key(value), 0)
    except TypeError:  # an unhashable value cannot equal a scalar literal
        return 0


def _literal_key(value: Any) -> tuple[str, str]:
    """A hashable identity for a literal that keeps kinds apart (``true`` vs ``1``)."""
    return (type(value).__name__, repr(value))


# ---------------------------------------------------------------------------------------------
# The translator.


@dataclass
class _Plan:
    """What each field is compared with, collected in a first pass over a stage."""

    scalar_literals: dict[str, list[Any]] = dc_field(default_factory=dict)
    ordered_fields: set[str] = dc_field(default_factory=set)
    count_literals: dict[str, list[Any]] = dc_field(default_factory=dict)


@dataclass(frozen=True)
class TranslatedStage:
    """One stage translated for durable_rules.

    ``rules`` maps durable rule name → condition (``None`` = always); ``owners`` maps it to the
    indices (into the stage's rule list) of every pack rule with that condition.
    """

    props: tuple[Prop, ...]
    rules: dict[str, Condition | None]
    owners: dict[str, tuple[int, ...]]
    features: int  # how many properties are Python-computed features


class StageTranslator:
    """Compiles one stage's conditions; allocates slim-fact properties as it goes."""

    def __init__(self, severity_levels: Sequence[str], limits: Limits = DEFAULT_LIMITS) -> None:
        self.levels = tuple(severity_levels)
        self.severity = {level: i for i, level in enumerate(severity_levels)}
        self.limits = limits
        self.plan = _Plan()
        self.props: dict[tuple[Any, ...], Prop] = {}
        self._encodings: dict[str, Prop | None] = {}

    # -- pass 1: which literals does each field meet? -------------------------------------

    def _survey(self, expr: Expr) -> None:
        match expr:
            case And(items) | Or(items):
                for item in items:
                    self._survey(item)
            case Not(item):
                self._survey(item)
            case Compare(op, left, right):
                norm = _normalise_compare(op, left, right)
                if norm is None:
                    return
                nop, subject, literal = norm
                if isinstance(subject, Count):
                    if _is_number(literal):
                        self.plan.count_literals.setdefault(subject.field.name, []).append(literal)
                    return
                self.plan.scalar_literals.setdefault(subject.name, []).append(literal)
                if nop in _ORDERED:
                    self.plan.ordered_fields.add(subject.name)
            case In(Field() as subject, Literal(tuple() as values)) | NotIn(
                Field() as subject, Literal(tuple() as values)
            ):
                self.plan.scalar_literals.setdefault(subject.name, []).extend(values)
            case _:
                return

    # -- properties -----------------------------------------------------------------------

    def _prop(self, key: tuple[Any, ...], make: Callable[[str], Prop]) -> str:
        prop = self.props.get(key)
        if prop is None:
            prop = make(f"p{len(self.props)}")
            self.props[key] = prop
        return prop.name

    def _scalar_encoding(self, name: str) -> Prop | None:
        """The (cached) ``code``/``intern`` property of a scalar field, or None if the field's
        tests cannot be encoded exactly (they become features)."""
        if name in self._encodings:
            return self._encodings[name]
        prop = self._make_encoding(name)
        self._encodings[name] = prop
        return prop

    def _make_encoding(self, name: str) -> Prop | None:
        spec = field_spec(name)
        ftype = spec.type if spec is not None else FieldType.ANY
        literals = self.plan.scalar_literals.get(name, [])
        if ftype == FieldType.LIST:
            return None
        make: Callable[[str], Prop]
        if name in self.plan.ordered_fields:
            if ftype == FieldType.SEVERITY:
                ranks = {self.severity[v] for v in literals if v in self.severity}
                if len(ranks) != len(set(literals)):
                    return None
                ordered = tuple(sorted(ranks))
                make = lambda p: Prop(p, "code", field=name, literals=ordered, severity=True)  # noqa: E731
            elif ftype in (FieldType.NUMBER, FieldType.DATE, FieldType.ANY) and (
                all(_is_number(v) for v in literals) or all(_is_date(v) for v in literals)
            ):
                ordered = tuple(sorted(set(literals)))
                make = lambda p: Prop(p, "code", field=name, literals=ordered)  # noqa: E731
            else:
                return None
        else:
            table: dict[Any, int] = {}
            for value in literals:
                table.setdefault(_intern_key(value), len(table) + 1)
            make = lambda p: Prop(p, "intern", field=name, table=table)  # noqa: E731
        key = ("scalar", name)
        self._prop(key, make)
        return self.props[key]

    def _literal_code(self, name: str, value: Any) -> tuple[str, int] | None:
        prop = self._scalar_encoding(name)
        if prop is None:
            return None
        if prop.kind == "intern":
            return prop.name, _intern(prop.table, value)
        if prop.severity:
            if value not in self.severity:
                return None
            value = self.severity[value]
        code = _rank(prop.literals, value)
        if code is _MISSING or code % 2 == 0:  # pragma: no cover - literal always listed
            return None
        return prop.name, int(code)

    def _feature(self, expr: Expr) -> tuple[Condition, Condition]:
        # Keyed by source text: equal tests at different places in the pack share one feature.
        prop = self._prop(("feature", to_source(expr)), lambda p: Prop(p, "feature", expr=expr))
        return {prop: 1}, {prop: 0}

    def _present(self, name: str) -> str:
        return self._prop(("present", name), lambda p: Prop(p, "present", field=name))

    def _member(self, name: str, item: Any) -> str:
        return self._prop(
            ("member", name, _literal_key(item)),
            lambda p: Prop(p, "member", field=name, item=item),
        )

    # -- pass 2: conditions ---------------------------------------------------------------

    def _leaf(self, expr: Expr) -> tuple[Condition, Condition] | None:
        """``(condition, exact complement)`` of a test natively, or None for a feature."""
        match expr:
            case Exists(f):
                prop = self._present(f.name)
                return {"$ex": {prop: 1}}, {"$nex": {prop: 1}}
            case Compare(op, left, right):
                norm = _normalise_compare(op, left, right)
                if norm is None:
                    return None
                nop, subject, literal = norm
                if isinstance(subject, Count):
                    return self._count(nop, subject.field.name, literal)
                if nop in ("==", "!="):
                    sets = self._scalar_sets(subject.name, (literal,))
                    if sets is None:
                        return None
                    inside, not_inside, outside, not_outside = sets
                    return (inside, not_inside) if nop == "==" else (outside, not_outside)
                coded = self._literal_code(subject.name, literal)
                if coded is None:
                    return None
                prop, code = coded
                return _test(prop, nop, code), {
                    "$or": [{"$nex": {prop: 1}}, _test(prop, _NEGATE[nop], code)]
                }
            case In(Field() as subject, Literal(tuple() as values)):
                sets = self._scalar_sets(subject.name, values)
                return None if sets is None else (sets[0], sets[1])
            case NotIn(Field() as subject, Literal(tuple() as values)):
                sets = self._scalar_sets(subject.name, values)
                return None if sets is None else (sets[2], sets[3])
            case In(Literal(value), Field() as coll) if _is_list(coll) and _is_scalar(value):
                return self._members(coll.name, (value,), any_of=True)
            case Contains(Field() as coll, Literal(value)) if _is_list(coll) and _is_scalar(value):
                return self._members(coll.name, (value,), any_of=True)
            case ContainsAny(Field() as coll, Literal(tuple() as values)) if _is_list(coll):
                return self._members(coll.name, values, any_of=True)
            case ContainsAll(Field() as coll, Literal(tuple() as values)) if _is_list(coll):
                return self._members(coll.name, values, any_of=False)
        return None

    def _count(self, op: str, name: str, literal: Any) -> tuple[Condition, Condition] | None:
        if not _is_number(literal):
            return None
        literals = tuple(sorted(set(self.plan.count_literals.get(name, [literal]))))
        prop = self._prop(
            ("count", name), lambda p: Prop(p, "count", field=name, literals=literals)
        )
        code = _rank(literals, literal)
        return _test(prop, op, code), {"$or": [{"$nex": {prop: 1}}, _test(prop, _NEGATE[op], code)]}

    def _scalar_sets(
        self, name: str, values: tuple[Any, ...]
    ) -> tuple[Condition, Condition, Condition, Condition] | None:
        """For "the field's value is one of ``values``": ``(inside, not inside, outside,
        not outside)``, where *outside* means present and not inside (``!=``, ``not in``)."""
        if not values:
            prop = self._present(name)
            never = {"$and": [{"$ex": {prop: 1}}, {"$nex": {prop: 1}}]}
            always = {"$or": [{"$ex": {prop: 1}}, {"$nex": {prop: 1}}]}
            return never, always, {"$ex": {prop: 1}}, {"$nex": {prop: 1}}
        codes: list[tuple[str, int]] = []
        for value in values:
            coded = self._literal_code(name, value)
            if coded is None:
                return None
            if coded not in codes:
                codes.append(coded)
        prop = codes[0][0]
        inside = self._inside(name, codes)
        differs = _connect("$and", [_test(p, "!=", c) for p, c in codes])
        not_inside = {"$or": [{"$nex": {prop: 1}}, differs]}
        encoding = self._scalar_encoding(name)
        if encoding is not None and encoding.kind == "code":
            other = self._other(encoding)
            outside = {"$or": [differs, {other: 1}]}
            not_outside = {"$or": [{"$and": [{"$nex": {prop: 1}}, {"$nex": {other: 1}}]}, inside]}
        else:  # interned: every present value has a code
            outside = differs
            not_outside = {"$or": [{"$nex": {prop: 1}}, inside]}
        return inside, not_inside, outside, not_outside

    def _inside(self, name: str, codes: list[tuple[str, int]]) -> Condition:
        """ "The code is one of ``codes``", through the field's bucket property when the field
        has so many values that one alpha node would get too many equality children."""
        encoding = self._scalar_encoding(name)
        assert encoding is not None
        size = len(encoding.table) if encoding.kind == "intern" else 2 * len(encoding.literals)
        if size <= BUCKET_AT:
            return _connect("$or", [_test(p, "==", c) for p, c in codes])
        bucket = self._prop(
            ("bucket", name),
            lambda p: Prop(
                p,
                encoding.kind,
                field=name,
                literals=encoding.literals,
                table=encoding.table,
                severity=encoding.severity,
                bucket=BUCKET_SIZE,
            ),
        )
        groups: dict[int, list[Condition]] = {}
        for p, c in codes:
            groups.setdefault(c // BUCKET_SIZE, []).append(_test(p, "==", c))
        return _connect(
            "$or",
            [
                {"$and": [{bucket: b}, _connect("$or", tests)]}
                if len(tests) > 1
                else {"$and": [{bucket: b}, tests[0]]}
                for b, tests in groups.items()
            ],
        )

    def _other(self, encoding: Prop) -> str:
        return self._prop(
            ("other", encoding.field),
            lambda p: Prop(
                p,
                "other",
                field=encoding.field,
                literals=encoding.literals,
                severity=encoding.severity,
            ),
        )

    def _members(
        self, name: str, values: tuple[Any, ...], *, any_of: bool
    ) -> tuple[Condition, Condition] | None:
        if not all(_is_scalar(v) for v in values):
            return None
        if not values:
            prop = self._present(name)
            if any_of:  # contains_any [] is false
                never = {"$and": [{"$ex": {prop: 1}}, {"$nex": {prop: 1}}]}
                return never, {"$or": [{"$ex": {prop: 1}}, {"$nex": {prop: 1}}]}
            return {"$ex": {prop: 1}}, {"$nex": {prop: 1}}
        props = [self._member(name, v) for v in values]
        props = list(dict.fromkeys(props))
        yes = [{p: 1} for p in props]
        no = [{p: 0} for p in props]
        missing = {"$nex": {props[0]: 1}}
        if any_of:
            cond = yes[0] if len(yes) == 1 else {"$or": yes}
            comp = no[0] if len(no) == 1 else {"$and": no}
        else:
            cond = yes[0] if len(yes) == 1 else {"$and": yes}
            comp = no[0] if len(no) == 1 else {"$or": no}
        return cond, {"$or": [missing, comp]}

    def _expr(self, expr: Expr, negate: bool) -> Condition:
        match expr:
            case Not(item):
                return self._expr(item, not negate)
            case And(items) | Or(items):
                conjunction = isinstance(expr, And) != negate
                parts = [self._expr(i, negate) for i in items]
                return _connect("$and" if conjunction else "$or", parts)
        leaf = self._leaf(expr)
        if leaf is None:
            leaf = self._feature(expr)
        return leaf[1] if negate else leaf[0]

    def condition(self, expr: Expr | None) -> Condition | None:
        """The durable condition for one rule (``None`` = always true)."""
        if expr is None:
            return None
        cond = self._expr(expr, negate=False)
        try:
            check_rule("rule", cond, self.limits)
        except EngineError:
            # Too complex for one durable rule: evaluate the whole condition in Python.
            cond = self._feature(expr)[0]
        return cond

    def translate(self, conditions: Sequence[Expr | None]) -> TranslatedStage:
        """Compile a stage's conditions, merging identical ones into one durable rule."""
        for expr in conditions:
            if expr is not None:
                self._survey(expr)
        by_text: dict[str, str] = {}
        rules: dict[str, Condition | None] = {}
        owners: dict[str, list[int]] = {}
        for index, expr in enumerate(conditions):
            cond = self.condition(expr)
            text = json.dumps(cond, sort_keys=True, ensure_ascii=False)
            name = by_text.get(text)
            if name is None:
                name = f"r{len(rules)}"
                by_text[text] = name
                rules[name] = cond
                owners[name] = []
            owners[name].append(index)
        props = tuple(self.props.values())
        return TranslatedStage(
            props=props,
            rules=rules,
            owners={k: tuple(v) for k, v in owners.items()},
            features=sum(1 for p in props if p.kind == "feature"),
        )


def _test(prop: str, op: str, code: int) -> Condition:
    if op == "==":
        return {prop: code}
    return {_DURABLE_OP[op]: {prop: code}}


def _connect(op: str, parts: list[Condition]) -> Condition:
    flat: list[Condition] = []
    for part in parts:
        if len(part) == 1 and op in part:
            flat.extend(part[op])
        else:
            flat.append(part)
    if op == "$and":
        # Equality tests first: they are the most selective and share alpha-network prefixes.
        flat.sort(key=lambda c: 0 if not next(iter(c)).startswith("$") else 1)
    return flat[0] if len(flat) == 1 else {op: flat}


def _normalise_compare(
    op: str, left: Operand, right: Operand
) -> tuple[str, Field | Count, Any] | None:
    """``subject OP literal`` with the field on the left, or None when not of that shape."""
    if isinstance(left, Field | Count) and isinstance(right, Literal):
        subject, literal, nop = left, right.value, op
    elif isinstance(right, Field | Count) and isinstance(left, Literal):
        subject, literal, nop = right, left.value, _FLIP[op]
    else:
        return None
    if isinstance(literal, tuple):
        return None
    if isinstance(subject, Field):
        spec = field_spec(subject.name)
        if spec is not None and spec.type == FieldType.LIST:
            return None
    return nop, subject, literal


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_date(value: Any) -> bool:
    return isinstance(value, date)


def _is_scalar(value: Any) -> bool:
    return not isinstance(value, tuple)


def _is_list(f: Field) -> bool:
    spec = field_spec(f.name)
    return spec is not None and spec.type == FieldType.LIST


Encoder = Callable[[View], Any]


def encoder(prop: Prop, levels: tuple[str, ...], rank: Mapping[str, int]) -> Encoder:
    """A closure computing ``prop`` from a view (``_MISSING`` = leave it out).

    Specialised per kind for speed; each closure is equal to ``prop.compute`` (a test checks).
    Features use the compiled engine's closures, which are property-tested against
    ``semantics.holds``.
    """
    name = prop.field
    if prop.bucket:
        return lambda view: prop.compute(view, levels, rank)
    if prop.kind == "feature":
        assert prop.expr is not None
        test = compile_expr(prop.expr, levels)
        return lambda view: 1 if test(view) else 0
    if prop.kind == "intern":
        table = prop.table

        def intern(view: View) -> Any:
            value = view.get(name)
            if value is None:
                return _MISSING
            if type(value) is str:
                return table.get(("string", value), 0)
            return _intern(table, value)

        return intern
    if prop.kind == "present":
        return lambda view: _MISSING if view.get(name) is None else 1
    if prop.kind == "code" and not prop.severity and _kind(prop.literals[0]) == "number":
        literals, size = prop.literals, len(prop.literals)

        def number_code(view: View) -> Any:
            value = view.get(name)
            if value is None or type(value) not in (int, float):
                return prop.compute(view, levels, rank)  # missing, or the slow exact path
            i = bisect.bisect_left(literals, value)
            return 2 * i + 1 if i < size and literals[i] == value else 2 * i

        return number_code
    return lambda view: prop.compute(view, levels, rank)


def encoders(
    props: Sequence[Prop], levels: tuple[str, ...], rank: Mapping[str, int]
) -> tuple[tuple[str, Encoder], ...]:
    """One ``(property name, closure)`` per property, for :func:`encode`."""
    return tuple((prop.name, encoder(prop, levels, rank)) for prop in props)


def encode(compiled: Sequence[tuple[str, Encoder]], view: View) -> dict[str, Any]:
    """The slim fact for one view, from :func:`encoders`."""
    fact: dict[str, Any] = {}
    for name, fn in compiled:
        value = fn(view)
        if value is not _MISSING:
            fact[name] = value
    return fact


def slim_fact(
    props: Sequence[Prop], view: View, levels: tuple[str, ...], rank: Mapping[str, int]
) -> dict[str, Any]:
    """The encoded fact for one stage: only what its rules read, never user text.

    The reference form (one ``compute`` per property); the engine uses :func:`encode`.
    """
    fact: dict[str, Any] = {}
    for prop in props:
        value = prop.compute(view, levels, rank)
        if value is not _MISSING:
            fact[prop.name] = value
    return fact


__all__ = [
    "Prop",
    "StageTranslator",
    "TranslatedStage",
    "Unrepresentable",
    "encode",
    "encoder",
    "encoders",
    "slim_fact",
]
