from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zhenshen_core.deadlines import SHANGHAI, national_calendar
from zhenshen_core.deadlines.clocks import (
    ClockStateError,
    acknowledge_alerts,
    clock_status,
    extend_clock,
    pause_clock,
    recompute_next_alert,
    resume_clock,
    start_clock,
    stop_clock,
)

CAL = national_calendar()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def test_start_sets_due_and_first_alert() -> None:
    c = start_clock(CAL, "opinion", "2wd", at("2026-02-13T10:00"))
    assert c.period == "2 working days"
    assert c.due_at == at("2026-02-25T00:00")
    assert c.calendar_version == CAL.version
    # half of two working days is used at the end of the first one (the make-up Saturday)
    assert c.next_alert_at == at("2026-02-15T00:00")


def test_fraction_is_working_time() -> None:
    c = start_clock(CAL, "opinion", "2wd", at("2026-02-13T10:00"))
    # the whole Spring Festival rest passes without using the clock
    s = clock_status(CAL, c, at("2026-02-20T12:00"))
    assert s.elapsed_fraction == pytest.approx(0.5)
    assert s.thresholds_crossed == (0.5,)
    assert not s.breached
    assert clock_status(CAL, c, at("2026-02-25T00:00:01")).breached


def test_pause_resume_moves_due_and_freezes_fraction() -> None:
    c = start_clock(CAL, "opinion", "5wd", at("2024-03-04T10:00"))
    assert c.due_at == at("2024-03-12T00:00")
    c = pause_clock(CAL, c, at("2024-03-05T09:00"), reason="expert review")
    assert c.next_alert_at is None and c.paused
    frozen = clock_status(CAL, c, at("2024-03-20T00:00"))
    assert frozen.paused and not frozen.breached
    c = resume_clock(CAL, c, at("2024-03-07T15:00"))
    # 03-06 and 03-07 are excluded: two working days later
    assert c.due_at == at("2024-03-14T00:00")
    with pytest.raises(ClockStateError):
        resume_clock(CAL, c, at("2024-03-08T00:00"))


def test_extension_requires_approver_and_counts_from_original_end() -> None:
    c = start_clock(CAL, "resolve", "20 working days", at("2026-09-14T09:00"))
    with pytest.raises(ClockStateError):
        extend_clock(CAL, c, "10wd", approver=" ", reason="complex", at=at("2026-10-01T09:00"))
    c = extend_clock(
        CAL, c, "10wd", approver="director", reason="complex", at=at("2026-10-01T09:00")
    )
    assert c.due_at == at("2026-10-31T00:00")
    assert c.extensions[0].approver == "director"


def test_hour_clocks_use_wall_and_office_time() -> None:
    c = start_clock(CAL, "hotline", "24h", at("2026-02-16T10:00"))
    assert c.due_at == at("2026-02-17T10:00")
    c = pause_clock(CAL, c, at("2026-02-16T12:00"))
    c = resume_clock(CAL, c, at("2026-02-16T15:00"))
    assert c.due_at == at("2026-02-17T13:00")
    w = start_clock(CAL, "callback", "8wh", at("2026-02-13T15:00"))
    assert w.due_at == at("2026-02-14T16:00")
    assert clock_status(CAL, w, at("2026-02-14T11:00")).elapsed_fraction == pytest.approx(0.5)


def test_sweep_alerts_once_each_then_breach_then_nothing() -> None:
    c = start_clock(CAL, "opinion", "2wd", at("2024-03-04T10:00"))
    seen: list[str] = []
    now = at("2024-03-04T10:00")
    while c.next_alert_at is not None:
        now = max(now, c.next_alert_at) + timedelta(seconds=1)
        c, new = acknowledge_alerts(CAL, c, now)
        seen += new
    assert seen == ["0.5", "0.75", "breach"]
    assert now > c.due_at


def test_a_sweep_long_after_raises_only_the_highest_alert() -> None:
    c = start_clock(CAL, "opinion", "2wd", at("2024-03-04T10:00"))
    c, new = acknowledge_alerts(CAL, c, at("2024-04-01T10:00"))
    assert new == ["breach"]
    assert c.notified == ["0.5", "0.75", "breach"] and c.next_alert_at is None
    # past 75 % but not due: one reminder, the 50 % one is marked done with it
    c = start_clock(CAL, "opinion", "4wd", at("2024-03-04T00:00"))
    c, new = acknowledge_alerts(CAL, c, at("2024-03-08T12:00"))  # 3.5 of 4 working days
    assert new == ["0.75"] and c.notified == ["0.5", "0.75"]
    assert c.next_alert_at == c.due_at
    assert acknowledge_alerts(CAL, c, at("2024-03-08T13:00"))[1] == []


def test_stop_clears_next_alert() -> None:
    c = start_clock(CAL, "opinion", "2wd", at("2024-03-04T10:00"))
    c = stop_clock(CAL, c, at("2024-03-05T10:00"))
    assert c.next_alert_at is None
    assert recompute_next_alert(CAL, c).next_alert_at is None
    s = clock_status(CAL, c, at("2024-04-01T00:00"))
    assert s.stopped and not s.breached
    with pytest.raises(ClockStateError):
        pause_clock(CAL, c, at("2024-03-06T10:00"))


@given(
    start=st.datetimes(min_value=datetime(2015, 1, 1), max_value=datetime(2025, 6, 30)),
    amount=st.integers(min_value=1, max_value=60),
    unit=st.sampled_from(["working days", "days", "months"]),
    fraction=st.sampled_from([0.1, 0.25, 0.5, 0.75, 0.9, 1 / 3]),
)
def test_closed_form_threshold_instant_equals_bisection(
    start: datetime, amount: int, unit: str, fraction: float
) -> None:
    """The threshold instant worked out from the calendar is the bisection's, to the second."""
    from zhenshen_core.deadlines.clocks import (
        _instant_for_fraction,
        _measure_fn,
        _nth_counted_day,
    )

    amount = min(amount, 12) if unit == "months" else amount
    clock = start_clock(CAL, "c", f"{amount} {unit}", start.replace(tzinfo=SHANGHAI))
    measure = _measure_fn(CAL, clock)
    begin, due = clock.started_at, clock.due_at
    nth = _nth_counted_day(CAL, clock)
    assert nth is not None
    fast = _instant_for_fraction(measure, begin, due, fraction, nth)
    assert fast == _instant_for_fraction(measure, begin, due, fraction)
