"""The ``then:`` outputs are declared once (``engines.outputs``); what is derived from them and
what is still written per output must agree with the declaration."""

from __future__ import annotations

from dataclasses import fields

from zhenshen_core.rules.engines.decision import Decision
from zhenshen_core.rules.engines.facts import FACT_SCHEMA, FieldType
from zhenshen_core.rules.engines.outputs import (
    LIST_OUTPUTS,
    OUTPUTS,
    TABLE_OUTPUT_ALIASES,
    TABLE_OUTPUTS,
    OutputKind,
)
from zhenshen_core.rules.pack.model import Outcome, Then
from zhenshen_core.rules.tester.model import LIST_FIELDS


def test_derived_tables_follow_the_declaration() -> None:
    assert list(TABLE_OUTPUTS) == [o.name for o in OUTPUTS]
    assert TABLE_OUTPUT_ALIASES == {"lead": "departments.lead", "co": "departments.co"}
    assert (
        LIST_OUTPUTS
        == LIST_FIELDS
        == {
            "departments.co",
            "experts.required",
            "experts.suggested",
            "tags",
            "actions",
        }
    )


def test_every_output_has_its_decision_fact() -> None:
    for output in OUTPUTS:
        if output.kind is OutputKind.CLOCKS:
            assert output.fact is None
            continue
        spec = FACT_SCHEMA[f"decision.{output.name}"]
        assert spec.decision_only and spec.values == output.values
        assert (
            spec.type
            is {
                OutputKind.LEVEL: FieldType.SEVERITY,
                OutputKind.CHOICE: FieldType.STRING,
                OutputKind.LIST: FieldType.LIST,
            }[output.kind]
        )


def test_the_places_still_written_per_output_know_every_output() -> None:
    """The recipe's three hand-written places: ``Then`` (the rule file), ``Outcome`` (what a
    rule sets) and ``Decision`` (what the combiner gives)."""
    outcome = {f.name for f in fields(Outcome)}
    decision = Decision.model_json_schema()
    for output in OUTPUTS:
        head = output.name.split(".")[0]
        assert head in Then.model_fields, output.name
        assert output.outcome in outcome, output.name
        assert head in decision["properties"], output.name
