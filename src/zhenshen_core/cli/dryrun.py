"""``zhenshen ingest --dry-run``: what the first records of a source would become, each case
field beside the source field it came from, with nothing stored (no store is even opened).

A channel that can trace its records (``IntakeReader.explain``, as the profile-mapped 12345
and xlsx channels do) shows source column → case field; any other shows the case fields its
record gives. The requester's phone number is masked on both sides, as everywhere.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from itertools import islice
from typing import Any

import click

from zhenshen_core.cli.exits import OK, PROBLEMS
from zhenshen_core.cli.output import Column, echo_json, print_table
from zhenshen_core.errors import CaseValidationError
from zhenshen_core.intake.window import ReceivedWindow
from zhenshen_core.model.identity import mask_phone
from zhenshen_core.plugins.host import PluginHost
from zhenshen_core.plugins.records import FieldTrace, IntakeReader, IntakeRecord

PHONE = "requester.phone"


def _shown(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # 13800001234.0, as a workbook keeps a number, is 13800001234
    if isinstance(value, list):
        return ", ".join(_shown(v) for v in value) if value else "-"
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def _masked(field: str, value: Any, names: Sequence[str] = ()) -> Any:
    """A value as the dry run shows it: personal fields masked by their kind, any other text
    by what the detector finds in it (with the record's requester looked for by name)."""
    from zhenshen_core.privacy import FIELD_KINDS, mask_document, mask_text, mask_value

    if value in (None, ""):
        return value
    if field == PHONE:
        return mask_phone(_shown(value))
    if field == "requester.name":
        return mask_value("name", _shown(value))
    kind = FIELD_KINDS.get(field.rsplit(".", 1)[-1])
    if kind is not None:
        return mask_value(kind, _shown(value))
    if isinstance(value, str):
        return mask_text(value, names=names)
    return mask_document(value, names=names)


def _names(traces: Sequence[FieldTrace]) -> list[str]:
    return [t.value for t in traces if t.field == "requester.name" and isinstance(t.value, str)]


def _flat(data: Any, prefix: str = "") -> list[FieldTrace]:
    """The fields of a draft that no channel traced, one per dotted path."""
    out: list[FieldTrace] = []
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            out += _flat(value, f"{path}.")
        else:  # the record's own field of the same name
            out.append(FieldTrace(path, value, path, value))
    return out


def _where(record: IntakeRecord, source: str) -> str:
    if record.location:
        return record.location
    return f"{source}:{record.line}" if record.line else source


def _one(
    host: PluginHost,
    channel: str,
    reader: IntakeReader,
    record: IntakeRecord,
    window: ReceivedWindow,
) -> tuple[str | None, str | None, list[FieldTrace]]:
    """(case id, reason it is rejected, the field traces) of one record: rejected for what
    ``ingest`` rejects it for (invalid, unstorable, received outside ``window``)."""
    from zhenshen_core.intake.deadletters import storable, unstorable_at
    from zhenshen_core.model.lifecycle import load_case

    traces: list[FieldTrace] = []
    if reader.explain is not None and record.error is None:
        traces = list(reader.explain(record))
    if record.error is not None or record.data is None:
        return None, record.error or "empty record", traces
    try:
        data = dict(host.normalise_intake(channel, record.data))
        unstorable = unstorable_at(data)
        if unstorable is not None:
            return None, storable(f"invalid case: {unstorable}"), []
        case = load_case(data)
    except CaseValidationError as exc:
        return None, storable(str(exc)), traces or _flat(record.data)
    except ValueError as exc:
        return None, f"rejected by normaliser: {exc}", traces or _flat(record.data)
    outside = window.problem(case.received_at)
    if outside is not None:
        return None, f"invalid case: received_at: {outside}", traces or _flat(data)
    return case.id, None, traces or _flat(data)


def show_dry_run(
    host: PluginHost,
    channel: str,
    source: str,
    reader: IntakeReader,
    limit: int,
    fmt: str,
    window: ReceivedWindow | None = None,
) -> int:
    """Show the first ``limit`` records; the exit code: 1 when any of them is rejected."""
    window = window or ReceivedWindow()
    shown: list[dict[str, Any]] = []
    rejected = 0
    for number, record in enumerate(islice(reader.read(source), limit), start=1):
        case_id, reason, traces = _one(host, channel, reader, record, window)
        rejected += reason is not None
        names = _names(traces)
        if reason is not None:
            from zhenshen_core.privacy import mask_text

            reason = mask_text(reason, names=names)
        where = _where(record, source)
        if fmt == "json":
            shown.append(
                {
                    "location": where,
                    "line": record.line,
                    "case_id": case_id,
                    "rejected": reason,
                    "fields": [
                        {
                            "field": t.field,
                            "value": _masked(t.field, t.value, names),
                            "source": t.source,
                            "source_value": _masked(t.field, t.source_value, names),
                            "problem": t.problem,
                        }
                        for t in traces
                    ],
                }
            )
            continue
        _print_record(number, where, case_id, reason, traces)
    if fmt == "json":
        echo_json(shown)
    else:
        click.echo(
            "dry run: nothing stored; "
            + (
                f"{rejected} of the records shown would be rejected"
                if rejected
                else "every record shown would be stored"
            ),
            err=True,
        )
    return PROBLEMS if rejected else OK


def _print_record(
    number: int, where: str, case_id: str | None, reason: str | None, traces: Sequence[FieldTrace]
) -> None:
    outcome = f"→ case {case_id}" if case_id else f"rejected: {reason}"
    click.echo(f"#{number} {where} {outcome}")
    if not traces:
        return
    rows = []
    names = _names(traces)
    for t in traces:
        value = f"✗ {t.problem}" if t.problem else _shown(_masked(t.field, t.value, names))
        rows.append(
            (
                t.source or "(profile)",
                _shown(_masked(t.field, t.source_value, names)) if t.source else "",
                t.field,
                value,
            )
        )
    print_table(
        (
            Column("source", words=True, min_width=8),
            Column("source value", min_width=12, drop=1),
            Column("case field", whole=True),
            Column("case value", min_width=12),
        ),
        rows,
    )
    click.echo("")
