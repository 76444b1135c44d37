"""The desk report: what the leading group and a desk manager doing 督办 read.

Cases by domain and tier, deadlines kept, every department's cases led, on time, overdue and
returned (退单) with its rates (按时办结率, 满意率, 退单率) and their monthly trend, the overdue
cases with department and days overdue, satisfaction and the 举一反三 proposals with their
cases — as data (``DeskReport.as_dict``, the JSON form, with codes and their labels), text or a
self-contained HTML page. ``build_report(store, as_of, labels=ReportLabels.from_pack(pack))``
counts case digests the store answers with one query (:mod:`zhenshen_core.storage.digest`).
"""

from zhenshen_core.desk.report.build import RESOLVE_CLOCK, build_report, days_overdue, on_time
from zhenshen_core.desk.report.html import render_html
from zhenshen_core.desk.report.labels import CLOCK_LABELS, ReportLabels
from zhenshen_core.desk.report.model import (
    AS_OF_SOURCES,
    ClockStats,
    DepartmentView,
    DeskReport,
    Overdue,
    Proposal,
    Tally,
)
from zhenshen_core.desk.report.text import render_text

__all__ = [
    "AS_OF_SOURCES",
    "CLOCK_LABELS",
    "RESOLVE_CLOCK",
    "ClockStats",
    "DepartmentView",
    "DeskReport",
    "Overdue",
    "Proposal",
    "ReportLabels",
    "Tally",
    "build_report",
    "days_overdue",
    "on_time",
    "render_html",
    "render_text",
]
