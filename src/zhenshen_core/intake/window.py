"""When a work order can have been received: the window intake accepts ``received_at`` in.

A received-at instant far in the past or the future is a broken record, not a case: a phone
number in the time column (``13912345678`` read as seconds since 1970 is the year 2410), a
two-digit year, a date typed in the wrong order. Such a case would start deadline clocks that
never come due, or come due before the desk ever saw it. So intake refuses a ``received_at``
outside the window, with the reason, as that record's dead letter.

The window is from :data:`EARLIEST` (2004-01-01, before any 12345 platform and the first day of
the national working-day calendar, so every deadline a received case starts can be counted) to
a day after now (clocks of two systems disagree, and a work order may be dated in the
sender's evening); a desk that loads older archives sets its own, in ``zhenshen.toml``
(``received_window``), its ``DeskSettings`` or ``zhenshen ingest --received-window``,
written ``FROM..TO`` (ISO dates or date-times, either side left empty for the default).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from zhenshen_core.model.case import SHANGHAI, ensure_aware

EARLIEST = datetime(2004, 1, 1, tzinfo=SHANGHAI)
"""The default start of the window: no work order a desk holds was received before it, and it
is the first day of the national calendar's data (``national_calendar().first_day``), so a
case received in the window never starts a clock the calendar cannot count (a received_at in
2000-2003 used to pass the window and then fail in the deadline arithmetic, unlocated)."""
AHEAD = timedelta(days=1)
"""How far past now a received-at instant may be, by default."""


class WindowError(ValueError):
    """A window written in a way it cannot be read (``FROM..TO``)."""


@dataclass(frozen=True)
class ReceivedWindow:
    """The instants a ``received_at`` may be: ``earliest`` up to ``latest`` (both included),
    or up to ``ahead`` after now when ``latest`` is None."""

    earliest: datetime = EARLIEST
    latest: datetime | None = None
    ahead: timedelta = AHEAD

    def problem(self, instant: datetime, now: datetime | None = None) -> str | None:
        """Why ``instant`` is outside the window, or None. ``now`` is the wall clock unless
        given: a desk replaying a simulated year (or a test's frozen clock) still receives
        what was real when it arrived."""
        instant = ensure_aware(instant)
        if self.latest is not None:
            latest = self.latest
        else:
            latest = ensure_aware(now or datetime.now(SHANGHAI)) + self.ahead
        if self.earliest <= instant <= latest:
            return None
        side = "before" if instant < self.earliest else "after"
        bound = self.earliest if side == "before" else latest
        return (
            f"{instant.isoformat()} is {side} {bound.isoformat()}, outside the instants a work "
            f"order can have been received in ({self.describe()}); a number read as a time, a "
            "wrong year or swapped day and month? (an archive of older work orders: set "
            "received_window in zhenshen.toml or --received-window)"
        )

    def at(self, now: datetime) -> ReceivedWindow:
        """This window with "a day after now" fixed to ``now``: what a desk whose own clock
        runs ahead of the wall clock (a simulation of a later year) accepts."""
        if self.latest is not None:
            return self
        return ReceivedWindow(self.earliest, ensure_aware(now) + self.ahead, self.ahead)

    def describe(self) -> str:
        upper = self.latest.isoformat() if self.latest is not None else _ahead(self.ahead)
        return f"{self.earliest.isoformat()} .. {upper}"

    @classmethod
    def parse(cls, text: str) -> ReceivedWindow:
        """``FROM..TO``: ISO dates (``2000-01-01``, a date's start for FROM, its end for TO) or
        date-times (Asia/Shanghai unless they give an offset); an empty side keeps the
        default. :class:`WindowError` for anything else."""
        start, dots, end = text.partition("..")
        if not dots:
            raise WindowError(
                f"{text!r}: write the window as FROM..TO (e.g. 1990-01-01.. or "
                "2004-01-01..2030-12-31)"
            )
        earliest = _instant(start, upper=False) if start.strip() else EARLIEST
        latest = _instant(end, upper=True) if end.strip() else None
        if latest is not None and latest < earliest:
            raise WindowError(f"{text!r}: the window ends before it starts")
        return cls(earliest, latest)


def _instant(text: str, *, upper: bool) -> datetime:
    text = text.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime.combine(day, time.max if upper else time.min, tzinfo=SHANGHAI)
        return ensure_aware(datetime.fromisoformat(text))
    except ValueError:
        raise WindowError(
            f"{text!r} is not an ISO date or date-time (2000-01-01, 2026-03-02T09:30:00+08:00)"
        ) from None


def _ahead(ahead: timedelta) -> str:
    if ahead == AHEAD:
        return "a day after now"
    return f"{ahead} after now"
