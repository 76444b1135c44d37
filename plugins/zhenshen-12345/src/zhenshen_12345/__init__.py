"""12345 hotline work orders for zhenshen_core: the ``12345`` intake channel, mapping a
platform's own export (JSON, JSONL, CSV, XLSX) to cases with a profile."""

from zhenshen_12345.reader import (
    CASE_CHANNEL,
    CHANNEL,
    WorkOrderReader,
    configure,
    default_profile_path,
    format_of,
)

__all__ = [
    "CASE_CHANNEL",
    "CHANNEL",
    "WorkOrderReader",
    "configure",
    "default_profile_path",
    "format_of",
]
