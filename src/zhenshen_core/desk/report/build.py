"""Counting a store into a :class:`DeskReport`.

Everything is counted from case digests (:mod:`zhenshen_core.storage.digest`), which the SQLite
and PostgreSQL stores answer with one query, so a report over 50,000 cases parses no case
document (docs/performance.md has the numbers).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime, timedelta

from zhenshen_core.desk.report.labels import NONE, ReportLabels
from zhenshen_core.desk.report.model import (
    ClockStats,
    DepartmentView,
    DeskReport,
    Overdue,
    Proposal,
    Tally,
)
from zhenshen_core.model.case import SHANGHAI
from zhenshen_core.model.enums import CaseStatus, Satisfaction
from zhenshen_core.storage.digest import CaseDigest, ClockDigest, case_digests
from zhenshen_core.storage.protocol import CaseStore

RESOLVE_CLOCK = "resolve"
"""The clock whose deadline makes a closed case on time or late (the pack's 办结 period)."""
ENDED = frozenset(
    {CaseStatus.CLOSED, CaseStatus.WITHDRAWN, CaseStatus.MERGED, CaseStatus.NOT_ACCEPTED}
)
_ENDED = frozenset(s.value for s in ENDED)
_DAY = timedelta(days=1)
NEGATIVE = frozenset(s.value for s in Satisfaction if s.is_negative)


def month_of(instant: datetime) -> str:
    local = instant.astimezone(SHANGHAI)
    return f"{local.year}-{local.month:02d}"


def on_time(digest: CaseDigest) -> bool:
    """A closed case is on time when its resolve clock (else every clock) stopped by its due
    instant; a case without clocks had nothing to be late for."""
    clocks = [c for c in digest.clocks if c.name == RESOLVE_CLOCK] or list(digest.clocks)
    return all(c.stopped_at is None or c.stopped_at <= c.due_at for c in clocks)


def days_overdue(due_at: datetime, as_of: datetime) -> int:
    """Calendar days, a day begun counting as one: due 24:00 on the 29th, as of the 31st at
    18:00 is 2 days overdue (the 30th and the 31st)."""
    return max(1, math.ceil((as_of - due_at) / _DAY))


def build_report(
    store: CaseStore,
    as_of: datetime,
    *,
    joint_review_tag: str = "联合甄审",
    labels: ReportLabels | None = None,
    as_of_source: str = "given",
) -> DeskReport:
    """Count every case of ``store`` as of the instant ``as_of`` (running clocks are overdue
    when due before it; the cases themselves are the store's current state)."""
    report = DeskReport(as_of=as_of, as_of_source=as_of_source, labels=labels or ReportLabels())
    by_id: dict[str, CaseDigest] = {}
    for digest in case_digests(store, tag=joint_review_tag):
        by_id[digest.id] = digest
        _count(report, digest, as_of)
    report.overdue.sort(key=lambda o: (-o.days_overdue, o.due_at, o.case_id))
    report.generalisations = [
        Proposal(r.id, dict(r.data), _linked(r.data.get("case_ids") or [], by_id))
        for r in store.records("generalisation")
    ]
    report.dead_letters = len(store.dead_letters())
    report.sweep_incidents = len(store.incidents())
    for notice in store.outbox_notices():
        report.outbox[notice.status] = report.outbox.get(notice.status, 0) + 1
    return report


def _linked(case_ids: Iterable[str], by_id: dict[str, CaseDigest]) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for case_id in case_ids:
        digest = by_id.get(case_id)
        out.append(
            {
                "id": case_id,
                "external_id": digest.external_id if digest else None,
                "title": digest.title if digest else None,
                "status": digest.status if digest else None,
            }
        )
    return out


def _department(report: DeskReport, dept: str | None) -> DepartmentView:
    key = dept or NONE
    view = report.departments.get(key)
    if view is None:
        view = report.departments[key] = DepartmentView(key)
    return view


def _both(report: DeskReport, view: DepartmentView, month: str) -> tuple[Tally, ...]:
    """The tallies one event counts in: the department's and everyone's, in all and in its
    month."""
    return (view.totals, report.overall.totals, view.month(month), report.overall.month(month))


def _count(report: DeskReport, d: CaseDigest, as_of: datetime) -> None:
    report.total += 1
    report.by_status[d.status] += 1
    domain, tier = d.domain or NONE, d.tier or NONE
    report.by_domain[domain] += 1
    report.by_tier[tier] += 1
    report.by_domain_tier[(domain, tier)] += 1
    if d.tagged:
        report.joint_review += 1
    if d.satisfaction:
        report.satisfaction[d.satisfaction] += 1

    lead = _department(report, d.lead)
    for tally in _both(report, lead, month_of(d.received_at)):
        tally.led += 1
    if d.closed_at is not None:
        kept = on_time(d)
        for tally in _both(report, lead, month_of(d.closed_at)):
            tally.closed += 1
            tally.on_time += kept
            tally.late += not kept
    if d.satisfaction and d.rated_at is not None:
        good = d.satisfaction not in NEGATIVE
        for tally in _both(report, lead, month_of(d.rated_at)):
            tally.rated += 1
            tally.satisfied += good
    _returns(report, d)
    _clocks(report, d, lead, as_of)


def _returns(report: DeskReport, d: CaseDigest) -> None:
    """退单: each department that handed the case back counts it once, in the month of its
    first return, and handled it (whoever leads it now); everyone's tally counts the case
    once. Months count returns only: a month has no "handled" of its own."""
    first: dict[str, datetime] = {}
    for dept, at in d.returns:
        first[dept] = min(at, first.get(dept, at))
    lead = d.lead or NONE
    for dept, at in first.items():
        view = _department(report, dept)
        view.totals.returned += 1
        view.month(month_of(at)).returned += 1
        if dept != lead:
            view.totals.handled += 1
    _department(report, d.lead).totals.handled += 1
    report.overall.totals.handled += 1
    if first:
        report.overall.totals.returned += 1
        report.overall.month(month_of(min(first.values()))).returned += 1


def _clocks(report: DeskReport, d: CaseDigest, lead: DepartmentView, as_of: datetime) -> None:
    worst: ClockDigest | None = None
    for clock in d.clocks:
        key = "task" if clock.name.startswith("task:") else clock.name
        stats = report.clocks.setdefault(key, ClockStats())
        if clock.stopped_at is not None:
            if clock.stopped_at <= clock.due_at:
                stats.on_time += 1
            else:
                stats.late += 1
            continue
        stats.running += 1
        if clock.due_at < as_of and d.status not in _ENDED:
            stats.overdue += 1
            if worst is None or clock.due_at < worst.due_at:
                worst = clock
    if worst is not None:
        lead.totals.overdue += 1
        report.overall.totals.overdue += 1
        report.overdue.append(
            Overdue(
                case_id=d.id,
                external_id=d.external_id,
                title=d.title,
                clock=worst.name,
                due_at=worst.due_at,
                status=d.status,
                department=d.lead,
                days_overdue=days_overdue(worst.due_at, as_of),
            )
        )
