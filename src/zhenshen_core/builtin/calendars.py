"""The national calendar of mainland China as an internal plugin (``cn``)."""

from __future__ import annotations

from typing import Any

from zhenshen_core.plugins.hookspecs import hookimpl
from zhenshen_core.plugins.records import CalendarSource


def _national() -> Any:
    from zhenshen_core.deadlines import national_calendar

    return national_calendar()


@hookimpl(trylast=True)
def zhenshen_calendars() -> list[CalendarSource]:
    return [
        CalendarSource(
            "cn",
            "mainland China official working days (State Council notices, 2004 onwards)",
            _national,
        )
    ]
