"""The embedding snippets of the README, as an integrator types them: a pack id, both engines
from ``zhenshen_core.rules``, and a work order as a plain dict."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from zhenshen_core.errors import CaseValidationError
from zhenshen_core.rules import CompiledEngine, load_pack
from zhenshen_core.rules.diagnostics import PackError

ROOT = Path(__file__).resolve().parents[3]
SAMPLE = ROOT / "examples" / "corpus" / "sample-200.jsonl"
REFERENCE = "cn.chengdu.gaoxin"


@pytest.fixture
def autoload(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ZHENSHEN_DISABLE_PLUGIN_AUTOLOAD", raising=False)


def _work_orders(n: int) -> list[dict[str, object]]:
    with SAMPLE.open(encoding="utf-8") as fh:
        return [json.loads(next(fh)) for _ in range(n)]


def test_load_pack_finds_an_installed_plugin_pack_by_id(autoload: None) -> None:
    pack = load_pack(REFERENCE)
    assert pack.id == REFERENCE and pack.rules


def test_an_explicit_empty_plugin_map_still_means_search_paths_only(autoload: None) -> None:
    with pytest.raises(PackError, match="not found"):
        load_pack(REFERENCE, plugin_packs={})


def test_autoload_off_is_respected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZHENSHEN_DISABLE_PLUGIN_AUTOLOAD", "1")
    with pytest.raises(PackError, match="not found"):
        load_pack(REFERENCE)


@pytest.mark.slow
def test_a_folder_pack_imports_no_plugin() -> None:
    """The discovery is lazy: a pack that names no id never builds a plugin host."""
    folder = ROOT / "examples" / "packs" / "demo"
    code = (
        "import sys\n"
        "from zhenshen_core.rules import load_pack\n"
        f"load_pack({str(folder)!r})\n"
        "print(' '.join(sorted(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(done.stdout.split())
    assert "zhenshen_core.plugins.host" not in loaded
    assert "zhenshen_chengdu_gaoxin" not in loaded


@pytest.mark.slow
def test_durable_engine_is_exported_lazily_from_rules() -> None:
    code = (
        "import sys\n"
        "import zhenshen_core.rules as rules\n"
        "before = ('durable_rules_engine' in sys.modules"
        " or 'zhenshen_core.rules.engines.durable' in sys.modules)\n"
        "from zhenshen_core.rules import DurableEngine, EngineError\n"
        "print(before, DurableEngine.__module__, EngineError.__name__)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    durable = "zhenshen_core.rules.engines.durable.matcher"
    assert done.stdout.split() == ["False", durable, "EngineError"]


def test_evaluate_takes_a_work_order_dict_on_both_engines(autoload: None) -> None:
    from zhenshen_core.rules import DurableEngine, as_case

    pack = load_pack(REFERENCE)
    orders = _work_orders(20)
    compiled = CompiledEngine(pack)
    with DurableEngine(pack) as durable:
        for order in orders:
            case = as_case(order)
            expected = compiled.evaluate(case).to_json()
            assert compiled.evaluate(order).to_json() == expected
            assert durable.evaluate(order).to_json() == expected
            assert compiled.evaluate_json(order).decode() == expected
            assert durable.evaluate_json(order).decode() == expected
        assert [d.case_id for d in compiled.evaluate_many(orders)] == [
            as_case(o).id for o in orders
        ]


def test_evaluate_completes_a_partial_case_like_the_tests_do(autoload: None) -> None:
    from zhenshen_core.rules import as_case

    engine = CompiledEngine(load_pack(REFERENCE))
    partial = {
        "received_at": "2026-03-02T10:00:00+08:00",
        "domain": "credit_repair",
        "content": "企业纳税信用修复",
        "enterprise": {"tags": ["专精特新"]},
        "departments": ["gxq.swj", "gxq.jfj"],
        "returns": 2,
    }
    decision = engine.evaluate(partial)
    assert decision.severity == "S2"  # two departments, two returns
    assert "多次退单" in decision.tags and "跨部门" in decision.tags
    assert as_case(partial).enterprise is not None
    assert as_case(partial).enterprise.name == "测试企业"  # type: ignore[union-attr]
    assert partial["departments"] == ["gxq.swj", "gxq.jfj"]  # the caller's dict is not changed


def test_evaluate_refuses_a_bad_mapping_with_located_errors(autoload: None) -> None:
    engine = CompiledEngine(load_pack(REFERENCE))
    with pytest.raises(CaseValidationError, match="received_at"):
        engine.evaluate({"domain": "financing"})
    with pytest.raises(TypeError, match="Case or a mapping"):
        engine.evaluate("not a case")  # type: ignore[arg-type]


def test_a_mapping_gets_a_received_at_only_when_one_is_given() -> None:
    from zhenshen_core.rules import as_case

    with pytest.raises(CaseValidationError, match="received_at"):
        as_case({"domain": "financing"})
    default = as_case({"domain": "financing"}, received_at="2026-01-05T09:00:00+08:00")
    assert default.received_at.isoformat() == "2026-01-05T09:00:00+08:00"
    given = as_case({"received_at": "2020-01-02T09:00:00+08:00"}, received_at="2026-01-05")
    assert given.received_at.year == 2020
