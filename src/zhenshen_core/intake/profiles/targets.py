"""The case fields a mapping profile may fill, read off the case model itself.

A new field on :class:`~zhenshen_core.model.case.Case` (or on the enterprise, requester or
location) becomes mappable without touching this module; what intake must never set (the id,
the status and version the lifecycle keeps, what the rules decide) is listed once here.
"""

from __future__ import annotations

import functools
import types
import typing
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel

Kind = Literal["text", "datetime", "date", "bool", "enum", "list", "number", "integer", "any"]

KIND_WORDS: dict[str, str] = {
    "text": "text",
    "datetime": "a date-time",
    "date": "a date",
    "bool": "a yes/no value",
    "enum": "one of its codes",
    "list": "a list of texts",
    "number": "a number",
    "integer": "a whole number",
    "any": "any value",
}

#: Set by the lifecycle's events or decided by the rules: never by intake.
OWNED = frozenset(
    {
        "id",
        "status",
        "version",
        "severity",
        "tier",
        "chair",
        "merged_into",
        "decision",
        "pack",
        "opinion",
        "confirmation",
    }
)

#: Pseudo-fields that build ``departments`` (checked against the pack's departments).
LEAD = "lead_department"
CO = "co_departments"


@dataclass(frozen=True)
class Target:
    """A case field a profile can fill: its dotted path, kind and (for enums) codes → labels."""

    path: str
    kind: Kind
    description: str = ""
    choices: dict[str, str] = field(default_factory=dict)


def _strip_optional(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return _strip_optional(args[0])
    if origin is typing.Annotated:
        return _strip_optional(typing.get_args(annotation)[0])
    return annotation


def _kind(annotation: Any) -> Kind | None:
    bare = _strip_optional(annotation)
    if typing.get_origin(bare) is list and typing.get_args(bare) == (str,):
        return "list"
    if not isinstance(bare, type):
        return None
    if issubclass(bare, Enum):
        return "enum"
    if issubclass(bare, bool):
        return "bool"
    if issubclass(bare, datetime):
        return "datetime"
    if issubclass(bare, date):
        return "date"
    if issubclass(bare, int):
        return "integer"
    if issubclass(bare, float):
        return "number"
    if issubclass(bare, str):
        return "text"
    return None


def _walk(model: type[BaseModel], prefix: str, out: dict[str, Target]) -> None:
    hints = typing.get_type_hints(model, include_extras=True)
    for name, info in model.model_fields.items():
        if not prefix and name in OWNED:
            continue
        annotation = hints.get(name, info.annotation)
        bare = _strip_optional(annotation)
        path = f"{prefix}{name}"
        if isinstance(bare, type) and issubclass(bare, BaseModel):
            _walk(bare, f"{path}.", out)
            continue
        kind = _kind(annotation)
        if kind is None:
            continue
        choices: dict[str, str] = {}
        if kind == "enum":
            choices = {m.value: getattr(m, "label", m.value) for m in bare}
        out[path] = Target(path, kind, info.description or "", choices)


@functools.cache
def targets() -> dict[str, Target]:
    """Every field a profile may name (``facts.<name>`` aside), by dotted path."""
    from zhenshen_core.model.case import Case

    out: dict[str, Target] = {}
    _walk(Case, "", out)
    out.pop("external_refs", None)
    out[LEAD] = Target(LEAD, "text", "the lead department (牵头), a department id of the pack")
    out[CO] = Target(CO, "list", "co-operating departments (配合), department ids of the pack")
    return out


def target_for(path: str) -> Target | None:
    """The target ``path`` names; any ``facts.<name>`` is a fact of any kind."""
    if path.startswith("facts.") and len(path) > len("facts.") and ".." not in path:
        return Target(path, "any", "a fact the rules read as " + path)
    return targets().get(path)


__all__ = ["CO", "KIND_WORDS", "LEAD", "OWNED", "Kind", "Target", "target_for", "targets"]
