"""The stored shape of a deadline clock.

A clock is plain data kept with its case, so that any storage backend can persist it and index
``next_alert_at`` for the sweep; the arithmetic that fills it in lives in
:mod:`zhenshen_core.deadlines`, which knows the calendar.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class ClockPause(BaseModel):
    """Excluded time (expert review, hearing, waiting for materials); ``end`` None while open."""

    model_config = ConfigDict(extra="forbid")

    start: datetime
    end: datetime | None = None
    reason: str = ""


class ClockExtension(BaseModel):
    """An approved extension; the law requires an approver, so it is not optional."""

    model_config = ConfigDict(extra="forbid")

    period: str
    approver: str
    reason: str
    at: datetime


class Clock(BaseModel):
    """One legal or service deadline of a case, e.g. ``opinion`` or ``resolve``."""

    model_config = ConfigDict(extra="forbid")

    name: str
    period: str
    started_at: datetime
    due_at: datetime
    pauses: list[ClockPause] = Field(default_factory=list)
    extensions: list[ClockExtension] = Field(default_factory=list)
    stopped_at: datetime | None = None
    thresholds: list[float] = Field(default_factory=lambda: [0.5, 0.75])
    notified: list[str] = Field(default_factory=list)
    next_alert_at: datetime | None = None
    calendar_version: str = ""
    provisional: bool = False

    @property
    def running(self) -> bool:
        return self.stopped_at is None

    @property
    def paused(self) -> bool:
        return bool(self.pauses) and self.pauses[-1].end is None
