"""What an error message may repeat of the input it is about.

Files people hand over (packs, pack tests, profiles, calendars, ``zhenshen.toml``) can hold a
secret by mistake: a key pasted from another config (``db_password: hunter2``), a token in the
wrong place. Messages are printed to terminals, CI logs and JSON reports, so the rule is:

* an **unknown key** is named (shortened), with its place; its value is never shown;
* a value in a **known field** is shown only where that field takes a closed set of values or
  a number, date or yes/no — a code typed wrong (``stage: clasify``), ``priority: high`` —
  and then shortened to ``MAX_SHOWN`` characters; any other wrong value is described by its
  kind ("got text", "got a number"), never repeated;
* lists and mappings are never shown.

``shown_input`` applies the rule to one of pydantic's errors, ``shown`` shortens a value the
caller has decided may be shown, and ``shown_key`` a key.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any

#: The most characters of a value (or key) an error message repeats.
MAX_SHOWN = 40

#: pydantic error types about a value that should have been one of a closed set, a number, a
#: date or yes/no: showing it shows the typo.
SHOWABLE_ERRORS = frozenset(
    {
        "literal_error",
        "enum",
        "bool_parsing",
        "int_parsing",
        "int_from_float",
        "float_parsing",
        "finite_number",
        "date_parsing",
        "date_from_datetime_parsing",
        "date_from_datetime_inexact",
        "datetime_parsing",
        "datetime_from_date_parsing",
        "time_parsing",
        "greater_than",
        "greater_than_equal",
        "less_than",
        "less_than_equal",
        "multiple_of",
    }
)


def shorten(text: str) -> str:
    """``text`` cut to ``MAX_SHOWN`` characters (the last one an ellipsis)."""
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"


def shown(value: Any) -> str:
    """``repr(value)`` shortened to ``MAX_SHOWN`` characters (with an ellipsis)."""
    text = repr(value)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 2] + "…" + text[-1:]


def shown_key(key: Any) -> str:
    """An unknown key as a message names it: quoted and shortened."""
    return shown(str(key))


def kind_of(value: Any) -> str:
    """What ``value`` is, in words, for a message that does not repeat it."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, datetime | date | time):
        return "a date or time"
    if isinstance(value, str):
        return "text"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return "a value"


def shown_input(error: Mapping[str, Any]) -> str:
    """``" (got …)"`` for one of pydantic's ``errors()``, by the rule above ('' for a missing
    value, an unknown key, a list or a mapping)."""
    kind = error.get("type")
    if kind in ("missing", "extra_forbidden") or "input" not in error:
        return ""
    value = error["input"]
    if isinstance(value, Mapping | list | tuple):
        return ""
    if kind in SHOWABLE_ERRORS and isinstance(value, str | int | float | date | time):
        return f" (got {shown(value)})"
    return f" (got {kind_of(value)})"


def showable(error: Mapping[str, Any]) -> Any:
    """The error's input if the rule lets a message show it, else None (what a diagnostic
    object keeps for programs reading it)."""
    if error.get("type") in SHOWABLE_ERRORS:
        return error.get("input")
    return None


__all__ = [
    "MAX_SHOWN",
    "SHOWABLE_ERRORS",
    "kind_of",
    "shorten",
    "showable",
    "shown",
    "shown_input",
    "shown_key",
]
