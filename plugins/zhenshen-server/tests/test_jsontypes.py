"""A body's JSON types against the document's schema (``zhenshen_server.jsontypes``), without
a server: what is reported is wrong, what is wrong is reported, and located exactly."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from zhenshen_server import jsontypes

from zhenshen_core import Case, dump_case
from zhenshen_core.testing.storage_contract import BASE_TIME, make_case, make_clock


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return "integer"
    if isinstance(value, float):
        return "number"
    return {str: "string", list: "array", dict: "object"}[type(value)]


def at(body: Any, where: tuple[str | int, ...]) -> Any:
    for step in where:
        body = body[step]
    return body


CASE_FIELDS = sorted(Case.model_json_schema()["properties"])
SCALARS = (
    st.none() | st.booleans() | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=3)
)
KEYS = st.sampled_from(CASE_FIELDS) | st.text(alphabet="\0ab", max_size=2)
VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
    max_leaves=20,
)
BODIES = st.dictionaries(st.sampled_from(CASE_FIELDS), VALUES, max_size=8)


@settings(max_examples=400, deadline=None)
@given(body=BODIES, partial=st.booleans())
def test_every_value_reported_is_there_and_of_another_type(body: Any, partial: bool) -> None:
    validator = jsontypes.draft_validator() if partial else jsontypes.case_validator()
    for where, expected in jsontypes.wrong_types(body, validator):
        kinds = expected.split(" or ")
        found = json_type(at(body, where))  # the location exists, empty keys included
        assert found not in kinds and not (found == "integer" and "number" in kinds)


def a_clock() -> Any:
    return make_clock("opinion", due_at=BASE_TIME + timedelta(days=20), next_alert_at=None)


def valid_case() -> dict[str, Any]:
    return dump_case(make_case(1, clocks={"opinion": a_clock()}))


WRONG: list[tuple[tuple[str | int, ...], Any, str]] = [
    (("version",), "3", "integer"),
    (("version",), True, "integer"),
    (("title",), 1, "string"),
    (("tags",), "x", "array"),
    (("requester", "confidential"), 1, "boolean"),
    (("clocks", "opinion", "period"), 5, "string"),
    (("clocks", "opinion", "pauses"), {}, "array"),
    (("facts",), [], "object"),
]


@settings(max_examples=60, deadline=None)
@given(wrong=st.sampled_from(WRONG))
def test_one_value_of_the_wrong_type_is_the_one_reported(
    wrong: tuple[tuple[str | int, ...], Any, str],
) -> None:
    body = valid_case()
    assert jsontypes.wrong_types(body, jsontypes.case_validator()) == []
    where, value, expected = wrong
    parent = body
    for step in where[:-1]:
        parent = parent.setdefault(step, {}) if isinstance(step, str) else parent[step]
    parent[where[-1]] = value
    assert jsontypes.wrong_types(body, jsontypes.case_validator()) == [(where, expected)]


def test_empty_keys_are_named_where_they_are() -> None:
    """jsonschema-rs leaves empty keys out of a path; the report puts them back, beside a
    key of NULs that is a key like any other."""
    clock = a_clock().model_dump(mode="json")
    body = {"clocks": {"": 1, "\0": {**clock, "period": 2}, "a": {"": 3}}}
    found = jsontypes.wrong_types(body, jsontypes.case_validator())
    assert sorted(found) == [(("clocks", ""), "object"), (("clocks", "\0", "period"), "string")]


def test_constraints_other_than_types_are_left_to_the_model() -> None:
    """An unknown field, a string too long, an unknown enumeration value: the model's errors,
    not this check's."""
    body = {**valid_case(), "unknown": 1, "title": "x" * 1000, "channel": "carrier pigeon"}
    assert jsontypes.wrong_types(body, jsontypes.case_validator()) == []


def test_an_object_where_null_or_a_model_is_declared_is_reported_inside() -> None:
    """``requester`` is a model or null: a wrong field inside it is named, not the whole."""
    located = jsontypes.located({"requester": {"name": 5}}, jsontypes.case_validator())
    assert [d["field"] for d in located] == ["requester.name"]
    assert located[0]["message"] == "must be null or string (JSON), as the document declares"
    whole = jsontypes.located({"requester": 5}, jsontypes.case_validator())
    assert [(d["field"], d["message"]) for d in whole] == [
        ("requester", "must be null or object (JSON), as the document declares")
    ]


def test_nan_and_infinity_are_not_json_numbers() -> None:
    """Python's JSON reader takes ``NaN`` and ``Infinity``; JSON has no such numbers, and a
    field declared a number refuses them by name."""
    body = {"clocks": {"opinion": {"thresholds": [0.5, float("nan"), float("inf")]}}}
    assert jsontypes.wrong_types(body, jsontypes.case_validator()) == [
        (("clocks", "opinion", "thresholds", 1), "number"),
        (("clocks", "opinion", "thresholds", 2), "number"),
    ]


def nested(depth: int, leaf: Any, key: str | None = None) -> Any:
    for _ in range(depth):
        leaf = [leaf] if key is None else {key: leaf}
    return leaf


def test_a_body_as_deep_as_the_json_reader_allows_is_answered() -> None:
    """Python's JSON reader nests about 1,000 deep; jsonschema-rs cannot hand back a value
    of the wrong type nested about 300 deep, and the walks here are loops: the field that
    holds it is named, and nothing else is lost."""
    deep = {"tags": nested(990, 1), "title": 1, "facts": nested(990, 1, key="")}
    found = jsontypes.located(deep, jsontypes.case_validator())
    assert [(d["field"], d["message"]) for d in found] == [
        ("tags", "holds a value of the wrong JSON type nested too deep to name"),
        ("title", "must be string (JSON), as the document declares"),
    ]
    shallow = {"tags": nested(200, 1), "clocks": {"": 1}, "facts": nested(990, 1, key="")}
    assert sorted(jsontypes.wrong_types(shallow, jsontypes.case_validator())) == [
        (("clocks", ""), "object"),
        (("tags", 0), "string"),
    ]
