"""Values of the wrong JSON type in a body, by the JSON Schema the document gives for it.

The library reads a case in pydantic's lax mode, as the CLI reads files and spreadsheets:
``"1"`` or ``false`` is read as the integer a field wants, ``1`` as a boolean. The HTTP
document promises JSON types (``version`` is an integer), so a body whose value has another
type is refused here, with each field named, before the library would coerce it; a client
that sends what the document says never meets this check.

Only the types are checked: the document's schema is cut down to ``type`` and what reaches
it (``$ref``, ``allOf``, ``anyOf``, ``properties``, a schema in
``additionalProperties`` or ``items``) and validated by jsonschema-rs; every other constraint
is the model's, whose errors the service reports as they are. A body of the right types
costs about 2 µs.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import Any

import jsonschema_rs

from zhenshen_core import Case
from zhenshen_core.model.partial import draft_json_schema

Kind = jsonschema_rs.ValidationErrorKind

#: What a field holding a value of the wrong type too deep to name expects.
TOO_DEEP = "no value of another type, at any depth"

#: The keywords a type depends on; the others are left to the model.
_TYPES = frozenset({"type", "$ref", "allOf", "anyOf", "properties", "additionalProperties",
                    "items"})


def _types_only(schema: Any) -> Any:
    """``schema`` without the keywords that do not decide a type (a ``oneOf``, which the
    documents do not use, would be left out with what is below it: a type check reduced to
    types could find two alternatives that fit)."""
    if isinstance(schema, list):
        return [_types_only(part) for part in schema]
    if not isinstance(schema, Mapping):
        return schema
    kept: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ("properties", "$defs"):
            kept[key] = {name: _types_only(sub) for name, sub in value.items()}
        elif key in _TYPES and (key in ("type", "$ref") or isinstance(value, Mapping | list)):
            kept[key] = _types_only(value)
    return kept


@functools.cache
def case_validator() -> jsonschema_rs.Draft202012Validator:
    """The types of a case (what ``zhenshen schema case`` prints), compiled once."""
    return jsonschema_rs.Draft202012Validator(_types_only(Case.model_json_schema()))


@functools.cache
def draft_validator() -> jsonschema_rs.Draft202012Validator:
    """The types of a partial case (``zhenshen eval``'s input), compiled once."""
    return jsonschema_rs.Draft202012Validator(_types_only(draft_json_schema()))


def _keys(value: Any) -> set[str]:
    """Every key of the body, at any depth (a loop: a body may nest as deep as the JSON
    reader allows, deeper than Python's recursion)."""
    keys: set[str] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            keys.update(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return keys


def _renamed(value: Any, name: str) -> Any:
    """A copy of the body with each empty key named ``name`` (a loop, as :func:`_keys`)."""
    holder = [value]
    stack: list[tuple[Any, Any]] = [(holder, 0)]
    while stack:
        parent, at = stack.pop()
        item = parent[at]
        if isinstance(item, dict):
            parent[at] = mapping = {(name if k == "" else k): v for k, v in item.items()}
            stack.extend((mapping, k) for k in mapping)
        elif isinstance(item, list):
            parent[at] = items = list(item)
            stack.extend((items, i) for i in range(len(items)))
    return holder[0]


def _found(error: Any) -> list[tuple[tuple[str | int, ...], str]]:
    """``(location, expected types)`` of one error. Where no alternative of an ``anyOf``
    fits, the error is reported inside the first alternative whose own type the value has
    (a field of a nested object), else at the value, naming every alternative's type."""
    kind, loc = error.kind, tuple(error.instance_path)
    if isinstance(kind, Kind.AnyOf):
        for alternative in kind.context:
            if all(len(e.instance_path) > len(loc) for e in alternative):
                return [found for e in alternative for found in _found(e)]
        expected = sorted({
            t for alternative in kind.context for e in alternative
            if isinstance(e.kind, Kind.Type) and len(e.instance_path) == len(loc)
            for t in e.kind.types
        })
        return [(loc, " or ".join(expected) or "another type")]
    if isinstance(kind, Kind.Type):
        return [(loc, " or ".join(kind.types))]
    return [(loc, "another type")]


def wrong_types(
    value: dict[str, Any], validator: jsonschema_rs.Draft202012Validator
) -> list[tuple[tuple[str | int, ...], str]]:
    """``(location, expected types)`` of each value in the body ``value`` whose JSON type
    the validator's schema does not allow; a value too deep to name is reported as the
    body's field that holds it, expecting :data:`TOO_DEEP`."""
    if validator.is_valid(value):
        return []
    # jsonschema-rs leaves an empty key out of an error's path: such keys are renamed for
    # the check to a run of NULs longer than any key of the body, and named back after.
    keys = _keys(value)
    name = ""
    if "" in keys:
        name = "\0" * (1 + max((len(k) for k in keys if not k.strip("\0")), default=0))
        value = _renamed(value, name)

    def named(errors: Iterable[Any]) -> list[tuple[tuple[str | int, ...], str]]:
        return [(tuple("" if step == name else step for step in where), expected)
                for error in errors for where, expected in _found(error)]

    try:
        return named(validator.iter_errors(value))
    except ValueError:  # jsonschema-rs cannot hand back a value nested about 300 deep
        found: list[tuple[tuple[str | int, ...], str]] = []
        for key, item in value.items():
            try:
                found += named(validator.iter_errors({key: item}))
            except ValueError:
                found.append(((key,), TOO_DEEP))
        return found


def located(
    value: dict[str, Any], validator: jsonschema_rs.Draft202012Validator
) -> list[dict[str, Any]]:
    """The details of a 400 for a body of the validator's schema: one per value of the
    wrong type."""
    return [
        {"loc": [*map(str, where)], "field": ".".join(map(str, where)),
         "message": (f"must be {expected} (JSON), as the document declares"
                     if expected != TOO_DEEP else
                     "holds a value of the wrong JSON type nested too deep to name"),
         "type": "json_type"}
        for where, expected in wrong_types(value, validator)
    ]
