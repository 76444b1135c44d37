"""Impact of a rule change (``zhenshen diff``): evaluate a corpus with two packs, report changes.

Before a pack change ships, staff need to know what it does to real cases, not just to the
cases someone thought of writing tests for. ``diff_corpus`` evaluates every case of a corpus
with the old and the new pack and reports every case whose decision differs — severity up or
down, tier, chair, lead department, co-departments, experts, tags, actions and deadline clocks
— with the rules that explain the difference: rules that fire only under the new pack (``+``),
rules that no longer fire (``-``) and rules with the same id whose definition changed (``~``).

How it stays fast and flat on a million cases:

* the corpus is **streamed**: the parent process reads raw records (JSON Lines are not even
  parsed there) into chunks, and at most ``2 × jobs`` chunks are in flight, so memory does not
  grow with the corpus;
* **both cores** work: a process pool whose workers each load both packs and build their
  engines once (in the pool initializer), then parse, validate and evaluate whole chunks;
* per chunk a worker returns only aggregated counts and the changed cases, so unchanged cases
  cost no inter-process traffic beyond their input.

Results come back in corpus order, so "the first N changed cases" is deterministic. Invalid
records are counted and reported with their line, never fatal.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from zhenshen_core.errors import ZhenshenError, describe_validation_error
from zhenshen_core.rules.engines.facts import NotCanonical, RecordProjection
from zhenshen_core.rules.engines.outputs import OUTPUTS, OutputKind
from zhenshen_core.rules.engines.parallel import chunks, ordered_pool
from zhenshen_core.rules.pack.model import ResolvedPack, RuleSpec
from zhenshen_core.textio import bad_byte, json_loads, open_stream

#: Cases per chunk sent to a worker: large enough to amortise the round trip, small enough to
#: keep the pool busy and memory low.
CHUNK_SIZE = 2000
#: Corpora smaller than this are evaluated in-process (a pool costs more than it saves).
POOL_MIN_CASES = 4000
MAX_INVALID_KEPT = 1000

Record = tuple[int, str | Mapping[str, Any] | None, str | None]  # line, payload, error


class CorpusError(ZhenshenError):
    """The corpus cannot be read at all (missing file, unknown format, bad store URL)."""

    exit_code = 3


# --- corpus -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PackRef:
    """How a worker process finds a pack again (packs are loaded, never pickled)."""

    source: str
    search_paths: tuple[str, ...] = ()
    plugin_packs: tuple[tuple[str, str], ...] = ()
    actions: tuple[str, ...] | None = None

    def load(self) -> ResolvedPack:
        from zhenshen_core.rules.pack.loader import load_pack

        return load_pack(
            self.source,
            search_paths=self.search_paths,
            plugin_packs=dict(self.plugin_packs),
            actions=self.actions,
            analyse=False,
        )


def _jsonl_lines(source: str) -> Iterator[Record]:
    # A line that is not UTF-8 is reported where it fails to parse or validate (``chunk``).
    with open_stream(source) as stream:
        for number, line in enumerate(stream, start=1):
            if line.strip():
                yield number, line, None


def _from_intake(records: Iterator[Any]) -> Iterator[Record]:
    for record in records:
        yield (record.line or 0), record.data, record.error


def _from_store(url: str) -> Iterator[Record]:
    from zhenshen_core.model.lifecycle import dump_case
    from zhenshen_core.plugins import PluginConfig, PluginHost
    from zhenshen_core.storage.url import open_store

    store = open_store(url, PluginHost(PluginConfig.from_env()))
    for number, case in enumerate(store.query(), start=1):
        yield number, dump_case(case), None


def read_corpus(source: str) -> Iterator[Record]:
    """Records of a corpus: JSON Lines (``.jsonl``/``.ndjson``/``-``), CSV, a JSON array, or a
    store URL (``sqlite:///cases.db`` …)."""
    from zhenshen_core.builtin.intake import read_csv, read_json

    if "://" in source:
        return _from_store(source)
    if source != "-" and not Path(source).is_file():
        raise CorpusError(f"corpus {source!r}: no such file")
    suffix = Path(source).suffix.lower()
    if source == "-" or suffix in (".jsonl", ".ndjson", ""):
        return _jsonl_lines(source)
    if suffix == ".csv":
        return _from_intake(read_csv(source))
    if suffix == ".json":
        return _from_intake(read_json(source))
    raise CorpusError(
        f"corpus {source!r}: unknown format {suffix!r}; use .jsonl, .csv, .json or a store URL"
    )


# --- comparing two decisions --------------------------------------------------------------------


def _signature(spec: RuleSpec) -> tuple[Any, ...]:
    from zhenshen_core.rules.lang.ast import to_source

    condition = None if spec.condition is None else to_source(spec.condition)
    return (spec.stage, spec.priority, condition, spec.outcome, spec.table)


def changed_definitions(old: ResolvedPack, new: ResolvedPack) -> frozenset[str]:
    """Ids present in both packs whose rule or row means something different now."""
    before = {s.id: _signature(s) for s in old.rules}
    return frozenset(s.id for s in new.rules if s.id in before and before[s.id] != _signature(s))


def _item_ids(pack: ResolvedPack) -> list[str]:
    """The rule, table and cross-case ids a pack defines (a table once, not per row)."""
    ids = dict.fromkeys(spec.table or spec.id for spec in pack.rules)
    ids.update(dict.fromkeys(spec.id for spec in pack.crosscase))
    return list(ids)


@dataclass(frozen=True)
class RuleChanges:
    """What changed between two packs' rule sets, whatever it does to the corpus: a rule that
    no case of the corpus fires is still a change a reviewer must see (a ``disable:`` in a
    district pack, a rule deleted by mistake)."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    disabled_by: Mapping[str, str] = field(default_factory=dict)  # removed id → pack

    def as_dict(self) -> dict[str, Any]:
        return {
            "added_rules": list(self.added),
            "removed_rules": [
                {"id": rid, "disabled_by": self.disabled_by.get(rid)} for rid in self.removed
            ],
        }


def rule_changes(old: ResolvedPack, new: ResolvedPack) -> RuleChanges:
    """Ids only the new pack defines, and ids it no longer defines (with the pack whose
    ``disable:`` removed them, when that is how they went)."""
    before, after = _item_ids(old), _item_ids(new)
    kept_before, kept_after = set(before), set(after)
    removed = tuple(i for i in before if i not in kept_after)
    return RuleChanges(
        added=tuple(i for i in after if i not in kept_before),
        removed=removed,
        disabled_by={i: new.disabled[i] for i in removed if i in new.disabled},
    )


@dataclass(frozen=True)
class Screen:
    """Which cases can possibly decide differently, found without evaluating both packs.

    A decision can only change when a rule or row that differs between the packs (added,
    removed, or redefined) matches the case under one of them: if none does, both packs match
    exactly the same unchanged specs at every stage, in the same relative order, and combine
    them into the same decision. So:

    * ``none`` — nothing differs that affects decisions: no case changes;
    * ``base`` — every differing spec reads case fields only: testing their conditions on the
      fact view picks the cases to evaluate in full (usually a small fraction);
    * ``staged`` — some differing spec reads ``decision.*``: the old pack is evaluated with a
      matcher that also tests the differing specs of each stage on that stage's facts; the new
      pack runs only when one matches;
    * ``full`` — global settings (severity levels, default tier or chair), table definitions in
      a way rows cannot capture, or the relative order of unchanged specs differ: evaluate both.
    """

    mode: str
    tests: tuple[Callable[[Mapping[str, Any]], bool], ...] = ()
    reads: frozenset[str] = frozenset()
    by_stage: Mapping[str, tuple[Callable[[Mapping[str, Any]], bool], ...]] = field(
        default_factory=dict
    )


def screen_for(old: ResolvedPack, new: ResolvedPack) -> Screen:
    from zhenshen_core.rules.engines.compiled import compile_expr

    if (old.severity_levels, old.default_tier, old.default_chair) != (
        new.severity_levels,
        new.default_tier,
        new.default_chair,
    ):
        return Screen("full")
    modified = set(changed_definitions(old, new))
    old_tables = {t.id: (t.stage, t.hit, t.outputs, t.rank) for t in old.tables}
    for table in new.tables:
        if table.id in old_tables and old_tables[table.id] != (
            table.stage,
            table.hit,
            table.outputs,
            table.rank,
        ):
            modified.update(s.id for s in (*old.rules, *new.rules) if s.table == table.id)
    old_ids = {s.id for s in old.rules}
    new_ids = {s.id for s in new.rules}
    differing = [s for s in old.rules if s.id in modified or s.id not in new_ids]
    differing += [s for s in new.rules if s.id in modified or s.id not in old_ids]
    changed = {s.id for s in differing}
    if [s.id for s in old.rules if s.id not in changed] != [
        s.id for s in new.rules if s.id not in changed
    ]:
        return Screen("full")
    if not differing:
        return Screen("none")

    def test(spec: RuleSpec, levels: tuple[str, ...]) -> Callable[[Mapping[str, Any]], bool]:
        if spec.condition is None:
            return lambda facts: True
        return compile_expr(spec.condition, levels)

    tests = tuple(test(s, old.severity_levels) for s in differing)  # levels are equal here
    if not any(r.startswith("decision.") for s in differing for r in s.reads):
        return Screen("base", tests, frozenset(r for s in differing for r in s.reads))
    stages = {s.stage for s in differing}
    if any(not old.stage_rules(stage) for stage in stages):
        return Screen("full")
    by_stage: dict[str, tuple[Callable[[Mapping[str, Any]], bool], ...]] = {}
    for spec, check in zip(differing, tests, strict=True):
        by_stage[spec.stage] = (*by_stage.get(spec.stage, ()), check)
    return Screen("staged", tests, by_stage=by_stage)


class _Recording:
    """A matcher that also notes whether any differing spec matches at its stage."""

    def __init__(
        self, inner: Any, by_stage: Mapping[str, tuple[Callable[[Mapping[str, Any]], bool], ...]]
    ) -> None:
        self.inner = inner
        self.by_stage = by_stage
        self.hit = False

    def match(self, stage: str, facts: Mapping[str, Any]) -> Any:
        if not self.hit:
            self.hit = any(check(facts) for check in self.by_stage.get(stage, ()))
        return self.inner.match(stage, facts)


def _rank(levels: Sequence[str], level: str) -> int:
    return levels.index(level) if level in levels else -1


def _list_delta(old: Sequence[str], new: Sequence[str]) -> tuple[list[str], list[str]]:
    return [x for x in new if x not in old], [x for x in old if x not in new]


def _decided(decision: Any, name: str) -> Any:
    """The value of output ``name`` in a ``Decision`` (``deadlines.<clock>``: every clock)."""
    value = decision
    for part in name.split(".")[:2] if not name.startswith("deadlines.") else ("deadlines",):
        value = getattr(value, part)
    return value


def compare(
    old: Any, new: Any, modified: frozenset[str], levels: Sequence[str]
) -> dict[str, Any] | None:
    """The differences between two ``Decision`` objects, or None when they agree."""
    changes: dict[str, Any] = {}
    for output in OUTPUTS:  # in their order: the order of a change's fields
        a, b = _decided(old, output.name), _decided(new, output.name)
        if a == b or output.change is None:
            continue
        if output.kind is OutputKind.LEVEL:
            up = _rank(levels, b) > _rank(levels, a)
            changes[output.change] = {"old": a, "new": b, "direction": "up" if up else "down"}
        elif output.kind is OutputKind.CHOICE:
            changes[output.change] = {"old": a, "new": b}
        elif output.kind is OutputKind.LIST:
            added, removed = _list_delta(a, b)
            if added or removed:
                changes[output.change] = {"added": added, "removed": removed}
        else:
            clocks = sorted(set(a) | set(b))
            changes[output.change] = {
                c: {"old": a.get(c), "new": b.get(c)} for c in clocks if a.get(c) != b.get(c)
            }
    if not changes:
        return None
    fired_old = [f.rule for f in old.fired]
    fired_new = [f.rule for f in new.fired]
    rules = [f"+{r}" for r in fired_new if r not in fired_old]
    rules += [f"-{r}" for r in fired_old if r not in fired_new]
    rules += [f"~{r}" for r in fired_new if r in fired_old and r in modified]
    return {"case_id": new.case_id, "changes": changes, "rules": rules}


# --- aggregation --------------------------------------------------------------------------------


@dataclass
class DiffSummary:
    """Counts over the whole corpus (mergeable: workers build one per chunk)."""

    cases: int = 0
    invalid: int = 0
    changed: int = 0
    fields: Counter[str] = field(default_factory=Counter)
    transitions: dict[str, Counter[str]] = field(default_factory=dict)
    rules: Counter[str] = field(default_factory=Counter)

    def add(self, change: Mapping[str, Any]) -> None:
        self.changed += 1
        for name, delta in change["changes"].items():
            if name == "severity":
                self.fields[f"severity_{delta['direction']}"] += 1
                self._bump("severity", f"{delta['old']}→{delta['new']}")
            elif name in ("tier", "chair", "lead_department"):
                self.fields[name] += 1
                self._bump(name, f"{delta['old'] or '(none)'}→{delta['new'] or '(none)'}")
            elif name == "deadlines":
                self.fields["deadlines"] += 1
                for clock in delta:
                    self._bump("deadlines", clock)
            else:
                if delta["added"]:
                    self.fields[f"{name}_added"] += 1
                if delta["removed"]:
                    self.fields[f"{name}_removed"] += 1
                for item in delta["added"]:
                    self._bump(f"{name}_added", item)
                for item in delta["removed"]:
                    self._bump(f"{name}_removed", item)
        for rule in change["rules"]:
            self.rules[rule] += 1

    def _bump(self, key: str, value: str) -> None:
        self.transitions.setdefault(key, Counter())[value] += 1

    def merge(self, other: DiffSummary) -> None:
        self.cases += other.cases
        self.invalid += other.invalid
        self.changed += other.changed
        self.fields.update(other.fields)
        self.rules.update(other.rules)
        for key, counter in other.transitions.items():
            self.transitions.setdefault(key, Counter()).update(counter)

    def as_dict(self) -> dict[str, Any]:
        return {
            "cases": self.cases,
            "invalid": self.invalid,
            "changed": self.changed,
            "unchanged": self.cases - self.invalid - self.changed,
            "fields": dict(sorted(self.fields.items())),
            "by_value": {k: dict(v.most_common()) for k, v in sorted(self.transitions.items())},
            "rules": dict(self.rules.most_common()),
        }


@dataclass
class ChunkResult:
    summary: DiffSummary
    changes: list[dict[str, Any]]
    invalid: list[dict[str, Any]]


# --- evaluation (in workers, or in-process) -------------------------------------------------------


class Evaluator:
    """Both engines and the screen for one process; built once, then fed chunks."""

    def __init__(
        self,
        old: ResolvedPack,
        new: ResolvedPack,
        *,
        screen: bool = True,
        validate_all: bool = False,
    ) -> None:
        from zhenshen_core.rules.engines.compiled import CompiledEngine

        self.old_pack, self.new_pack = old, new
        self.old = CompiledEngine(old)
        self.new = CompiledEngine(new)
        self.modified = changed_definitions(old, new)
        self.levels = new.severity_levels
        # Packs that read different facts as dates see different views of a case: each pack
        # gets its own, and no screen (it would test one view for both).
        self.same_view = old.date_facts == new.date_facts
        self.screen = screen_for(old, new) if screen and self.same_view else Screen("full")
        # Cases no differing rule can match are settled from a partial view of the raw record
        # (no Case model, no validation: ``facts.RecordProjection``) unless every case must be
        # validated.
        self.view_of = RecordProjection.build(self.screen.reads, new.date_facts)
        self.fast = not validate_all and (
            self.screen.mode == "none" or (self.screen.mode == "base" and self.view_of is not None)
        )

    def _decisions(
        self, case_id: str, facts: dict[str, Any], new_facts: dict[str, Any] | None = None
    ) -> tuple[Any, Any] | None:
        """Both decisions, or None when the screen proves they are equal. ``new_facts``: the
        new pack's view when it differs from the old pack's (other date facts)."""
        if new_facts is not None:
            return self.old.evaluate_facts(facts, case_id), self.new.evaluate_facts(
                new_facts, case_id
            )
        mode = self.screen.mode
        if mode == "none":
            return None
        if mode == "base":
            if not any(check(facts) for check in self.screen.tests):
                return None
        elif mode == "staged":
            recording = _Recording(self.old.matcher, self.screen.by_stage)
            old = self.old.combiner.decide(case_id, dict(facts), recording)
            if not recording.hit:
                return None
            return old, self.new.evaluate_facts(facts, case_id)
        return self.old.evaluate_facts(facts, case_id), self.new.evaluate_facts(facts, case_id)

    def _settled(self, data: Mapping[str, Any]) -> bool:
        """True when the raw record shows that no differing rule can match the case."""
        if self.screen.mode == "none":
            return True
        assert self.view_of is not None
        try:
            view = self.view_of(data)
        except NotCanonical:
            return False
        return not any(check(view) for check in self.screen.tests)

    def chunk(self, records: Sequence[Record]) -> ChunkResult:
        from pydantic import ValidationError

        from zhenshen_core.errors import CaseValidationError
        from zhenshen_core.model.case import Case
        from zhenshen_core.rules.diagnostics import EvaluationError
        from zhenshen_core.rules.engines.facts import fact_view

        summary = DiffSummary()
        changes: list[dict[str, Any]] = []
        invalid: list[dict[str, Any]] = []
        for line, payload, error in records:
            summary.cases += 1
            try:
                if error is not None or payload is None:
                    raise ValueError(error or "empty record")
                data = json_loads(payload) if isinstance(payload, str) else payload
                if not isinstance(data, dict):
                    raise ValueError(
                        f"expected a JSON object for a case, got {type(data).__name__}"
                    )
                if self.fast and self._settled(data):
                    continue
                case = Case.model_validate(data)
                if self.same_view:
                    both = self._decisions(case.id, fact_view(case, self.new_pack.date_facts))
                else:
                    both = self._decisions(
                        case.id,
                        fact_view(case, self.old_pack.date_facts),
                        fact_view(case, self.new_pack.date_facts),
                    )
            except (ValidationError, CaseValidationError, EvaluationError, ValueError) as exc:
                summary.invalid += 1
                bad = bad_byte(payload) if isinstance(payload, str) else None
                error = _short_error(exc) if bad is None else bad.in_record
                invalid.append({"line": line, "error": error})
                continue
            if both is None:
                continue
            change = compare(both[0], both[1], self.modified, self.levels)
            if change is not None:
                change = {"line": line, **change}
                summary.add(change)
                changes.append(change)
        return ChunkResult(summary, changes, invalid)


def _short_error(exc: Exception) -> str:
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        errors = exc.errors(include_url=False)
        more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
        return describe_validation_error(errors[0], "(case)") + more
    return str(exc)


class _WorkerState:
    """Holds the one ``Evaluator`` of a pool worker process.

    A pool worker is a separate process that lives for one diff; the pool initializer builds
    the engines there once and every chunk reuses them. This class attribute is that
    per-process slot — it is never set in the parent process.
    """

    evaluator: Evaluator | None = None


def _init_worker(old: PackRef, new: PackRef, screen: bool, validate_all: bool) -> None:
    _WorkerState.evaluator = Evaluator(
        old.load(), new.load(), screen=screen, validate_all=validate_all
    )


def _work(records: list[Record]) -> ChunkResult:
    evaluator = _WorkerState.evaluator
    if evaluator is None:  # pragma: no cover - the initializer always runs first
        raise RuntimeError("worker used before initialisation")
    return evaluator.chunk(records)


def _ordered(
    records: Iterator[Record],
    old: PackRef,
    new: PackRef,
    jobs: int,
    chunk_size: int,
    screen: bool,
    validate_all: bool,
) -> Iterator[ChunkResult]:
    """Chunk results in corpus order from a process pool (see :mod:`rules.parallel`)."""
    return ordered_pool(
        records,
        _work,
        jobs=jobs,
        chunk_size=chunk_size,
        initializer=_init_worker,
        initargs=(old, new, screen, validate_all),
    )


@dataclass
class DiffResult:
    """What the caller gets back; ``changes`` holds only the first ``keep`` changed cases."""

    old: ResolvedPack
    new: ResolvedPack
    summary: DiffSummary
    changes: list[dict[str, Any]]
    invalid: list[dict[str, Any]]
    modified_rules: frozenset[str]
    rule_changes: RuleChanges = field(default_factory=RuleChanges)


def diff_corpus(
    old: PackRef,
    new: PackRef,
    corpus: str,
    *,
    jobs: int | None = None,
    chunk_size: int = CHUNK_SIZE,
    keep: int = 20,
    on_change: Callable[[dict[str, Any]], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
    screen: bool = True,
    validate_all: bool = False,
    on_start: Callable[[], None] | None = None,
) -> DiffResult:
    """Evaluate ``corpus`` with both packs and report every changed case.

    ``on_change`` receives every changed case in corpus order (e.g. to stream JSON);
    ``keep`` of them are also returned. ``jobs`` defaults to the number of CPUs; with one job,
    or a small corpus, everything runs in this process. ``screen=False`` evaluates both packs
    for every case (for benchmarks and the screen's own tests). Cases that no differing rule
    can match are settled from the raw record without validating it; ``validate_all`` validates
    every case, so that every invalid record is reported (slower). ``on_start`` is called once
    the packs are loaded and the corpus is open, before the first case. Raises ``PackError`` for a
    pack that does not load and :class:`CorpusError` for an unreadable corpus.
    """
    old_pack, new_pack = old.load(), new.load()
    records = read_corpus(corpus)
    if on_start is not None:  # both packs loaded and the corpus opened: output may begin
        on_start()
    jobs = max(1, jobs if jobs is not None else (os.cpu_count() or 1))
    evaluator = Evaluator(old_pack, new_pack, screen=screen, validate_all=validate_all)
    results: Iterator[ChunkResult]
    if jobs == 1:
        results = (evaluator.chunk(c) for c in chunks(records, chunk_size))
    else:
        head = list(islice(records, POOL_MIN_CASES))
        if len(head) < POOL_MIN_CASES:
            results = (evaluator.chunk(c) for c in chunks(iter(head), chunk_size))
        else:
            from itertools import chain

            results = _ordered(
                chain(head, records), old, new, jobs, chunk_size, screen, validate_all
            )
    summary = DiffSummary()
    kept: list[dict[str, Any]] = []
    invalid: list[dict[str, Any]] = []
    for result in results:
        summary.merge(result.summary)
        for change in result.changes:
            if len(kept) < keep:
                kept.append(change)
            if on_change is not None:
                on_change(change)
        room = MAX_INVALID_KEPT - len(invalid)
        if room > 0:
            invalid.extend(result.invalid[:room])
        if on_progress is not None:
            on_progress(result.summary.cases)
    return DiffResult(
        old_pack,
        new_pack,
        summary,
        kept,
        invalid,
        evaluator.modified,
        rule_changes(old_pack, new_pack),
    )


def naive_diff(old: ResolvedPack, new: ResolvedPack, corpus: str) -> DiffSummary:
    """The obvious single-process loop (intake reader, ``load_case``, two ``evaluate``, compare
    the JSON forms): the baseline ``benchmarks/bench_diff.py`` measures against."""
    from zhenshen_core.builtin.intake import read_jsonl
    from zhenshen_core.model.lifecycle import load_case
    from zhenshen_core.rules.engines.compiled import CompiledEngine

    a, b = CompiledEngine(old), CompiledEngine(new)
    summary = DiffSummary()
    for record in read_jsonl(corpus):
        summary.cases += 1
        if record.data is None:
            summary.invalid += 1
            continue
        case = load_case(record.data)
        da, db = a.evaluate(case).to_dict(), b.evaluate(case).to_dict()
        for d in (da, db):
            d.pop("pack")
            d.pop("fired")
            d["experts"].pop("reasons", None)
        if da != db:
            summary.changed += 1
    return summary


__all__ = [
    "CHUNK_SIZE",
    "ChunkResult",
    "CorpusError",
    "DiffResult",
    "DiffSummary",
    "Evaluator",
    "PackRef",
    "RuleChanges",
    "changed_definitions",
    "compare",
    "diff_corpus",
    "naive_diff",
    "read_corpus",
    "rule_changes",
]
