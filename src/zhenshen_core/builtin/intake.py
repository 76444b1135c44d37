"""Internal plugin registering the built-in intake channels ``json``, ``jsonl`` and ``csv``.

The readers live in :mod:`zhenshen_core.intake.readers`; ``trylast`` like every built-in, so a
plugin's implementations are consulted first (``-p no:intake`` blocks this one).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from zhenshen_core.intake.readers import (
    count_jsonl,
    count_records,
    json_record,
    read_csv,
    read_json,
    read_jsonl,
)
from zhenshen_core.plugins.hookspecs import hookimpl
from zhenshen_core.plugins.records import IntakeChannel

__all__ = ["zhenshen_intake_channels", "zhenshen_normalise_intake"]


@hookimpl(trylast=True)
def zhenshen_intake_channels() -> list[IntakeChannel]:
    return [
        IntakeChannel(
            "json",
            "a JSON case object or an array of them",
            read_json,
            count_records(read_json),
            from_raw=json_record,
        ),
        IntakeChannel(
            "jsonl", "one JSON case object per line", read_jsonl, count_jsonl, from_raw=json_record
        ),
        IntakeChannel(
            "csv",
            "CSV with a header of case field names (dotted for nested)",
            read_csv,
            count_records(read_csv),
        ),
    ]


@hookimpl(trylast=True)
def zhenshen_normalise_intake(channel: str, data: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """Pass-through: the built-in channels already speak the model's field names."""
    return data
