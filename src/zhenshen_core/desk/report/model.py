"""What a desk report holds, and its JSON form.

The rates a desk manager doing 督办 is assessed by (the 12345 "三率"), per department and per
month, defined once here (docs/howto/desk-report.md says the same for readers):

* 按时办结率 (on-time rate) = closed cases whose ``resolve`` clock (the pack's 办结 deadline;
  every clock of the case when it has none) stopped on or before its due instant ÷ closed
  cases. A case counts for the month it was closed (办结) in.
* 满意率 (satisfied rate) = rated cases whose latest rating is 非常满意, 满意 or 基本满意 ÷ rated
  cases (the national 好差评 scale: only 不满意 and 非常不满意 are negative). A rating counts for
  the month it was given in.
* 退单率 (return rate) = cases a department handed back (退单) at least once ÷ cases it handled
  (led, or handed back). A return counts for the month it was made in.

Besides: cases led (牵头, by the department leading the case now; by the month received),
closed late, and overdue (open cases with a running clock past its due instant at the report's
"as of" instant — never monthly, it is a state, not an event).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from zhenshen_core.desk.report.labels import ReportLabels
from zhenshen_core.model.enums import Satisfaction
from zhenshen_core.storage.outbox import OUTBOX_STATUSES

AS_OF_SOURCES = {
    "data": "the newest event in the store",
    "now": "the time the report was made",
    "given": "the instant asked for",
}


def rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass
class ClockStats:
    on_time: int = 0
    late: int = 0
    running: int = 0
    overdue: int = 0

    @property
    def finished(self) -> int:
        return self.on_time + self.late

    @property
    def on_time_rate(self) -> float | None:
        return rate(self.on_time, self.finished)


@dataclass
class Tally:
    """Counts for one department (or all of them), in all or in one month."""

    led: int = 0
    closed: int = 0
    on_time: int = 0
    late: int = 0
    overdue: int = 0
    returned: int = 0
    handled: int = 0
    rated: int = 0
    satisfied: int = 0

    @property
    def on_time_rate(self) -> float | None:
        return rate(self.on_time, self.closed)

    @property
    def satisfied_rate(self) -> float | None:
        return rate(self.satisfied, self.rated)

    @property
    def return_rate(self) -> float | None:
        return rate(self.returned, self.handled)

    def as_dict(self) -> dict[str, Any]:
        return {
            "led": self.led,
            "closed": self.closed,
            "on_time": self.on_time,
            "late": self.late,
            "overdue": self.overdue,
            "returned": self.returned,
            "handled": self.handled,
            "rated": self.rated,
            "satisfied": self.satisfied,
            "on_time_rate": self.on_time_rate,
            "satisfied_rate": self.satisfied_rate,
            "return_rate": self.return_rate,
        }


@dataclass
class DepartmentView:
    """One department's 督办 view: its totals and its months (``YYYY-MM`` → tally)."""

    id: str
    totals: Tally = field(default_factory=Tally)
    months: dict[str, Tally] = field(default_factory=dict)

    def month(self, key: str) -> Tally:
        tally = self.months.get(key)
        if tally is None:
            tally = self.months[key] = Tally()
        return tally


@dataclass(frozen=True)
class Overdue:
    """An open case past a deadline: its most overdue running clock."""

    case_id: str
    external_id: str | None
    title: str
    clock: str
    due_at: datetime
    status: str
    department: str | None
    days_overdue: int


@dataclass
class Proposal:
    """A 举一反三 proposal with the cases it links (their work-order numbers and titles)."""

    id: str
    data: dict[str, Any]
    cases: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class DeskReport:
    as_of: datetime
    as_of_source: str = "given"
    labels: ReportLabels = field(default_factory=ReportLabels)
    total: int = 0
    by_status: Counter[str] = field(default_factory=Counter)
    by_domain: Counter[str] = field(default_factory=Counter)
    by_tier: Counter[str] = field(default_factory=Counter)
    by_domain_tier: Counter[tuple[str, str]] = field(default_factory=Counter)
    joint_review: int = 0
    clocks: dict[str, ClockStats] = field(default_factory=dict)
    overdue: list[Overdue] = field(default_factory=list)
    satisfaction: Counter[str] = field(default_factory=Counter)
    generalisations: list[Proposal] = field(default_factory=list)
    dead_letters: int = 0
    sweep_incidents: int = 0
    """Open sweep incidents: due clocks the sweep failed on, retried with backoff."""
    outbox: dict[str, int] = field(default_factory=dict)
    """Notices in the outbox by status (pending, delivered, failed)."""
    departments: dict[str, DepartmentView] = field(default_factory=dict)
    overall: DepartmentView = field(default_factory=lambda: DepartmentView("(all)"))

    @property
    def generated_at(self) -> datetime:
        """The report's "as of" instant (the name of earlier versions)."""
        return self.as_of

    @property
    def satisfied_rate(self) -> float | None:
        rated = sum(self.satisfaction.values())
        good = sum(n for k, n in self.satisfaction.items() if not Satisfaction(k).is_negative)
        return rate(good, rated)

    def months(self, last: int | None = None) -> list[str]:
        """The months the report covers, oldest first (the ``last`` ones only if given)."""
        keys = sorted(self.overall.months)
        return keys[-last:] if last else keys

    def department_rows(self) -> list[DepartmentView]:
        """Departments with the most cases led first (then by id, for a stable order)."""
        return sorted(self.departments.values(), key=lambda d: (-d.totals.led, d.id))

    def as_dict(self) -> dict[str, Any]:
        labels = self.labels
        departments = self.department_rows()
        return {
            "as_of": self.as_of.isoformat(),
            "as_of_source": self.as_of_source,
            "generated_at": self.as_of.isoformat(),
            "total": self.total,
            "joint_review": self.joint_review,
            "by_status": dict(self.by_status),
            "by_domain": dict(self.by_domain),
            "by_tier": dict(self.by_tier),
            "by_domain_tier": [
                {"domain": d, "tier": t, "cases": n}
                for (d, t), n in sorted(self.by_domain_tier.items())
            ],
            "clocks": {
                name: {
                    "on_time": s.on_time,
                    "late": s.late,
                    "running": s.running,
                    "overdue": s.overdue,
                    "on_time_rate": s.on_time_rate,
                }
                for name, s in sorted(self.clocks.items())
            },
            "overdue": [
                {
                    "case_id": o.case_id,
                    "external_id": o.external_id,
                    "clock": o.clock,
                    "due_at": o.due_at.isoformat(),
                    "days_overdue": o.days_overdue,
                    "status": o.status,
                    "department": o.department,
                    "title": o.title,
                }
                for o in self.overdue
            ],
            "satisfaction": dict(self.satisfaction),
            "satisfied_rate": self.satisfied_rate,
            "departments": [
                {
                    "id": d.id,
                    **d.totals.as_dict(),
                    "months": {m: t.as_dict() for m, t in sorted(d.months.items())},
                }
                for d in departments
            ],
            "months": {m: t.as_dict() for m, t in sorted(self.overall.months.items())},
            "generalisations": [
                {**g.data, "id": g.id, "cases": g.cases} for g in self.generalisations
            ],
            "dead_letters": self.dead_letters,
            "sweep_incidents": self.sweep_incidents,
            "outbox": {status: self.outbox.get(status, 0) for status in OUTBOX_STATUSES},
            "labels": labels.as_dict(
                domains=set(self.by_domain),
                departments={d.id for d in departments}
                | {o.department for o in self.overdue if o.department},
                clocks=set(self.clocks) | {o.clock.split(":")[0] for o in self.overdue},
                tiers=set(self.by_tier),
                statuses=set(self.by_status),
            ),
        }
