"""THE differential test: random packs and random cases get identical decisions (same JSON)
from the durable engine and the compiled engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zhenshen_core.model import Case
from zhenshen_core.rules.diagnostics import EvaluationError
from zhenshen_core.rules.engines.compiled import CompiledEngine
from zhenshen_core.rules.engines.durable import DurableEngine
from zhenshen_core.testing.rule_strategies import build_pack, cases, pack_documents


def _decisions(engine: Any, batch: list[Case]) -> list[str]:
    out = []
    for case in batch:
        try:
            out.append(engine.evaluate(case).to_json())
        except EvaluationError as exc:  # e.g. a `unique` table with two matching rows
            out.append(f"error: {exc}")
    return out


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(docs=pack_documents(max_rules=12), batch=st.lists(cases(), min_size=1, max_size=8))
def test_durable_and_compiled_engines_decide_identically(
    tmp_path_factory: pytest.TempPathFactory, docs: dict[str, Any], batch: list[Case]
) -> None:
    pack = build_pack(docs, Path(tmp_path_factory.mktemp("pack")))
    with DurableEngine(pack) as durable:
        assert _decisions(durable, batch) == _decisions(CompiledEngine(pack), batch)


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(docs=pack_documents(max_rules=6), batch=st.lists(cases(), min_size=1, max_size=4))
def test_fresh_sid_strategy_decides_identically(
    tmp_path_factory: pytest.TempPathFactory, docs: dict[str, Any], batch: list[Case]
) -> None:
    pack = build_pack(docs, Path(tmp_path_factory.mktemp("pack")))
    with DurableEngine(pack, strategy="fresh") as durable:
        assert _decisions(durable, batch) == _decisions(CompiledEngine(pack), batch)


FACT_INPUTS = ("facts.amount", "facts.flag", "facts.level", "facts.since", "received_at")


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    docs=pack_documents(max_rules=4, table_inputs=FACT_INPUTS),
    batch=st.lists(cases(), min_size=1, max_size=8),
)
def test_engines_agree_on_cells_over_untyped_facts(
    tmp_path_factory: pytest.TempPathFactory, docs: dict[str, Any], batch: list[Case]
) -> None:
    """Ranges, comparisons, !=, lists and date() cells on facts.* (and dates read from the
    facts' ISO strings): the durable engine, the compiled engine and the reference
    interpreter decide alike, before and after a JSON round trip of each case."""
    from zhenshen_core.rules.engines.compiled import InterpretedEngine

    pack = build_pack(docs, Path(tmp_path_factory.mktemp("pack")))
    reloaded = [Case.model_validate_json(c.model_dump_json()) for c in batch]
    with DurableEngine(pack) as durable:
        expected = _decisions(InterpretedEngine(pack), batch)
        assert _decisions(CompiledEngine(pack), batch) == expected
        assert _decisions(durable, batch) == expected
        assert _decisions(durable, reloaded) == expected
