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
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from zhenshen_core.errors import describe_validation_error
from zhenshen_core.rules.engines.facts import NotCanonical, RecordProjection
from zhenshen_core.rules.engines.parallel import chunks, ordered_pool
from zhenshen_core.rules.impact.compare import ChunkResult, DiffSummary, compare
from zhenshen_core.rules.impact.corpus import PackRef, Record, read_corpus
from zhenshen_core.rules.impact.screen import (
    RuleChanges,
    Screen,
    _Recording,
    changed_definitions,
    rule_changes,
    screen_for,
)
from zhenshen_core.rules.pack.model import ResolvedPack
from zhenshen_core.textio import bad_byte, json_loads

#: Cases per chunk sent to a worker: large enough to amortise the round trip, small enough to
#: keep the pool busy and memory low.
CHUNK_SIZE = 2000
#: Corpora smaller than this are evaluated in-process (a pool costs more than it saves).
POOL_MIN_CASES = 4000
MAX_INVALID_KEPT = 1000


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
    from zhenshen_core.intake.readers import read_jsonl
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


__all__ = ["CHUNK_SIZE", "POOL_MIN_CASES", "DiffResult", "Evaluator", "diff_corpus", "naive_diff"]
