"""What the desk's batch operations report: sweeps, recomputations, re-decisions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from zhenshen_core.model.case import Case
from zhenshen_core.storage.outbox import SweepIncident


@dataclass(frozen=True)
class ClockAlert:
    """One alert raised by a sweep: a threshold crossed (reminder) or a breach (督办 notice)."""

    case_id: str
    clock: str
    kind: str  # "0.5", "0.75" … or "breach"
    due_at: datetime
    at: datetime


@dataclass(frozen=True)
class ClockChange:
    """A clock whose due instant a recomputation moved."""

    case_id: str
    clock: str
    previous_due: datetime
    due: datetime
    provisional: bool  # still resting on estimated days (the new data does not reach it)


@dataclass
class RecomputeResult:
    """What :meth:`Desk.recompute_provisional_clocks` did, for a log line or a report."""

    calendar: str
    version: str
    checked: int = 0  # provisional clocks computed on another calendar version
    changed: list[ClockChange] = field(default_factory=list)
    settled: int = 0  # clocks the calendar data now covers: no longer provisional
    conflicts: list[str] = field(default_factory=list)  # cases changed meanwhile: run again
    failures: list[tuple[str, str]] = field(default_factory=list)  # (case id, why)


@dataclass
class SweepResult:
    """What one sweep did: at most one alert per clock, the highest threshold it crossed or its
    breach (a long-overdue clock gets one 督办 notice, not three alerts)."""

    alerts: list[ClockAlert] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    recomputed: RecomputeResult | None = None  # the calendar changed since the last sweep
    clocks: int = 0
    """Due clocks handled (with or without an alert)."""
    limit_reached: bool = False
    """The sweep took as many clocks as its limit allowed: more may be due; sweep again."""
    incidents: list[SweepIncident] = field(default_factory=list)
    """Due clocks this sweep failed on (recorded, held back until their retry time)."""
    resolved: list[SweepIncident] = field(default_factory=list)
    """Clocks of earlier incidents that swept without error this time."""
    held: int = 0
    """Clocks of open incidents still waiting for their retry time (not swept)."""
    notices_delivered: int = 0
    """Outbox notices delivered during the sweep (pending ones first, then the new alerts')."""
    notices_failed: int = 0
    """Deliveries that failed (the notices stay in the outbox, retried with backoff)."""

    def counts(self) -> dict[str, dict[str, int]]:
        """Alerts per clock and kind, for a summary; task clocks (``task:T1``) count as
        ``task``. Kinds are threshold keys ("0.5", "0.75") and "breach"."""
        out: dict[str, dict[str, int]] = {}
        for alert in self.alerts:
            per_kind = out.setdefault(alert.clock.split(":", 1)[0], {})
            per_kind[alert.kind] = per_kind.get(alert.kind, 0) + 1
        return out


@dataclass(frozen=True)
class Redecision:
    """The outcome of :meth:`Desk.redecide`: ``decided`` (first decision), ``changed`` or
    ``unchanged`` (nothing recorded)."""

    case: Case
    outcome: str
