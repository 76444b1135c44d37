"""Rules read personal data as it is; the decision's trace never holds it (issue 16)."""

from __future__ import annotations

import inspect
import json
from typing import Any

import pytest
from hypothesis import given
from tests.privacy.strategies import id_numbers, mobiles

from zhenshen_core.model import Case
from zhenshen_core.privacy._names import NAME_DOTS
from zhenshen_core.rules import CompiledEngine, InterpretedEngine
from zhenshen_core.rules.engines.decision import MAX_VALUE_CHARS, name_needle
from zhenshen_core.rules.pack.loader import load_documents

PACK: dict[str, Any] = {
    "pack.yaml": {"schema": 1, "id": "private", "version": "1", "severity_levels": ["S1", "S2"]},
    "rules.yaml": {
        "schema": 1,
        "rules": [
            {
                "id": "callback",
                "when": 'requester.phone matches "^139"',
                "then": {"tags": ["回拨"]},
            },
            {"id": "named", "when": 'requester.name == "王芳"', "then": {"tags": ["实名"]}},
            {"id": "text", "when": 'content contains "停产"', "then": {"tags": ["停产"]}},
        ],
    },
}
PACKS = {"private": PACK}


def _case(content: str, phone: str = "13912345678") -> Case:
    return Case.model_validate(
        {
            "received_at": "2026-03-02T09:30:00+08:00",
            "content": content,
            "requester": {"name": "王芳", "phone": phone},
        }
    )


@pytest.mark.parametrize("engine", [CompiledEngine, InterpretedEngine])
def test_rules_see_real_values_and_the_trace_shows_them_masked(engine: Any) -> None:
    pack = load_documents(PACKS, "private", analyse=False)
    decision = engine(pack).evaluate(_case("王芳来电，电话13912345678，已停产。"))
    assert set(decision.tags) == {"回拨", "实名", "停产"}  # the rules read the real values
    values = {f.rule: f.values for f in decision.fired}
    assert values["callback"] == {"requester.phone": "139****5678"}
    assert values["named"] == {"requester.name": "王*"}
    assert values["text"] == {"content": "王*来电，电话139****5678，已停产。"}


@given(mobile=mobiles(), id_number=id_numbers())
def test_no_decision_holds_a_number_of_its_case(
    mobile: tuple[str, str], id_number: tuple[str, str]
) -> None:
    pack = load_documents(PACKS, "private", analyse=False)
    case = _case(f"已停产，电话{mobile[0]}，证件{id_number[0]}，王芳", phone=mobile[1])
    shown = CompiledEngine(pack).evaluate(case).to_json()
    for raw in (mobile[0], mobile[1], id_number[0], id_number[1], "王芳"):
        assert raw not in shown
    assert json.loads(shown)["case_id"] == case.id


def test_a_long_text_is_masked_before_it_is_cut() -> None:
    """A number running over the 200th character is masked, not cut in half and left."""
    pack = load_documents(PACKS, "private", analyse=False)
    content = "已停产" + "甲" * 194 + "电话13912345678" + "乙" * 19_000
    decision = CompiledEngine(pack).evaluate(_case(content))
    shown = {f.rule: f.values for f in decision.fired}["text"]["content"]
    assert shown.endswith("…") and len(shown) == MAX_VALUE_CHARS + 1
    assert "1391" not in shown and shown[197:200] == "电话1"


def test_the_trace_knows_the_middle_dots_of_names() -> None:
    assert inspect.signature(name_needle).parameters["dots"].default == NAME_DOTS
