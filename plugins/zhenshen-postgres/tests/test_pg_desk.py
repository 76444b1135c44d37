"""The whole desk on PostgreSQL: the CLI demo gives the same report as on the memory store.

This is the end-to-end check that the plugin is enough for the real application: intake, rules,
lifecycle saves with optimistic concurrency, clock sweeps and the report all go through the
``CaseStore`` protocol, and nothing may come out differently from the reference backend.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from zhenshen_pg_testkit import ENV, SKIP_REASON

from zhenshen_core.cli.main import prepare

if not os.environ.get(ENV):
    pytest.skip(SKIP_REASON, allow_module_level=True)

CORPUS = Path(__file__).resolve().parents[3] / "examples" / "corpus" / "sample-200.jsonl"


def _demo(store: str, corpus: Path) -> dict[str, object]:
    # The postgresql:// scheme comes from this distribution's entry point, as in production;
    # ``demo`` from the reference pack's plugin, as the console script finds it.
    result = CliRunner().invoke(
        *prepare(["demo", "--store", store, "--corpus", str(corpus), "--format", "json"])
    )
    if result.exit_code != 0:
        pytest.fail(f"demo on {store} exited {result.exit_code}: {result.output[-2000:]}")
    data: dict[str, object] = json.loads(result.output)
    return data


def test_demo_report_on_postgres_matches_memory(schema_url: str, tmp_path: Path) -> None:
    if not CORPUS.is_file():
        pytest.skip(f"no demo corpus at {CORPUS}")
    corpus = tmp_path / "orders.jsonl"
    corpus.write_text("".join(CORPUS.read_text(encoding="utf-8").splitlines(True)[:25]))
    reference = CliRunner().invoke(
        *prepare(["demo", "--store", "memory://", "--corpus", str(corpus), "--format", "json"])
    )
    if reference.exit_code != 0:
        pytest.skip(f"the demo does not run here (memory store): {reference.output[-500:]}")
    assert _demo(schema_url, corpus) == json.loads(reference.output)
