"""The supervision sweep: one alert per clock (the highest crossed), a summary, no duplicates."""

from __future__ import annotations

import json
import threading
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from zhenshen_core.cli.main import build_cli
from zhenshen_core.deadlines import national_calendar
from zhenshen_core.deadlines.clocks import start_clock
from zhenshen_core.desk import Desk, DeskSettings
from zhenshen_core.storage import SQLiteStore
from zhenshen_core.storage.protocol import CaseStore
from zhenshen_core.testing.storage_contract import BASE_TIME, fire, make_case, received

CAL = national_calendar()
# BASE_TIME is Fri 2024-03-01 09:00. At NOW (Wed 03-20 12:00) 12.5 working days have passed:
# contact (2 wd) is long overdue, task:T1 (15 wd) is past 75 %, opinion (24 wd) past 50 %.
NOW = datetime(2024, 3, 20, 12, 0, tzinfo=BASE_TIME.tzinfo)
PERIODS = {"contact": "2 working days", "task:T1": "15 working days", "opinion": "24 working days"}
EXPECTED = {"contact": "breach", "task:T1": "0.75", "opinion": "0.5"}


def fill(store: CaseStore, n: int) -> list[str]:
    """``n`` cases, each with the three clocks above, started at BASE_TIME; their ids."""
    items = []
    for i in range(n):
        case, events = received(make_case(i))
        for name, period in PERIODS.items():
            clock = start_clock(CAL, name, period, BASE_TIME)
            case, event = fire(case, "clock_update", {"clock": clock.model_dump(mode="json")})
            events.append(event)
        items.append((case, events))
    return [r.case_id for r in store.ingest_many(items)]


def test_a_long_overdue_clock_gets_one_notice_and_its_reminders_are_marked_done(
    tmp_path: Path,
) -> None:
    store = SQLiteStore(str(tmp_path / "desk.db"))
    ids = fill(store, 3)
    desk = Desk(store)
    result = desk.sweep(NOW)
    assert result.clocks == 9 and not result.limit_reached and not result.conflicts
    assert sorted((a.clock, a.kind) for a in result.alerts) == sorted(list(EXPECTED.items()) * 3)
    assert result.counts() == {"contact": {"breach": 3}, "task": {"0.75": 3}, "opinion": {"0.5": 3}}
    for case_id in ids:
        stored = desk.get(case_id)
        assert sorted(s.clock for s in stored.supervision) == sorted(PERIODS)
        assert [s.kind for s in stored.supervision if s.clock == "contact"] == ["notice"]
        assert stored.clocks["contact"].notified == ["0.5", "0.75", "breach"]
        assert stored.clocks["contact"].next_alert_at is None
        assert stored.clocks["task:T1"].notified == ["0.5", "0.75"]
    again = desk.sweep(NOW)
    assert again.alerts == [] and again.clocks == 0
    # later, the task and the opinion clock move on by one alert each
    later = desk.sweep(NOW + timedelta(days=20))
    assert Counter((a.clock, a.kind) for a in later.alerts) == {
        ("task:T1", "breach"): 3,
        ("opinion", "breach"): 3,
    }


def test_limit_reached_is_reported(tmp_path: Path) -> None:
    store = SQLiteStore(str(tmp_path / "desk.db"))
    fill(store, 2)
    result = Desk(store).sweep(NOW, limit=4)
    assert result.clocks == 4 and result.limit_reached


def test_two_desks_sweeping_one_sqlite_file_never_alert_twice(tmp_path: Path) -> None:
    path = str(tmp_path / "desk.db")
    seed = SQLiteStore(path)
    fill(seed, 30)
    seed.close()
    barrier = threading.Barrier(2)
    alerts: list[tuple[str, str, str]] = []
    errors: list[BaseException] = []

    def node(name: str) -> None:
        try:
            store = SQLiteStore(path)
            desk = Desk(store, settings=DeskSettings(node=name))
            barrier.wait()
            while True:
                result = desk.sweep(NOW, limit=7)
                alerts.extend((a.case_id, a.clock, a.kind) for a in result.alerts)
                if result.clocks == 0:
                    break
            store.close()
        except BaseException as exc:  # reported below: a thread's failure must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=node, args=(f"node-{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(alerts) == len(set(alerts)) == 90
    assert Counter(kind for _, clock, kind in alerts if clock == "contact") == {"breach": 30}


@pytest.fixture
def swept_store(tmp_path: Path) -> str:
    store = SQLiteStore(str(tmp_path / "desk.db"))
    fill(store, 40)
    store.close()
    return f"sqlite:///{tmp_path / 'desk.db'}"


def _sweep(monkeypatch: pytest.MonkeyPatch, *args: str) -> str:
    monkeypatch.setenv("ZHENSHEN_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv("COLUMNS", "100")
    result = CliRunner().invoke(build_cli(), ["sweep", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_cli_prints_a_summary_and_details_only_with_v(
    monkeypatch: pytest.MonkeyPatch, swept_store: str
) -> None:
    base = ["--store", swept_store, "--now", "2024-03-20T12:00"]
    text = _sweep(monkeypatch, *base)
    lines = text.splitlines()
    assert len(lines) <= 6, text
    assert lines[0].startswith("swept 120 due clock(s) at 2024-03-20 12:00: 120 alert(s)")
    assert "80 催办 reminder(s), 40 督办 notice(s)" in lines[0]
    table = {line.split()[0]: line.split()[1:] for line in lines[1:]}
    assert table["clock"] == ["50%", "75%", "breach", "total"]
    assert table["contact"] == ["0", "0", "40", "40"]
    assert table["task"] == ["0", "40", "0", "40"]
    assert table["total"] == ["40", "40", "40", "120"]


def test_cli_verbose_lists_each_alert_once(
    monkeypatch: pytest.MonkeyPatch, swept_store: str
) -> None:
    text = _sweep(monkeypatch, "--store", swept_store, "--now", "2024-03-20T12:00", "-v")
    detail = [line for line in text.splitlines() if " due 2024-" in line]
    assert len(detail) == 120
    assert sum("breach" in line for line in detail) == 40


def test_cli_json_has_the_alerts_and_the_counts(
    monkeypatch: pytest.MonkeyPatch, swept_store: str
) -> None:
    out = _sweep(
        monkeypatch, "--store", swept_store, "--now", "2024-03-20T12:00", "--format", "json"
    )
    data = json.loads(out)
    assert len(data["alerts"]) == 120 and data["clocks"] == 120
    assert data["counts"] == {
        "contact": {"breach": 40},
        "task": {"0.75": 40},
        "opinion": {"0.5": 40},
    }
    assert data["limit_reached"] is False and data["conflicts"] == []
    empty = json.loads(
        _sweep(monkeypatch, "--store", swept_store, "--now", "2024-03-20T12:00", "--format", "json")
    )
    assert empty["alerts"] == [] and empty["counts"] == {}
