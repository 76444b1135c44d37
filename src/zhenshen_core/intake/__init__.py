"""Intake: a channel's records become stored cases, and bad ones dead letters, never lost.

``pipeline`` validates and stores records in batches (``ingest_source``, ``ingest_records``);
``readers`` holds the built-in ``json``, ``jsonl`` and ``csv`` channel readers (registered by
the internal plugin ``zhenshen_core.builtin.intake``; ``jsonstream`` streams JSON arrays);
``deadletters`` says what becomes a dead letter and how; ``window`` when a work order can
have been received. Names are imported on first use: every plugin host registers the
built-in readers, and most commands never run the pipeline.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from zhenshen_core._lazy import lazy_attributes, public_names

if TYPE_CHECKING:
    from zhenshen_core.intake.deadletters import Rejected as Rejected
    from zhenshen_core.intake.deadletters import guarded_read as guarded_read
    from zhenshen_core.intake.pipeline import BATCH_SIZE as BATCH_SIZE
    from zhenshen_core.intake.pipeline import IntakePipeline as IntakePipeline
    from zhenshen_core.intake.pipeline import IntakeSummary as IntakeSummary
    from zhenshen_core.intake.pipeline import count_source as count_source
    from zhenshen_core.intake.pipeline import draft_case as draft_case
    from zhenshen_core.intake.pipeline import ingest_records as ingest_records
    from zhenshen_core.intake.pipeline import ingest_source as ingest_source
    from zhenshen_core.intake.readers import count_jsonl as count_jsonl
    from zhenshen_core.intake.readers import count_records as count_records
    from zhenshen_core.intake.readers import csv_row_to_mapping as csv_row_to_mapping
    from zhenshen_core.intake.readers import json_record as json_record
    from zhenshen_core.intake.readers import read_csv as read_csv
    from zhenshen_core.intake.readers import read_json as read_json
    from zhenshen_core.intake.readers import read_jsonl as read_jsonl
    from zhenshen_core.intake.readers import swallowed_record as swallowed_record
    from zhenshen_core.intake.window import ReceivedWindow as ReceivedWindow
    from zhenshen_core.intake.window import WindowError as WindowError

_API = public_names(
    {
        "zhenshen_core.intake.deadletters": ("Rejected", "guarded_read"),
        "zhenshen_core.intake.pipeline": (
            "BATCH_SIZE",
            "IntakePipeline",
            "IntakeSummary",
            "count_source",
            "draft_case",
            "ingest_records",
            "ingest_source",
        ),
        "zhenshen_core.intake.readers": (
            "count_jsonl",
            "count_records",
            "csv_row_to_mapping",
            "json_record",
            "read_csv",
            "read_json",
            "read_jsonl",
            "swallowed_record",
        ),
        "zhenshen_core.intake.window": ("ReceivedWindow", "WindowError"),
    }
)
"""Every public name and the module that defines it (the one list; see ``zhenshen_core._lazy``)."""

__getattr__ = lazy_attributes(__name__, _API)

__all__ = sorted(_API)
