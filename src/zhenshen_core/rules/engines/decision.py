"""The ``Decision`` record and the deterministic combiner every engine shares.

Engines answer one question per stage: *which rule specs match this fact view?* Everything else
(hit policies, severity arithmetic, unions, priority conflicts, the ``fired`` trace) happens here,
once, so two engines that match the same rules produce byte-identical decisions.

Combination rules (see docs/reference/rule-language.md):

* stages run ``classify`` → ``route`` → ``review`` → ``deadline``; a stage's conditions see the
  case plus the decision as it stood after the previous stages (``decision.*`` fields), never
  their own stage's (``review`` exists so that tier and chair can follow the routing);
* severity = the highest of the pack's default (first level) and every ``at_least``, plus the sum
  of every ``bump``, capped at the top level;
* tags, co-departments, experts and actions are unions in definition order; a required expert is
  never also suggested, the lead department is never also a co-department;
* lead, tier, chair and each deadline clock come from the highest-priority spec that sets them;
  equal priority → the spec defined first in the resolved pack;
* decision-table rows are filtered by their table's hit policy before combining.

Over 600 lines on purpose: the ``Decision`` model, the combiner and its cached JSON are the
per-case hot path; kept together so that what a case costs, and what must stay byte-identical,
is read in one place.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date
from typing import Any, NamedTuple, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import to_json

from zhenshen_core.rules.diagnostics import EvaluationError
from zhenshen_core.rules.engines.facts import STAGES
from zhenshen_core.rules.pack.model import ResolvedPack, RuleSpec, TableSpec

_T = TypeVar("_T")

#: Strings longer than this are shortened in ``fired[].values`` (content can be 20,000 chars).
MAX_VALUE_CHARS = 200
#: How much of a long string is masked before it is shortened: what is shown and enough after
#: it that a number or an e-mail address running over the cut is still found whole.
_MASKED_CHARS = MAX_VALUE_CHARS + 120


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PackInfo(_Out):
    id: str
    version: str
    sha256: str


# The parts of a decision made once per case (and per fired rule) are frozen slots dataclasses
# rather than models: pydantic validates and serialises them the same way (fields in order),
# but building one costs a third of building a model, which matters at 50,000 decisions a
# second. ``__pydantic_config__`` keeps the models' strictness when a decision is read back.
_RECORD = ConfigDict(extra="forbid")


@dataclass(frozen=True, slots=True)
class Departments:
    """The lead department and the co-departments a decision names."""

    __pydantic_config__ = _RECORD

    lead: str | None = None
    co: list[str] = dataclass_field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Experts:
    """Experts to consult: ``reasons`` maps an expert id to why (from the rules that asked)."""

    __pydantic_config__ = _RECORD

    required: list[str] = dataclass_field(default_factory=list)
    suggested: list[str] = dataclass_field(default_factory=list)
    reasons: dict[str, str] = dataclass_field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Fired:
    """One fired rule or table row, with the values of every field its condition read."""

    __pydantic_config__ = _RECORD

    rule: str
    stage: str
    values: dict[str, Any] = dataclass_field(default_factory=dict)


class Decision(_Out):
    """What a pack decided for one case (JSON: one object per case)."""

    case_id: str
    pack: PackInfo
    severity: str
    tier: str | None = None
    chair: str | None = None
    departments: Departments = Field(default_factory=Departments)
    experts: Experts = Field(default_factory=Experts)
    tags: list[str] = Field(default_factory=list)
    deadlines: dict[str, str] = Field(default_factory=dict)
    actions: list[str] = Field(default_factory=list)
    fired: list[Fired] = Field(default_factory=list)

    def to_json(self) -> str:
        """Compact JSON, Chinese kept readable; stable key order (the field order above)."""
        return self.model_dump_json()

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.model_dump_json())
        return result


# Building without validation or ``__init__``: the combiner guarantees the values.
_new = object.__new__
_set = object.__setattr__


class Matcher(Protocol):
    """What an engine provides: the indices (into ``pack.stage_rules(stage)``) that match.

    A matcher may also offer ``bits_matcher(stages) -> Callable[[facts], int]``: a function
    answering for several stages at once with a bit mask (bit ``pack.stage_offsets[stage] + i``
    for index ``i`` of a stage). The combiner then uses it for each group of stages that see
    the same facts; the compiled engine's matcher does, to save building index lists.
    """

    def match(self, stage: str, facts: Mapping[str, Any]) -> Iterable[int]: ...


class CacheInfo(NamedTuple):
    """Decision-cache statistics of a ``DecisionCombiner``, summed over its stage groups."""

    hits: int
    misses: int
    maxsize: int
    currsize: int


def bit_indices(bits: int, offset: int = 0) -> list[int]:
    """The positions of the set bits of ``bits``, minus ``offset``, ascending."""
    found = []
    while bits:
        low = bits & -bits
        found.append(low.bit_length() - 1 - offset)
        bits ^= low
    return found


def _bits_from_indices(
    matcher: Matcher, stages: tuple[str, ...], offsets: Mapping[str, int]
) -> Callable[[Any], int]:
    """A ``bits_matcher`` answer built from ``matcher.match`` (durable, naive matchers)."""
    match = matcher.match

    def match_bits(facts: Any) -> int:
        bits = 0
        for stage in stages:
            offset = offsets[stage]
            for i in match(stage, facts):
                bits |= 1 << (offset + i)
        return bits

    return match_bits


#: Facts that are personal data by themselves, and how they are masked in a trace.
_PRIVATE_FACTS = {"requester.name": "name", "requester.phone": "mobile"}


def private_masker() -> Callable[[str, str, Any], str]:
    """``private(fact, value, requester)``: a string fact as a decision records it. The rules
    read the real value; the trace (what ``--explain``, the stored decision and every output
    show) never holds personal data. ``requester`` is the case's requester name as
    :func:`name_needle` prepared it. Most values are codes and short texts with no seven
    digits, no at sign and not the requester's name: one C search says so and they are
    returned as they are (the decision's hot path)."""
    from zhenshen_core.privacy import mask_text, mask_value
    from zhenshen_core.privacy._patterns import PREFILTER

    search = PREFILTER.search
    kinds = _PRIVATE_FACTS

    def private(name: str, value: str, requester: Any) -> str:
        kind = kinds.get(name)
        if kind is not None:
            return mask_value(kind, value)
        if requester is None or (type(requester) is str and requester not in value):
            if search(value) is None:
                return value
            return mask_text(value)
        return mask_text(value, names=(requester,) if type(requester) is str else requester)

    return private


def name_needle(requester: Any, dots: str = "·•‧・･") -> Any:
    """What ``private`` looks for of the requester's name: None (no name), the name (a plain
    substring test decides whether a text holds it), or a one-name tuple when the name has a
    middle dot (``privacy._names.NAME_DOTS``), which may be written with another dot (the
    detector then decides)."""
    if type(requester) is not str:
        return None
    name = requester.strip()
    if not name:
        return None
    for dot in dots:
        if dot in name:
            return (name,)
    return name


def _shown(value: Any) -> Any:
    kind = type(value)
    if kind is str:
        return value if len(value) <= MAX_VALUE_CHARS else value[:MAX_VALUE_CHARS] + "…"
    if kind is int or kind is bool or kind is float or value is None:
        return value
    if isinstance(value, str) and len(value) > MAX_VALUE_CHARS:
        return value[:MAX_VALUE_CHARS] + "…"
    if isinstance(value, tuple | list):
        return [v if type(v) is str and len(v) <= MAX_VALUE_CHARS else _shown(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


class _State:
    """The decision as it stands after some stages (built while computing one ``_Step``)."""

    __slots__ = (
        "actions",
        "at_least",
        "bump",
        "co",
        "pack",
        "reasons",
        "required",
        "scalars",
        "suggested",
        "tags",
    )

    def __init__(self, pack: ResolvedPack) -> None:
        self.pack = pack
        self.at_least = 0
        self.bump = 0
        self.tags: dict[str, None] = {}
        self.required: dict[str, None] = {}
        self.suggested: dict[str, None] = {}
        self.reasons: dict[str, str] = {}
        self.co: dict[str, None] = {}
        self.actions: dict[str, None] = {}
        # key → (priority, -order, value): max wins
        self.scalars: dict[str, tuple[int, int, str]] = {}

    def _scalar(self, key: str, spec: RuleSpec, value: str) -> None:
        candidate = (spec.priority, -spec.order, value)
        current = self.scalars.get(key)
        if current is None or candidate[:2] > current[:2]:
            self.scalars[key] = candidate

    def apply(self, spec: RuleSpec) -> None:
        out = spec.outcome
        if out.severity_at_least is not None:
            rank = self.pack.level_rank[out.severity_at_least]
            if rank > self.at_least:
                self.at_least = rank
        self.bump += out.severity_bump
        for tag in out.tags:
            self.tags[tag] = None
        for expert in out.experts_required:
            self.required[expert] = None
            if out.expert_reason:
                self._reason(expert, out.expert_reason)
        for expert in out.experts_suggested:
            self.suggested[expert] = None
            if out.expert_reason:
                self._reason(expert, out.expert_reason)
        for dep in out.co:
            self.co[dep] = None
        for action in out.actions:
            self.actions[action] = None
        if out.lead is not None:
            self._scalar("lead", spec, out.lead)
        if out.tier is not None:
            self._scalar("tier", spec, out.tier)
        if out.chair is not None:
            self._scalar("chair", spec, out.chair)
        for clock, period in out.deadlines:
            self._scalar("deadline:" + clock, spec, period)

    def _reason(self, expert: str, reason: str) -> None:
        known = self.reasons.get(expert)
        if known is None:
            self.reasons[expert] = reason
        elif reason not in known.split("；"):
            self.reasons[expert] = f"{known}；{reason}"

    def _found(self, key: str, default: str | None = None) -> str | None:
        found = self.scalars.get(key)
        return found[2] if found else default

    def _severity(self) -> str:
        levels = self.pack.severity_levels
        return levels[min(self.at_least + self.bump, len(levels) - 1)]

    def published(self, wanted: frozenset[str]) -> dict[str, Any]:
        """The decision so far as ``decision.*`` facts for later stages.

        Only the list fields some later rule reads (``wanted``) are built: they cost more to
        build than most conditions cost to test.
        """
        pack = self.pack
        lead = self._found("lead")
        facts: dict[str, Any] = {"decision.severity": self._severity()}
        for name, value in (
            ("decision.tier", self._found("tier", pack.default_tier)),
            ("decision.chair", self._found("chair", pack.default_chair)),
            ("decision.departments.lead", lead),
        ):
            if value is not None:
                facts[name] = value
        if "decision.tags" in wanted:
            facts["decision.tags"] = tuple(self.tags)
        if "decision.experts.required" in wanted:
            facts["decision.experts.required"] = tuple(self.required)
        if "decision.experts.suggested" in wanted:
            facts["decision.experts.suggested"] = tuple(
                e for e in self.suggested if e not in self.required
            )
        if "decision.departments.co" in wanted:
            facts["decision.departments.co"] = tuple(d for d in self.co if d != lead)
        if "decision.departments.all" in wanted:
            co = tuple(d for d in self.co if d != lead)
            facts["decision.departments.all"] = co if lead is None else (lead, *co)
        if "decision.actions" in wanted:
            facts["decision.actions"] = tuple(self.actions)
        return facts

    def outcome(self) -> _Outcome:
        pack = self.pack
        lead = self._found("lead")
        return _Outcome(
            severity=self._severity(),
            tier=self._found("tier", pack.default_tier),
            chair=self._found("chair", pack.default_chair),
            lead=lead,
            co=tuple(d for d in self.co if d != lead),
            required=tuple(self.required),
            suggested=tuple(e for e in self.suggested if e not in self.required),
            reasons=dict(self.reasons),
            tags=tuple(self.tags),
            deadlines={
                key.removeprefix("deadline:"): value[2]
                for key, value in sorted(self.scalars.items())
                if key.startswith("deadline:")
            },
            actions=tuple(self.actions),
        )


@dataclass(slots=True)  # not frozen: a frozen __init__ costs a microsecond per cache miss
class _Outcome:
    """Everything of a decision but the case id and the ``fired`` trace (shared: never
    changed once built)."""

    severity: str
    tier: str | None
    chair: str | None
    lead: str | None
    co: tuple[str, ...]
    required: tuple[str, ...]
    suggested: tuple[str, ...]
    reasons: dict[str, str]  # copied into each decision, never handed out
    tags: tuple[str, ...]
    deadlines: dict[str, str]  # likewise
    actions: tuple[str, ...]
    json_middle: bytes | None = None  # see DecisionCombiner.decide_json; set on first use

    def decision(self, case_id: str, info: PackInfo, fired: list[Fired]) -> Decision:
        # Fresh lists and dicts per decision: callers may change theirs without touching the
        # cached outcome or another case's decision. Built the way ``model_construct`` and
        # a frozen dataclass's ``__init__`` would, minus their overhead (this runs per case).
        departments = _new(Departments)
        _set(departments, "lead", self.lead)
        _set(departments, "co", [*self.co])
        experts = _new(Experts)
        _set(experts, "required", [*self.required])
        _set(experts, "suggested", [*self.suggested])
        _set(experts, "reasons", self.reasons.copy())
        decision = _new(Decision)
        _set(
            decision,
            "__dict__",
            {
                "case_id": case_id,
                "pack": info,
                "severity": self.severity,
                "tier": self.tier,
                "chair": self.chair,
                "departments": departments,
                "experts": experts,
                "tags": [*self.tags],
                "deadlines": self.deadlines.copy(),
                "actions": [*self.actions],
                "fired": fired,
            },
        )
        _set(decision, "__pydantic_fields_set__", set(_DECISION_FIELDS))
        _set(decision, "__pydantic_extra__", None)
        _set(decision, "__pydantic_private__", None)
        return decision


_DECISION_FIELDS = frozenset(Decision.model_fields)


def _fired(spec: RuleSpec, values: dict[str, Any]) -> Fired:
    """``Fired(spec.id, spec.stage, values)`` without the frozen ``__init__``'s overhead."""
    one = _new(Fired)
    _set(one, "rule", spec.id)
    _set(one, "stage", spec.stage)
    _set(one, "values", values)
    return one


def _json_middle(outcome: _Outcome, pack_json: bytes) -> bytes:
    """From the case id to ``fired``'s value: `,"pack":…,"fired":`, as pydantic would
    write it for a ``Decision`` (same serialiser, same field order; a property test checks)."""
    rest = to_json(
        {
            "severity": outcome.severity,
            "tier": outcome.tier,
            "chair": outcome.chair,
            "departments": {"lead": outcome.lead, "co": outcome.co},
            "experts": {
                "required": outcome.required,
                "suggested": outcome.suggested,
                "reasons": outcome.reasons,
            },
            "tags": outcome.tags,
            "deadlines": outcome.deadlines,
            "actions": outcome.actions,
        }
    )
    return b',"pack":' + pack_json + b"," + rest[1:-1] + b',"fired":'


def _fired_dict(spec: RuleSpec, values: dict[str, Any]) -> dict[str, Any]:
    """A ``fired`` entry as the dict ``Fired`` serialises to (same keys, same order)."""
    return {"rule": spec.id, "stage": spec.stage, "values": values}


@dataclass(slots=True)  # never changed once cached (see _Outcome on frozen)
class _Step:
    """One stage, given what matched in it and in every earlier stage.

    ``chosen``: the specs applied in this stage, in order (after hit policies); ``conflict``:
    a ``unique`` table with two matching rows (table id and the first two rows), reported per
    case by the caller; ``published``: the ``decision.*`` facts later stages see;
    ``outcome``: the whole decision after the last stage.
    """

    chosen: tuple[RuleSpec, ...]
    conflict: tuple[str, RuleSpec, RuleSpec] | None = None
    published: Mapping[str, Any] | None = None
    outcome: _Outcome | None = None


def _hit_filter(
    specs: list[RuleSpec], tables: Mapping[str, TableSpec]
) -> tuple[list[RuleSpec], tuple[str, RuleSpec, RuleSpec] | None]:
    """Apply each table's hit policy to its matching rows; plain rules pass through.

    ``specs`` are in definition order, so a table's first matching row is its first here.
    """
    best: dict[str, RuleSpec] = {}  # table id → the row kept so far (first / priority)
    clashes: dict[str, RuleSpec] = {}  # unique tables: id → the second matching row
    kept: list[RuleSpec] = []
    for spec in specs:
        table_id = spec.table
        if table_id is None:
            kept.append(spec)
            continue
        table = tables[table_id]
        hit = table.hit
        if hit == "collect":
            kept.append(spec)
            continue
        known = best.get(table_id)
        if known is None:
            best[table_id] = spec
            kept.append(spec)
        elif hit == "unique":
            clashes.setdefault(table_id, spec)
        elif hit == "priority":  # best output rank, then row order (``known`` is earlier)
            index = table.rows.index
            if table.rank[index(spec.id)] < table.rank[index(known.id)]:
                best[table_id] = spec
                kept.remove(known)
                kept.append(spec)  # at its own place among the specs kept so far
        # first: the earlier row stays
    if clashes:  # report the table whose first matching row comes first
        table_id = min(clashes, key=lambda t: best[t].order)
        return [], (table_id, best[table_id], clashes[table_id])
    return kept, None


#: Per group of stages: its matching function, its cache lookup, whether it publishes.
_Plan = tuple[tuple[Callable[[Any], int], Callable[[int], _Step], bool], ...]

#: Default number of remembered steps per combiner (see ``DecisionCombiner``): 0.6-3 KB each,
#: growing with the number of rules that fire per case.
DEFAULT_CACHE_SIZE = 32768


class DecisionCombiner:
    """Combines what an engine matched into a ``Decision``; one per pack and engine.

    Everything a decision holds except its case id and the values in ``fired`` depends only on
    *which* specs matched in each stage: so each stage's result is computed once per distinct
    combination of matches and remembered (bounded LRUs holding ``cache_size`` entries in all;
    0 turns them off). A combination is one integer, a bit per matched spec (see
    ``Matcher``). On real packs a few hundred combinations cover most cases, and the per-case
    work is matching plus reading the ``fired`` values. Thread-safe: cached steps are never
    changed.
    """

    def __init__(self, pack: ResolvedPack, *, cache_size: int = DEFAULT_CACHE_SIZE) -> None:
        self.pack = pack
        self.tables: dict[str, TableSpec] = {t.id: t for t in pack.tables}
        self.info = PackInfo(id=pack.id, version=pack.version, sha256=pack.sha256)
        self._pack_json = self.info.model_dump_json().encode()
        self._offsets = offsets = pack.stage_offsets
        # The last matcher and the per-group plan made for it (engines pass the same matcher
        # every time): one tuple, read and replaced atomically.
        self._plan: tuple[object, _Plan] = (None, ())
        self._private = private_masker()
        wanted = pack.decision_reads
        table_stages = pack.table_stages
        # Stages form groups: a stage whose rules read ``decision.*`` starts a new group (it
        # needs the decision so far); any other stage joins the previous one, so the cache
        # holds one step per group rather than per stage.
        groups: list[list[str]] = []
        for stage in STAGES:
            reads_decision = any(
                name.startswith("decision.")
                for spec in pack.stage_rules(stage)
                for name in spec.reads
            )
            if not groups or reads_decision:
                groups.append([])
            groups[-1].append(stage)
        self._wanted = wanted
        self._last = len(groups) - 1
        # Per group: its stages (stage, specs, has table rows), the mask of the bits of every
        # stage up to its end (its cache key), and whether later stages need what it decides.
        self._stages: list[tuple[tuple[str, tuple[RuleSpec, ...], bool], ...]] = []
        self._masks: list[int] = []
        self._publishes: list[bool] = []
        for n, group in enumerate(groups):
            specs = [pack.stage_rules(stage) for stage in group]
            self._stages.append(
                tuple(
                    (stage, rules, stage in table_stages)
                    for stage, rules in zip(group, specs, strict=True)
                )
            )
            self._masks.append((1 << (offsets[group[-1]] + len(specs[-1]))) - 1)
            self._publishes.append(bool(wanted) and n < self._last)
        # One cache per group, keyed by the bits matched so far (an int: the fast key).
        each = max(1, cache_size // len(groups))
        self._lookups: list[Callable[[int], _Step]] = [
            functools.lru_cache(maxsize=each)(functools.partial(self._compute, n))
            if cache_size > 0
            else functools.partial(self._compute, n)
            for n in range(len(groups))
        ]
        # The hot path's view: per group, the stages with specs, the lookup, publishes.
        self._groups = tuple(
            (tuple(stage for stage, rules, _ in stages if rules), lookup, publishes)
            for stages, lookup, publishes in zip(
                self._stages, self._lookups, self._publishes, strict=True
            )
        )

    def _plan_for(self, matcher: Matcher) -> _Plan:
        """Per group of stages: how ``matcher`` matches it, its cache, whether it publishes."""
        make = getattr(matcher, "bits_matcher", None)
        return tuple(
            (
                make(stages)
                if make is not None
                else _bits_from_indices(matcher, stages, self._offsets),
                lookup,
                publishes,
            )
            for stages, lookup, publishes in self._groups
        )

    def _compute(self, number: int, bits: int) -> _Step:
        """The step of group ``number`` given ``bits``, what matched up to its last stage."""
        # Replay the earlier groups' choices (cached steps; the caller just looked them up)
        # rather than keeping a state per cached step: a state is most of a step's memory.
        state = _State(self.pack)
        for earlier in range(number):
            for spec in self._lookups[earlier](bits & self._masks[earlier]).chosen:
                state.apply(spec)
        chosen: list[RuleSpec] = []
        for stage, specs, has_tables in self._stages[number]:
            offset = self._offsets[stage]
            mask = ((1 << len(specs)) - 1) << offset
            kept = [specs[i] for i in bit_indices(bits & mask, offset)]
            if kept and has_tables:
                kept, conflict = _hit_filter(kept, self.tables)
                if conflict is not None:
                    return _Step((), conflict)
            for spec in kept:
                state.apply(spec)
            chosen += kept
        if number == self._last:
            return _Step(tuple(chosen), outcome=state.outcome())
        published = state.published(self._wanted) if self._publishes[number] else None
        return _Step(tuple(chosen), published=published)

    def _walk(
        self,
        case_id: str,
        facts: dict[str, Any],
        matcher: Matcher,
        trace: Callable[[RuleSpec, dict[str, Any]], _T],
    ) -> tuple[_Outcome, list[_T]]:
        """The per-case hot path: matching, one cache lookup per group of stages, and
        ``trace(spec, values)`` for each fired spec with the values it read (as the facts
        stood in its stage: within a group no stage reads ``decision.*``). ``facts`` gains
        ``decision.*``."""
        bits = 0
        fired: list[_T] = []
        append = fired.append
        get = facts.get
        private = self._private
        requester = name_needle(get("requester.name"))
        masked: dict[str, str] = {}
        known, plan = self._plan
        if known is not matcher:
            plan = self._plan_for(matcher)
            self._plan = (matcher, plan)
        step: _Step | None = None
        for match_group, lookup, publishes in plan:
            bits |= match_group(facts)
            step = lookup(bits)
            if step.conflict is not None:
                table_id, a, b = step.conflict
                raise EvaluationError(
                    f"table {table_id!r} has hit policy 'unique' but rows {a.row} "
                    f"({a.file}:{a.line}) and {b.row} ({b.file}:{b.line}) both match case "
                    f"{case_id}"
                )
            for spec in step.chosen:
                values: dict[str, Any] = {}
                for name in spec.reads:
                    value = get(name)
                    if type(value) is str:
                        # Masked before it is cut: a number cut in half is no longer found.
                        # Several rules read the same text: masked once per case.
                        shown = masked.get(value)
                        if shown is None:
                            if len(value) > MAX_VALUE_CHARS:  # mask what is shown, and more
                                shown = private(name, value[:_MASKED_CHARS], requester)
                                shown = shown[:MAX_VALUE_CHARS] + "…"
                            else:
                                shown = private(name, value, requester)
                            masked[value] = shown
                        value = shown
                    elif type(value) is tuple:
                        value = [
                            private(name, item, requester) if type(item) is str else item
                            for item in value
                        ]
                        for item in value:  # a list field: every element short text?
                            if type(item) is not str or len(item) > MAX_VALUE_CHARS:
                                value = _shown(value)
                                break
                    elif value is not None and type(value) is not int:
                        value = _shown(value)
                    values[name] = value
                append(trace(spec, values))
            if publishes:
                facts.update(step.published)  # type: ignore[arg-type]
        assert step is not None and step.outcome is not None
        return step.outcome, fired

    def decide(self, case_id: str, facts: dict[str, Any], matcher: Matcher) -> Decision:
        """Run the stages over ``facts`` (which gains ``decision.*`` fields) with ``matcher``."""
        outcome, fired = self._walk(case_id, facts, matcher, _fired)
        return outcome.decision(case_id, self.info, fired)

    def decide_json(self, case_id: str, facts: dict[str, Any], matcher: Matcher) -> bytes:
        """``decide(...).to_json()`` as UTF-8 bytes, byte for byte, without building the
        ``Decision``: streams (``zhenshen eval``) only want the JSON.

        The fixed part is serialised once per cached outcome, and the case id and the ``fired``
        entries (as plain dicts, in the dataclass's field order) by pydantic-core per case, so
        the two forms cannot drift apart (a property test compares them).
        """
        outcome, fired = self._walk(case_id, facts, matcher, _fired_dict)
        middle = outcome.json_middle
        if middle is None:
            middle = outcome.json_middle = _json_middle(outcome, self._pack_json)
        # inf_nan_mode: what the Decision model's serialiser does (its config default)
        return (
            b'{"case_id":' + to_json(case_id) + middle + to_json(fired, inf_nan_mode="null") + b"}"
        )

    def cache_info(self) -> CacheInfo | None:
        """Cache statistics summed over the stage groups, or None when uncached."""
        infos = [lookup.cache_info() for lookup in self._lookups if hasattr(lookup, "cache_info")]
        if not infos:
            return None
        return CacheInfo(*(sum(column) for column in zip(*infos, strict=True)))


def combiner_for(pack: ResolvedPack) -> DecisionCombiner:
    """The pack's shared combiner (kept in ``pack.memo``), for callers without an engine."""
    combiner = pack.memo.get("combiner")
    if combiner is None:
        combiner = pack.memo["combiner"] = DecisionCombiner(pack)
    result: DecisionCombiner = combiner
    return result


def decide(pack: ResolvedPack, case_id: str, facts: dict[str, Any], matcher: Matcher) -> Decision:
    """Run the stages over ``facts`` (which gains ``decision.*`` fields) with ``matcher``."""
    return combiner_for(pack).decide(case_id, facts, matcher)


__all__ = [
    "DEFAULT_CACHE_SIZE",
    "MAX_VALUE_CHARS",
    "CacheInfo",
    "Decision",
    "DecisionCombiner",
    "Departments",
    "Experts",
    "Fired",
    "Matcher",
    "PackInfo",
    "bit_indices",
    "combiner_for",
    "decide",
]
