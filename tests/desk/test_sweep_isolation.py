"""Issue 15 item 1: one case never stops the sweep.

On the old code a case rejected through ``zhenshen cases transition`` kept its clocks running;
every later sweep failed on it (``event 'clock_update' is not allowed in state
'not_accepted'``) and no alert was saved for any case.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from zhenshen_core.cli.main import build_cli
from zhenshen_core.desk import Desk
from zhenshen_core.model import CaseStatus, Lifecycle
from zhenshen_core.model.lifecycle import TERMINAL
from zhenshen_core.storage import MemoryStore, SQLiteStore
from zhenshen_core.storage.outbox import INCIDENT_BACKOFF
from zhenshen_core.storage.protocol import CaseStore

from .test_sweep import NOW, PERIODS, fill


def _cli(monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str, str]:
    monkeypatch.setenv("ZHENSHEN_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv("COLUMNS", "120")
    result = CliRunner().invoke(build_cli(), list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("event", "payload"),
    [("reject", {"reason": "涉诉"}), ("withdraw", {}), ("merge", {"into": "X-1"})],
)
def test_a_terminal_state_stops_every_clock_whatever_fires_it(
    event: str, payload: dict[str, str]
) -> None:
    store = MemoryStore()
    (case_id,) = fill(store, 1)
    case = store.get(case_id)
    at = NOW - timedelta(days=3)
    after, record = Lifecycle().fire(case, event, actor="someone", at=at, payload=payload)
    assert after.status in TERMINAL
    assert all(c.stopped_at is not None and c.next_alert_at is None for c in after.clocks.values())
    assert {c.stopped_at for c in after.clocks.values()} == {at}
    store.save(after, [record], expected_version=case.version)
    assert store.due_clocks(NOW) == []
    assert Lifecycle().replay(store.events(case_id)) == store.get(case_id)


def test_a_rejected_case_through_the_cli_no_longer_stops_the_sweep(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SQLiteStore(tmp_path / "desk.db")
    ids = fill(store, 3)
    store.close()
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    code, out, err = _cli(
        monkeypatch, "cases", "transition", ids[0], "reject", "--data", '{"reason":"x"}',
        "--store", url,
    )  # fmt: skip
    assert code == 0, err
    code, out, err = _cli(monkeypatch, "sweep", "--store", url, "--now", NOW.isoformat())
    assert code == 0, out + err
    assert out.startswith("swept 6 due clock(s)"), out
    assert "6 alert(s)" in out and "0 incident(s)" in out


class Exploding:
    """A store whose ``get`` of one case fails (a document a bug wrote, a case in a state no
    alert fits): the rest of the store is real."""

    def __init__(self, store: CaseStore, bad: str) -> None:
        self._store, self.bad, self.failing = store, bad, True

    def get(self, case_id: str):  # type: ignore[no-untyped-def]
        if case_id == self.bad and self.failing:
            raise ValueError("stored case no longer validates: tier 'S9'")
        return self._store.get(case_id)

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self._store, name)


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_a_failing_case_is_an_incident_retried_with_backoff_and_resolved(
    tmp_path: Path, kind: str
) -> None:
    real: CaseStore = MemoryStore() if kind == "memory" else SQLiteStore(tmp_path / "d.db")
    ids = fill(real, 4)
    store = Exploding(real, ids[1])
    desk = Desk(store)  # type: ignore[arg-type]
    result = desk.sweep(NOW)
    assert len(result.alerts) == 9, "the other cases' alerts are saved"
    assert sorted(i.clock for i in result.incidents) == sorted(PERIODS)
    first = result.incidents[0]
    assert first.case_id == ids[1] and first.attempts == 1
    assert first.reason == "ValueError: stored case no longer validates: tier 'S9'"
    assert first.next_retry_at == NOW + INCIDENT_BACKOFF[0]
    assert len(real.incidents()) == 3
    # held back until the retry time: the next sweep does not touch it
    again = desk.sweep(NOW + timedelta(seconds=30))
    assert again.clocks == 0 and again.incidents == [] and again.held == 3
    # at the retry time it fails again: attempts 2, the wait doubles
    later = NOW + INCIDENT_BACKOFF[0]
    retried = desk.sweep(later)
    assert [i.attempts for i in retried.incidents] == [2, 2, 2]
    assert retried.incidents[0].next_retry_at == later + 2 * INCIDENT_BACKOFF[0]
    assert retried.incidents[0].first_at == NOW
    # the case is fixed: the next sweep alerts on it and resolves the incidents
    store.failing = False
    fixed = desk.sweep(later + timedelta(hours=1))
    assert len(fixed.alerts) == 3 and not fixed.incidents and len(fixed.resolved) == 3
    assert real.incidents() == []
    assert all(i.resolved_at is not None for i in real.incidents(open_only=False))
    assert desk.get(ids[1]).status is CaseStatus.RECEIVED


def test_the_cli_reports_incidents_in_text_and_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "desk.db"
    store = SQLiteStore(path)
    ids = fill(store, 2)
    # A case finished by an older version, its clocks left running: the sweep cannot alert
    # on it (no event fits a finished case), so it is an incident, not a stopped sweep.
    case = store.get(ids[0])
    data = json.loads(case.model_dump_json(context={"unmasked": True}))
    store._conn.execute(  # what the old `cases transition ... reject` left behind
        "UPDATE cases SET status = 'not_accepted', doc = json_set(doc, '$.status', "
        "'not_accepted') WHERE id = ?",
        (ids[0],),
    )
    assert data["status"] == "received"
    store.close()
    url = f"sqlite:///{path}"
    code, out, err = _cli(monkeypatch, "sweep", "--store", url, "--now", NOW.isoformat())
    assert code == 0, out + err
    assert "3 alert(s)" in out and "3 incident(s)" in out
    assert f"incident {ids[0]} contact (attempt 1" in out
    assert "IllegalTransitionError: event 'clock_update' is not allowed in state" in out
    code, out, _ = _cli(
        monkeypatch, "sweep", "--store", url, "--now", NOW.isoformat(), "--format", "json"
    )
    data = json.loads(out)
    assert data["incidents"] == [] and data["held"] == 3
    code, out, _ = _cli(
        monkeypatch, "report", "--store", url, "--as-of", NOW.isoformat(), "--format", "json"
    )
    assert code == 0, out
    assert json.loads(out)["sweep_incidents"] == 3
