"""The fact field spec: every view of a case derives from ``FACT_FIELDS`` and they agree."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import given
from zhenshen_chengdu_gaoxin.corpus import generate_cases

from zhenshen_core.model import Case, load_case
from zhenshen_core.rules.engines.facts import (
    FACT_FIELDS,
    FACT_SCHEMA,
    FactProjection,
    NotCanonical,
    RecordProjection,
    fact_json_schema,
    fact_view,
)
from zhenshen_core.testing.rule_strategies import cases

FULL_CASE = {
    "external_id": "12345-7",
    "channel": "hotline_12345",
    "received_at": "2026-03-02T23:30:00+00:00",  # 07:30 the next day in Shanghai
    "appeal_type": "complaint",
    "title": "融资难",
    "content": "贷款被拒",
    "domain": "financing",
    "enterprise": {
        "name": "某科技公司",
        "uscc": "91510100MA68NDJH6X",
        "size": "small",
        "industry_code": "I65",
        "tags": ["专精特新"],
    },
    "requester": {"anonymous": True, "name": "王芳", "phone": "13912345678"},
    "location": {"district": "高新区", "street": "合作街道"},
    "departments": [{"id": "d.a", "role": "lead"}, {"id": "d.b", "role": "co"}],
    "tags": ["回访"],
    "returns": [{"at": "2026-03-03T09:00:00+08:00", "from_department": "d.a"}],
    "facts": {"amount_wan": 300, "n": {"m": [1, 2]}, "skip": None},
}


def test_the_view_of_a_full_case() -> None:
    """What each declared field reads, spelled out once (the spec's meaning, not its code)."""
    case = load_case(FULL_CASE)
    assert fact_view(case) == {
        "case_id": case.id,
        "external_id": "12345-7",
        "status": "received",
        "domain": "financing",
        "appeal_type": "complaint",
        "channel": "hotline_12345",
        "title": "融资难",
        "content": "贷款被拒",
        "received_at": date(2026, 3, 3),
        "enterprise.name": "某科技公司",
        "enterprise.uscc": "91510100MA68NDJH6X",
        "enterprise.size": "small",
        "enterprise.industry_code": "I65",
        "enterprise.tags": ("专精特新",),
        "requester.name": "王芳",
        "requester.phone": "13912345678",
        "requester.anonymous": True,
        "requester.confidential": False,
        "location.district": "高新区",
        "location.street": "合作街道",
        "departments": ("d.a", "d.b"),
        "lead_department": "d.a",
        "tags": ("回访",),
        "returns": 1,
        "facts.amount_wan": 300,
        "facts.n.m": (1, 2),
    }


def test_every_derived_artefact_covers_the_spec() -> None:
    names = {spec.name for spec in FACT_FIELDS}
    assert set(FACT_SCHEMA) == names
    assert set(fact_json_schema()["properties"]) == names
    case_fields = {spec.name for spec in FACT_FIELDS if spec.path}
    assert set(fact_view(load_case(FULL_CASE))) - {"facts.amount_wan", "facts.n.m"} == case_fields
    record_fields = {spec.name for spec in FACT_FIELDS if spec.path and spec.from_record}
    assert RecordProjection.build(record_fields) is not None
    assert RecordProjection.build({"case_id"}) is None
    assert RecordProjection.build({"decision.severity"}) is None


@given(case=cases())
def test_record_projection_of_a_stored_case_equals_its_view(case: Case) -> None:
    """The raw-record reader and the model reader are two derivations of one spec: a case's
    stored JSON read raw gives the validated case's view."""
    fields = {spec.name for spec in FACT_FIELDS if spec.path and spec.from_record}
    fields |= {"facts.amount", "facts.flag", "facts.level", "facts.nope", "facts.a.b"}
    projection = RecordProjection.build(fields)
    assert projection is not None
    expected = FactProjection(fields)(case)
    assert projection(case.model_dump(mode="json")) == expected


def test_record_projection_equals_the_fact_view_on_corpus_records() -> None:
    """Records as a corpus holds them (defaults left out, naive times): the fast path takes
    most of them and agrees with ``fact_view`` of the validated case wherever it does."""
    fields = {spec.name for spec in FACT_FIELDS if spec.path and spec.from_record}
    fields |= {"facts.amount_wan", "facts.prior_contacts", "facts.low_risk_small_project"}
    fields |= {"facts.missing", "facts.n.m"}
    records: list[dict[str, Any]] = list(generate_cases(300, seed=11))
    records.append(
        {
            "received_at": "2026-01-05 09:00",
            "requester": {"anonymous": True},
            "departments": [{"id": "a", "role": "lead"}, {"id": "b"}],
            "location": {"street": "合作街道"},
            "facts": {"n": {"m": [1, 2]}},
            "returns": [{"at": "2026-01-05T09:00:00+08:00", "from_department": "a"}],
        }
    )
    projection = RecordProjection.build(fields)
    assert projection is not None
    fast = 0
    for data in records:
        full = fact_view(load_case(data))
        try:
            view = projection(data)
        except NotCanonical:
            continue
        fast += 1
        assert view == {k: v for k, v in full.items() if k in fields}
    assert fast > len(records) * 0.9


@pytest.mark.parametrize(
    ("record", "field"),
    [
        ({"channel": "fax"}, "channel"),  # not a channel: the model reports it
        ({"channel": "HOTLINE_12345"}, "channel"),  # another spelling
        ({"status": None}, "status"),  # null where the model stores a default
        ({"enterprise": {"name": "x", "uscc": "91510100ma68ndjh6x"}}, "enterprise.uscc"),
        ({"enterprise": {"name": "x", "size": 3}}, "enterprise.size"),
        ({"requester": {"anonymous": "yes"}}, "requester.anonymous"),
        ({"tags": "a,b"}, "tags"),
        (
            {"departments": [{"id": "a", "role": "lead"}, {"id": "b", "role": "lead"}]},
            "lead_department",
        ),
        ({}, "received_at"),  # required by the model
    ],
)
def test_a_record_the_model_would_change_is_not_read_raw(
    record: dict[str, Any], field: str
) -> None:
    projection = RecordProjection.build({field})
    assert projection is not None
    with pytest.raises(NotCanonical):
        projection(record)


def test_defaults_come_from_the_model() -> None:
    projection = RecordProjection.build({"status", "appeal_type", "channel", "title"})
    assert projection is not None
    assert projection({}) == {
        "status": "received",
        "appeal_type": "help",
        "channel": "api",
        "title": "",
    }


def test_the_rule_language_reference_names_every_field() -> None:
    from pathlib import Path

    reference = Path(__file__).resolve().parents[3] / "docs" / "reference" / "rule-language.md"
    text = reference.read_text(encoding="utf-8")
    missing = [
        spec.name
        for spec in FACT_FIELDS
        if f"`{spec.name}`" not in text and f"`.{spec.name.rsplit('.', 1)[-1]}`" not in text
    ]
    assert not missing, missing
