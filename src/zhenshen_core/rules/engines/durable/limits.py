"""Compile-time guards: keep every ruleset inside the limits where durable_rules is safe.

durable_rules 2.0.28 does not report most of its structural limits; past them it hangs, reads
out of bounds or returns an error in the middle of an evaluation. We therefore model the alpha
network the C code builds (``createAlpha``/``findAlpha``/``linkAlpha`` in ``src/rules/rete.c``)
from the JSON conditions *before* creating a ruleset, and split a stage's rules over as many
rulesets as needed so each stays inside every limit:

=========================================  =======================  ============================
engine limit (C constant)                  failure past it          our bound
=========================================  =======================  ============================
children hashed under one alpha node       infinite probe loop:     ``max_children`` = 500
(``NEXT_BUCKET_LENGTH`` 512)               create/assert hangs
negative (``$nex``/``$or`` forward) nodes  out-of-bounds read /     ``max_negative_children`` = 120
under one node (``NEXT_LIST_LENGTH`` 128)  error 107
rules ending at one node                   out-of-bounds read,      ``max_rules_per_node`` = 250
(``BETA_LIST_LENGTH`` 256)                 segfault
alpha nodes matched and pending at once    error 303                ``max_stack`` = 64 (a safe
(``MAX_STACK_SIZE`` 64)                                             upper bound, see below)
and/or terms of one rule                   error 113                ``max_connectives`` = 14
(``MAX_SEQUENCE_EXPRESSIONS`` 32)
rules in one ruleset (``MAX_ACTIONS``)     error 106                ``max_rules`` = 4,000
properties of one fact (255)               error 302                ``max_properties`` = 248
=========================================  =======================  ============================

Each ``$and``/``$or`` costs two of a rule's 32 sequence entries and the session wraps every
condition in one more ``$and`` (the guard), so a condition may have at most 14 (measured: 14
works, 15 is error 113).

The stack bound: evaluating a fact is a depth-first walk with an explicit stack; a node pushes
every child that matches. Children that test the *same* property for equality are mutually
exclusive (a fact has one value per property, and identical tests share one node), so a node's
co-matching children number at most ``k = (#properties with equality children) + (#other
children) + (#negative children)``, and the stack height of a subtree is at most
``H(n) = max(k, k - 1 + max H(child))``. We require ``H(root) ≤ 64``; this is conservative (it
may split rulesets that would have worked) but never optimistic.

Rules with identical conditions must already be merged by the caller (the compiler emits one
durable rule per distinct condition, mapped back to every pack rule that has it); the model still
counts rules per node, so an unmerged pack is caught rather than crashing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from zhenshen_core.rules.engines.durable.session import CASE_KEY, EngineError

Condition = dict[str, Any]

_LEAF_OPS = frozenset({"$lt", "$lte", "$gt", "$gte", "$neq", "$ex", "$nex"})


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds for one ruleset; the defaults leave a margin under each engine constant."""

    max_rules: int = 4000
    max_properties: int = 248
    max_children: int = 500
    max_negative_children: int = 120
    max_rules_per_node: int = 250
    max_stack: int = 64
    max_connectives: int = 14


DEFAULT_LIMITS = Limits()


@dataclass(slots=True)
class _Node:
    depth: int
    children: dict[tuple[str, str, str], _Node] = field(default_factory=dict)
    negative: int = 0
    rules_here: int = 0
    eq_props: set[str] = field(default_factory=set)
    other: int = 0
    parents: list[_Node] = field(default_factory=list)
    height: int = 0  # H(n) as defined in the module docstring
    child_height: int = 0  # max H over children

    @property
    def comatch(self) -> int:
        return len(self.eq_props) + self.other + self.negative


class _Violation(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def connectives(condition: Condition | None) -> int:
    """Number of ``$and``/``$or`` nodes: each costs two entries of the 32-entry sequence."""
    if condition is None:
        return 0
    count = 0
    for key, value in condition.items():
        if key in ("$and", "$or"):
            count += 1 + sum(connectives(item) for item in value)
    return count


def properties(condition: Condition | None) -> set[str]:
    """Fact properties a condition reads."""
    if condition is None:
        return set()
    found: set[str] = set()
    for key, value in condition.items():
        if key in ("$and", "$or"):
            for item in value:
                found |= properties(item)
        elif key in _LEAF_OPS:
            found |= set(value)
        else:
            found.add(key)
    return found


class AlphaModel:
    """An incremental model of the alpha network of one ruleset (see module docstring)."""

    def __init__(self, limits: Limits = DEFAULT_LIMITS) -> None:
        self.limits = limits
        # The guard node (``$ex case_id``) every rule, and the sentinel, starts from.
        self.root = _Node(depth=0)
        self.root.rules_here = 1  # the sentinel
        self.rules = 0
        self.props: set[str] = {CASE_KEY}

    def add(self, name: str, condition: Condition | None) -> None:
        """Add one rule; raise ``_Violation`` (model then unusable) if a limit is exceeded."""
        lim = self.limits
        if self.rules + 1 > lim.max_rules:
            raise _Violation(f"more than {lim.max_rules} rules")
        if connectives(condition) > lim.max_connectives:
            raise _Violation(
                f"rule {name}: more than {lim.max_connectives} and/or terms in one condition"
            )
        new_props = properties(condition) - self.props
        if len(self.props) + len(new_props) > lim.max_properties:
            raise _Violation(f"more than {lim.max_properties} fact properties")
        self.props |= new_props
        self.rules += 1
        ends = [self.root] if condition is None else self._build(self.root, condition)
        for end in ends:
            end.rules_here += 1
            if end.rules_here > lim.max_rules_per_node:
                raise _Violation(f"more than {lim.max_rules_per_node} rules end at one node")
        if self._stack_height() > lim.max_stack:
            raise _Violation(f"more than {lim.max_stack} alpha nodes may match one fact")

    def _stack_height(self) -> int:
        return self.root.height

    def _child(self, parent: _Node, prop: str, op: str, value: Any) -> _Node:
        key = (prop, op, json.dumps(value, sort_keys=True, ensure_ascii=False))
        node = parent.children.get(key)
        if node is not None:
            return node
        node = _Node(depth=parent.depth + 1, parents=[parent])
        if op == "$nex":
            parent.negative += 1
            if parent.negative > self.limits.max_negative_children:
                raise _Violation(
                    f"more than {self.limits.max_negative_children} negative tests under one node"
                )
        else:
            if len(parent.children) - parent.negative + 1 > self.limits.max_children:
                raise _Violation(
                    f"more than {self.limits.max_children} distinct tests under one node"
                )
            if op == "$eq":
                parent.eq_props.add(prop)
            else:
                parent.other += 1
        parent.children[key] = node
        self._raise_heights(parent, node)
        return node

    def _forward(self, branch_ends: list[_Node]) -> _Node:
        forward = _Node(depth=max(e.depth for e in branch_ends) + 1, parents=list(branch_ends))
        for end in branch_ends:
            end.negative += 1
            if end.negative > self.limits.max_negative_children:
                raise _Violation(
                    f"more than {self.limits.max_negative_children} negative tests under one node"
                )
            end.children[("$forward", str(id(forward)), "")] = forward
            self._raise_heights(end, forward)
        return forward

    def _raise_heights(self, parent: _Node, child: _Node) -> None:
        # Heights only grow as rules are added, so propagating maxima upward is exact.
        parent.child_height = max(parent.child_height, child.height)
        stack = [parent]
        while stack:
            node = stack.pop()
            k = node.comatch
            height = max(k, k - 1 + node.child_height) if k else 0
            if height <= node.height:
                continue
            node.height = height
            for up in node.parents:
                up.child_height = max(up.child_height, height)
                stack.append(up)

    def _build(self, parent: _Node, condition: Condition) -> list[_Node]:
        """Nodes the condition ends at (several only transiently, inside ``$or``)."""
        ((key, value),) = condition.items()
        if key == "$and":
            ends = [parent]
            for item in value:
                ends = [end for start in ends for end in self._build(start, item)]
            return ends
        if key == "$or":
            branch_ends = [end for item in value for end in self._build(parent, item)]
            return [self._forward(branch_ends)]
        if key in _LEAF_OPS:
            ((prop, operand),) = value.items()
            return [self._child(parent, prop, key, operand)]
        return [self._child(parent, key, "$eq", value)]


def check_rule(name: str, condition: Condition | None, limits: Limits = DEFAULT_LIMITS) -> None:
    """Raise :class:`EngineError` if one rule alone cannot fit in a ruleset."""
    try:
        AlphaModel(limits).add(name, condition)
    except _Violation as exc:
        raise EngineError(
            f"rule cannot run on durable_rules: {exc.message}; simplify its condition or use "
            "the compiled engine"
        ) from exc


def partition(
    rules: Mapping[str, Condition | None], limits: Limits = DEFAULT_LIMITS
) -> list[dict[str, Condition | None]]:
    """Split rules, in order, into as few consecutive groups as each fitting one ruleset.

    Next-fit: a rule that does not fit closes the current group and opens the next. A rule that
    does not fit even alone raises :class:`EngineError`.
    """
    groups: list[dict[str, Condition | None]] = []
    current: dict[str, Condition | None] = {}
    model = AlphaModel(limits)
    for name, condition in rules.items():
        try:
            model.add(name, condition)
        except _Violation:
            if not current:
                check_rule(name, condition, limits)
                raise  # pragma: no cover - check_rule raises for the same violation
            groups.append(current)
            current = {}
            model = AlphaModel(limits)
            try:
                model.add(name, condition)
            except _Violation as exc:
                raise EngineError(
                    f"rule cannot run on durable_rules: {exc.message}; simplify its condition "
                    "or use the compiled engine"
                ) from exc
        current[name] = condition
    if current or not groups:
        groups.append(current)
    return groups


def stack_height(rules: Iterable[Condition | None], limits: Limits | None = None) -> int:
    """The stack bound ``H`` of a group of rules (for tests and diagnostics)."""
    model = AlphaModel(limits or Limits(max_stack=10**9, max_rules=10**9, max_children=10**9))
    for i, condition in enumerate(rules):
        model.add(f"r{i}", condition)
    return model.root.height


__all__ = [
    "DEFAULT_LIMITS",
    "AlphaModel",
    "Limits",
    "check_rule",
    "connectives",
    "partition",
    "properties",
    "stack_height",
]
