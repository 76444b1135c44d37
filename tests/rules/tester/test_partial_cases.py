"""A partial case means the same to ``zhenshen eval`` and to a pack test: one reading
(``model.partial.complete_case``), one decision."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zhenshen_core.rules.tester import run_pack_tests

from ..conftest import CLI_PACKS as PACKS
from ..conftest import Invoke

NOW = "2026-01-05T09:00:00+08:00"  # what a pack test without `now` receives


def test_eval_accepts_an_enterprise_without_a_name(zhenshen: Invoke, tmp_path: Path) -> None:
    case = {"received_at": NOW, "domain": "financing", "enterprise": {"tags": ["专精特新"]}}
    result = zhenshen(
        "eval", "--pack", str(PACKS / "basic"), "--format", "json",
        input=json.dumps(case, ensure_ascii=False),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["tier"] == "general"


def test_eval_still_requires_received_at(zhenshen: Invoke) -> None:
    result = zhenshen("eval", "--pack", str(PACKS / "basic"), input='{"domain": "financing"}')
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == "<stdin>:1: invalid case: received_at: Field required"


def test_eval_help_says_what_a_partial_case_may_leave_out(zhenshen: Invoke) -> None:
    text = " ".join(zhenshen("eval", "--help").stdout.split())
    assert "received_at is required" in text
    assert "an enterprise without a name is named 测试企业" in text


PARTIAL = st.fixed_dictionaries(
    {},
    optional={
        "domain": st.sampled_from(["financing", "market_entry_operation", "credit_repair"]),
        "content": st.sampled_from(["", "企业停产", "无法经营，请协调", "咨询"]),
        "enterprise": st.fixed_dictionaries(
            {},
            optional={
                "tags": st.lists(st.sampled_from(["专精特新", "外资"]), max_size=2, unique=True),
                "size": st.sampled_from(["micro", "small", "medium", "large"]),
            },
        ),
        "departments": st.lists(
            st.sampled_from(["gxq.scjgj", "gxq.zwfw", "gxq.jrj", "gxq.sqjd"]),
            max_size=4,
            unique=True,
        ),
        "returns": st.integers(0, 3),
        "facts": st.fixed_dictionaries({}, optional={"loan_wan": st.integers(0, 3000)}),
    },
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
          HealthCheck.function_scoped_fixture])  # fmt: skip
@given(partial=PARTIAL)
def test_eval_and_pack_tests_decide_a_partial_case_alike(
    zhenshen: Invoke, tmp_path_factory: pytest.TempPathFactory, partial: dict[str, Any]
) -> None:
    pack = tmp_path_factory.mktemp("pack") / "basic"
    shutil.copytree(PACKS / "basic", pack)
    for old in (pack / "tests").iterdir():
        old.unlink()
    text = json.dumps(partial, ensure_ascii=False)
    (pack / "tests" / "partial.yaml").write_text(
        f"- name: partial\n  case: {text}\n  expect: {{}}\n", encoding="utf-8"
    )
    run = run_pack_tests([pack], search_paths=[])
    (result,) = run.results
    assert result.outcome == "passed", result.message
    evaluated = zhenshen(
        "eval", "--pack", str(pack), "--format", "json", input=json.dumps({"received_at": NOW,
        **partial}, ensure_ascii=False),
    )  # fmt: skip
    assert evaluated.exit_code == 0, evaluated.stderr
    assert json.loads(evaluated.stdout) == result.decision


def test_a_number_of_returns_stands_for_at_most_max_returns() -> None:
    """A small draft (``"returns": 1000000000``) must not build a billion records: past
    MAX_RETURNS the number is left as it is, and validation names the field."""
    from zhenshen_core.errors import CaseValidationError
    from zhenshen_core.model.lifecycle import load_case
    from zhenshen_core.model.partial import MAX_RETURNS, complete_case

    assert len(load_case(complete_case({"received_at": NOW, "returns": MAX_RETURNS})).returns) \
        == MAX_RETURNS
    with pytest.raises(CaseValidationError) as info:
        load_case(complete_case({"received_at": NOW, "returns": 10**9}))
    assert [e["loc"] for e in info.value.errors] == [("returns",)]


def test_the_draft_schema_says_which_conveniences_are_read() -> None:
    """``draft_json_schema`` is the case's schema with the conveniences written in: what it
    adds is what ``complete_case`` completes; the rest is the case model's, unchanged."""
    from zhenshen_core import Case
    from zhenshen_core.model.partial import MAX_RETURNS, draft_json_schema

    case, draft = Case.model_json_schema(), draft_json_schema()
    changed = {k for k in case["properties"] if case["properties"][k] != draft["properties"][k]}
    assert changed == {"enterprise", "departments", "returns"}
    assert draft["required"] == case["required"] == ["received_at"]
    assert "name" not in draft["$defs"]["EnterpriseDraft"].get("required", [])
    (number,) = [a for a in draft["properties"]["returns"]["anyOf"] if a["type"] == "integer"]
    assert number["maximum"] == MAX_RETURNS
    (ids,) = [a for a in draft["properties"]["departments"]["items"]["anyOf"]
              if a.get("type") == "string"]
    assert ids["minLength"] == 1  # as a department's id
    refs = draft_json_schema(ref_template="#/components/schemas/{model}")
    assert "#/components/schemas/EnterpriseDraft" in json.dumps(refs["properties"])
