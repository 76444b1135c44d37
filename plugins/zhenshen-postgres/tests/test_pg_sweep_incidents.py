"""Issue 15 items 1 and 3 on PostgreSQL: a failing case is an incident whose claim is released,
and a sweeper killed with SIGKILL loses no notice.

On the old code, with 4 sweepers, a case whose clock could not be alerted made every sweep fail
and its claimed clocks (602 in the report) stayed blocked until their leases expired.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sweepkit import delivered_keys, kill_when_delivered, sweep_process
from zhenshen_pg_testkit import ENV, SKIP_REASON
from zhenshen_postgres import PostgresStore

from zhenshen_core.deadlines import national_calendar
from zhenshen_core.deadlines.clocks import start_clock
from zhenshen_core.desk import Desk, DeskSettings
from zhenshen_core.desk.outbox import DELIVERY_BATCH
from zhenshen_core.storage.outbox import INCIDENT_BACKOFF
from zhenshen_core.testing.storage_contract import BASE_TIME, fire, make_case, received

if not os.environ.get(ENV):
    pytest.skip(SKIP_REASON, allow_module_level=True)

CAL = national_calendar()
NOW = BASE_TIME + timedelta(days=19, hours=3)  # every clock below is past its 50 % or breached
PERIODS = {"contact": "2 working days", "opinion": "24 working days"}


def _fill(store: PostgresStore, n: int) -> list[str]:
    items = []
    for i in range(n):
        case, events = received(make_case(i))
        for name, period in PERIODS.items():
            clock = start_clock(CAL, name, period, BASE_TIME)
            case, event = fire(case, "clock_update", {"clock": clock.model_dump(mode="json")})
            events.append(event)
        items.append((case, events))
    return [r.case_id for r in store.ingest_many(items)]


class Failing:
    """The real store, except that reading one case fails (a case no alert fits)."""

    def __init__(self, store: PostgresStore, bad: str) -> None:
        self._store, self.bad = store, bad

    def get(self, case_id: str) -> Any:
        if case_id == self.bad:
            raise ValueError("stored case no longer validates")
        return self._store.get(case_id)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def test_an_incident_releases_its_claim_and_the_other_cases_are_swept(schema_url: str) -> None:
    with PostgresStore(schema_url) as store:
        ids = _fill(store, 6)
        desk = Desk(Failing(store, ids[2]), settings=DeskSettings(node="n1"))  # type: ignore[arg-type]
        result = desk.sweep(NOW)
        assert len(result.alerts) == 10 and len(result.incidents) == 2
        assert {i.case_id for i in store.incidents()} == {ids[2]}
        rows = store._all(
            "SELECT name, claimed_by FROM clocks WHERE case_id = %s ORDER BY name", (ids[2],), ""
        )
        assert rows == [("contact", None), ("opinion", None)], "the claims were released"
        # another node, at the retry time, claims the clocks at once (no 5-minute lease left)
        retry = NOW + INCIDENT_BACKOFF[0]
        assert store.claim_due_clocks(NOW + timedelta(seconds=1), node="n2") == []
        again = store.claim_due_clocks(retry, node="n2")
        claimed = sorted((d.case_id, d.clock) for d in again)
        assert claimed == [(ids[2], "contact"), (ids[2], "opinion")]


def _alert_keys(store: PostgresStore) -> set[str]:
    """The key of every alert saved: one per stored ``supervise`` event."""
    return {
        f"{e.case_id}:{e.seq}:clock_alert:file"
        for case in store.query()
        for e in store.events(case.id)
        if e.type == "supervise"
    }


@pytest.mark.slow
def test_killed_sweepers_on_postgres_leave_every_alert_with_its_notice(
    schema_url: str, tmp_path: Path
) -> None:
    with PostgresStore(schema_url) as store:
        _fill(store, 250)
    notices = tmp_path / "notices.jsonl"
    kills = 0
    for target in (40, 200):
        child = sweep_process(schema_url, notices, NOW, autoload=True)
        kills += kill_when_delivered(child, notices, target, wait=90)
    assert kills >= 1
    with PostgresStore(schema_url) as store:
        alerts = _alert_keys(store)
        assert alerts <= {n.key for n in store.outbox_notices()}, "an alert lost its notice"
    # after the killed nodes' leases (5 minutes) have run out
    final = sweep_process(schema_url, notices, NOW + timedelta(minutes=6), autoload=True)
    out, err = final.communicate(timeout=180)
    assert final.returncode == 0, (out + err).decode()
    with PostgresStore(schema_url) as store:
        alerts = _alert_keys(store)
        assert {n.status for n in store.outbox_notices()} == {"delivered"}
    assert len(alerts) == 500
    delivered = delivered_keys(notices)
    assert set(delivered) == alerts
    assert len(delivered) - len(set(delivered)) <= kills * DELIVERY_BATCH


class Contended:
    """The real store, except that every save of one case loses a race (someone else wrote)."""

    def __init__(self, store: PostgresStore, busy: str) -> None:
        self._store, self.busy = store, busy

    def save(self, case: Any, events: Any, **kw: Any) -> None:
        if case.id == self.busy:
            from zhenshen_core.errors import ConcurrencyError

            raise ConcurrencyError(case.id, kw["expected_version"], kw["expected_version"] + 1)
        self._store.save(case, events, **kw)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def test_a_sweep_gives_back_the_claims_of_a_case_that_kept_changing(schema_url: str) -> None:
    with PostgresStore(schema_url) as store:
        ids = _fill(store, 3)
        desk = Desk(Contended(store, ids[0]), settings=DeskSettings(node="n1"))  # type: ignore[arg-type]
        result = desk.sweep(NOW)
        assert result.conflicts == [ids[0], ids[0]] and len(result.alerts) == 4
        assert not result.incidents, "a conflict is not an incident: the next sweep retries"
        claimed = store._all("SELECT claimed_by FROM clocks WHERE case_id = %s", (ids[0],), "")
        assert claimed == [(None,), (None,)], "another node may take them at once"
        assert len(store.claim_due_clocks(NOW, node="n2")) == 2


def test_a_case_finished_by_an_older_version_is_folded_again(schema_url: str) -> None:
    from zhenshen_core.model import CaseStatus, Lifecycle

    with PostgresStore(schema_url) as store:
        ids = _fill(store, 2)
        case = store.get(ids[0])
        after, record = Lifecycle().fire(
            case, "reject", actor="cli", at=NOW - timedelta(days=5), payload={"reason": "x"}
        )
        # what the old `cases transition ID reject` stored: the clocks left running
        store.save(after.model_copy(update={"clocks": case.clocks}), [record], expected_version=3)
        result = Desk(store).sweep(NOW)
        assert len(result.alerts) == 2 and not result.incidents
        repaired = store.get(ids[0])
        assert repaired.status is CaseStatus.NOT_ACCEPTED and repaired.version == 4
        assert not any(c.running for c in repaired.clocks.values())
        assert Lifecycle().replay(store.events(ids[0])) == repaired
        assert all(d.case_id != ids[0] for d in store.due_clocks(NOW + timedelta(days=90)))
