"""A received-at instant outside a plausible window is refused with the reason, and a number
is never read as a Unix time (``13912345678``, a phone number, was stored as the year 2410)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from zhenshen_core import Desk, DeskSettings, MemoryStore
from zhenshen_core.cli.main import build_cli
from zhenshen_core.errors import CaseValidationError
from zhenshen_core.intake import ingest_source
from zhenshen_core.model.case import SHANGHAI
from zhenshen_core.model.lifecycle import load_case
from zhenshen_core.plugins import PluginConfig, PluginHost

ENV = {"ZHENSHEN_DISABLE_PLUGIN_AUTOLOAD": "1", "ZHENSHEN_STORE": None}


@pytest.fixture
def host() -> PluginHost:
    return PluginHost(PluginConfig(autoload=False))


def _jsonl(path: Path, *received: object) -> Path:
    lines = [
        json.dumps({"external_id": f"T{n}", "received_at": at, "title": "t"})
        for n, at in enumerate(received, start=1)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("number", ["13912345678", 13912345678, 1741000000, 1.7e9, "20260302"])
def test_a_number_is_not_read_as_a_unix_time(number: object) -> None:
    with pytest.raises(CaseValidationError, match="is a number, not a date-time"):
        load_case({"received_at": number})


def test_instants_outside_the_window_are_dead_letters_with_the_reason(
    tmp_path: Path, host: PluginHost
) -> None:
    ahead = (datetime.now(SHANGHAI) + timedelta(days=3)).isoformat()
    source = _jsonl(
        tmp_path / "in.jsonl",
        "2026-03-02T10:00:00+08:00",
        "2410-11-20T12:34:38+08:00",  # what 13912345678 seconds since 1970 is
        "1999-12-31T23:59:59+08:00",
        ahead,
        "13912345678",
    )
    store = MemoryStore()
    summary = ingest_source(str(source), channel="jsonl", store=store, host=host)
    assert (summary.created, [r.line for r in summary.rejected]) == (1, [2, 3, 4, 5])
    reasons = [r.reason for r in summary.rejected]
    assert "2410-11-20T12:34:38+08:00 is after" in reasons[0]
    assert "is before 2004-01-01T00:00:00+08:00" in reasons[1]
    assert "a day after now" in reasons[2]
    assert "is a number, not a date-time" in reasons[3]
    assert len(store.dead_letters()) == 4


def test_the_window_is_set_by_option_config_and_desk_settings(tmp_path: Path) -> None:
    source = _jsonl(tmp_path / "in.jsonl", "1995-06-01T09:00:00+08:00")
    cli = build_cli()
    run = CliRunner(env=ENV).invoke
    refused = run(cli, ["ingest", "jsonl", str(source), "--store", "memory://"])
    assert refused.exit_code == 1 and "is before 2004-01-01" in refused.stderr
    wide = ["--received-window", "1990-01-01.."]
    accepted = run(cli, ["ingest", "jsonl", str(source), "--store", "memory://", *wide])
    assert accepted.exit_code == 0, accepted.output
    config = tmp_path / "zhenshen.toml"
    config.write_text('received_window = "1990-01-01.."\n')
    by_config = ["--config", str(config), "ingest", "jsonl", str(source), "--store", "memory://"]
    assert run(cli, by_config).exit_code == 0
    config.write_text('received_window = "1990"\n')
    assert run(cli, by_config).exit_code == 2
    bad = run(cli, ["ingest", "jsonl", str(source), "--received-window", "soon.."])
    assert bad.exit_code == 2 and "--received-window" in bad.stderr

    from zhenshen_core import ReceivedWindow

    desk = Desk(MemoryStore())
    with pytest.raises(CaseValidationError, match="is before 2004-01-01"):
        desk.receive({"external_id": "A", "received_at": "1995-06-01T09:00:00+08:00"})
    archive_window = ReceivedWindow.parse("1990-01-01..")
    archive = Desk(MemoryStore(), settings=DeskSettings(received_window=archive_window))
    assert archive.receive({"external_id": "A", "received_at": "1995-06-01T09:00:00+08:00"}).id


def test_the_default_window_starts_where_the_calendar_can_count() -> None:
    """A received_at the window accepts starts clocks the national calendar can count: one in
    2000-2003 passed the window (then from 2000) and failed later in the deadline arithmetic,
    an unlocated error; now it is refused as received_at, located like a model error."""
    from zhenshen_core import ReceivedWindow
    from zhenshen_core.deadlines import CalendarPolicy, national_calendar

    earliest = ReceivedWindow().earliest
    for policy in (CalendarPolicy.STRICT, CalendarPolicy.PROVISIONAL):
        assert earliest.date() == national_calendar(policy).first_day
    with pytest.raises(CaseValidationError, match="is before 2004-01-01") as info:
        Desk(MemoryStore()).receive({"external_id": "A", "received_at": "2002-06-01T09:00"
                                     ":00+08:00"})
    assert [e["loc"] for e in info.value.errors] == [("received_at",)]


@given(
    start=st.dates(min_value=datetime(1950, 1, 1).date(), max_value=datetime(2100, 1, 1).date()),
    days=st.integers(0, 20_000),
    offset=st.integers(-3 * 86_400, 3 * 86_400),
)
def test_a_window_holds_exactly_its_instants(start: object, days: int, offset: int) -> None:
    from zhenshen_core import ReceivedWindow

    window = ReceivedWindow.parse(f"{start}..{start + timedelta(days=days)}")  # type: ignore[operator]
    assert window.latest is not None
    instant = window.earliest + timedelta(seconds=offset)
    assert (window.problem(instant) is None) == (window.earliest <= instant <= window.latest)
    instant = window.latest + timedelta(seconds=offset)
    assert (window.problem(instant) is None) == (window.earliest <= instant <= window.latest)


@pytest.mark.parametrize("text", ["2000", "..x", "2030-01-01..2000-01-01", "2000-13-01.."])
def test_a_window_written_wrong_is_refused(text: str) -> None:
    from zhenshen_core import ReceivedWindow
    from zhenshen_core.intake import WindowError

    with pytest.raises(WindowError):
        ReceivedWindow.parse(text)
