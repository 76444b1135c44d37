"""The worked examples of issue 4, through the Python API and the CLI."""

from __future__ import annotations

import json
from datetime import date, datetime

import click
import pytest
from click.testing import CliRunner

from zhenshen_core.cli.deadline import register
from zhenshen_core.deadlines import compute_due, national_calendar

EXAMPLES = [
    # start, period, extensions, office hours, due, due_at
    ("2026-02-13", "2 working days", [], None, "2026-02-24", "2026-02-25T00:00:00+08:00"),
    ("2025-10-03", "2 working days", [], None, "2025-10-10", "2025-10-11T00:00:00+08:00"),
    ("2020-01-22", "5 working days", [], None, "2020-02-06", "2020-02-07T00:00:00+08:00"),
    ("2024-09-20", "15 days", [], None, "2024-10-08", "2024-10-09T00:00:00+08:00"),
    ("2025-01-31", "1 month", [], None, "2025-02-28", "2025-03-01T00:00:00+08:00"),
    (
        "2026-09-14",
        "20 working days",
        ["10 working days"],
        None,
        "2026-10-30",
        "2026-10-31T00:00:00+08:00",
    ),
    ("2026-02-16T10:00", "24 hours", [], None, "2026-02-17", "2026-02-17T10:00:00+08:00"),
    (
        "2026-02-13T15:00",
        "8 working hours",
        [],
        "09:00-12:00,13:00-17:00",
        "2026-02-14",
        "2026-02-14T16:00:00+08:00",
    ),
]


def _start(text: str) -> date | datetime:
    return datetime.fromisoformat(text) if "T" in text else date.fromisoformat(text)


@pytest.mark.parametrize(("start", "period", "ext", "office", "due", "due_at"), EXAMPLES)
def test_example_api(
    start: str, period: str, ext: list[str], office: str | None, due: str, due_at: str
) -> None:
    r = compute_due(national_calendar(), _start(start), period, extensions=ext, office_hours=office)
    assert r.due.isoformat() == due
    assert r.due_at.isoformat() == due_at
    assert r.provisional is False


@pytest.fixture
def cli() -> click.Group:
    group = click.Group("zhenshen")
    register(group)
    return group


@pytest.mark.parametrize(("start", "period", "ext", "office", "due", "due_at"), EXAMPLES)
def test_example_cli(
    cli: click.Group,
    start: str,
    period: str,
    ext: list[str],
    office: str | None,
    due: str,
    due_at: str,
) -> None:
    args = ["deadline", start, period, "--format", "json"]
    for e in ext:
        args += ["--extend", e]
    if office:
        args += ["--office-hours", office]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["due"] == due
    assert data["due_at"] == due_at
    assert data["period"] == period
    assert data["provisional"] is False
    assert data["calendar"]["name"] == "cn"
    assert data["calendar"]["known_until"] == "2026-12-31"
    assert len(data["calendar"]["version"]) == 64


def test_day_period_with_office_hours_ends_at_close_of_business() -> None:
    r = compute_due(
        national_calendar(), date(2024, 9, 20), "15 days", office_hours="09:00-12:00,13:00-17:00"
    )
    assert r.due_at.isoformat() == "2024-10-08T17:00:00+08:00"
