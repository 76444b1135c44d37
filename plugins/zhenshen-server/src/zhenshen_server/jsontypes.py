"""Values of the wrong JSON type in a body, by the JSON Schema the document gives for it.

The library reads a case in pydantic's lax mode, as the CLI reads files and spreadsheets:
``"1"`` or ``false`` is read as the integer a field wants, ``1`` as a boolean. The HTTP
document promises JSON types (``version`` is an integer), so a body whose value has another
type is refused here, with each field named, before the library would coerce it; a client
that sends what the document says never meets this check.

Only the types are checked (``type``, through ``$ref``, ``allOf``, ``anyOf``/``oneOf``,
``properties``, ``additionalProperties`` and ``items``); every other constraint is the
model's, whose errors the service reports as they are.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from zhenshen_core import Case
from zhenshen_core.model.partial import draft_json_schema


@functools.cache
def case_schema() -> Mapping[str, Any]:
    """The JSON Schema of a case (what ``zhenshen schema case`` prints), computed once."""
    return Case.model_json_schema()


@functools.cache
def draft_schema() -> Mapping[str, Any]:
    """The JSON Schema of a partial case (``zhenshen eval``'s input), computed once."""
    return draft_json_schema()


def _is(kind: str, value: Any) -> bool:
    if kind == "null":
        return value is None
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":  # JSON Schema: 1.0 is an integer too
        return not isinstance(value, bool) and (
            isinstance(value, int) or (isinstance(value, float) and value.is_integer())
        )
    if kind == "number":
        return not isinstance(value, bool) and isinstance(value, int | float)
    if kind == "string":
        return isinstance(value, str)
    if kind == "array":
        return isinstance(value, list)
    if kind == "object":
        return isinstance(value, dict)
    return True


def _types(schema: Mapping[str, Any]) -> list[str]:
    declared = schema.get("type")
    if declared is None:
        return []
    return [declared] if isinstance(declared, str) else list(declared)


#: The keywords this check reads: a ``$ref`` beside none of them is its target as it is.
_READ = frozenset({"type", "allOf", "anyOf", "oneOf", "properties", "additionalProperties",
                   "items"})


def _resolved(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        target: Mapping[str, Any] = root.get("$defs", {}).get(ref.rsplit("/", 1)[1], {})
        if _READ.isdisjoint(schema):
            return target
        return {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


def wrong_types(
    value: Any,
    schema: Mapping[str, Any],
    root: Mapping[str, Any],
    loc: tuple[str | int, ...] = (),
) -> list[tuple[tuple[str | int, ...], str]]:
    """``(location, expected types)`` of each value in ``value`` whose JSON type ``schema``
    does not allow; ``root`` holds the ``$defs`` that ``$ref`` points into."""
    schema = _resolved(schema, root)
    found: list[tuple[tuple[str | int, ...], str]] = []
    for part in schema.get("allOf", ()):
        found += wrong_types(value, part, root, loc)
    alternatives: Sequence[Mapping[str, Any]] = schema.get("anyOf") or schema.get("oneOf") or ()
    if alternatives:
        outcomes = []
        for alt in alternatives:  # the first alternative that fits ends the search
            outcome = wrong_types(value, alt, root, loc)
            if not outcome:
                return found
            outcomes.append(outcome)
        shallow = [o for o in outcomes if all(where != loc for where, _ in o)]
        if shallow:  # the value's own type fits an alternative: report inside that one
            return found + shallow[0]
        expected = " or ".join(
            sorted({t for alt in alternatives for t in _types(_resolved(alt, root))})
        )
        return [*found, (loc, expected or "another type")]
    types = _types(schema)
    if types and not any(_is(kind, value) for kind in types):
        return [*found, (loc, " or ".join(types))]
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            sub = properties.get(key, extra if isinstance(extra, Mapping) else None)
            if sub is not None:
                found += wrong_types(item, sub, root, (*loc, key))
    elif isinstance(value, list) and isinstance(schema.get("items"), Mapping):
        for index, item in enumerate(value):
            found += wrong_types(item, schema["items"], root, (*loc, index))
    return found


def located(value: Any, schema: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The details of a 400 for a body of ``schema``: one per value of the wrong type."""
    return [
        {"loc": [*map(str, where)], "field": ".".join(map(str, where)),
         "message": f"must be {expected} (JSON), as the document declares",
         "type": "json_type"}
        for where, expected in wrong_types(value, schema, schema)
    ]
