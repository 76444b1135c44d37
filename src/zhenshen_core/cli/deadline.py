"""``zhenshen deadline`` and ``zhenshen calendar``: the CLI over :mod:`zhenshen_core.deadlines`.

Other tools script these commands, so the JSON shape and exit codes are a contract: 0 ok,
1 a date beyond the calendar's data (or problems found by ``calendar check``), 2 usage error,
3 a calendar file that cannot be loaded.
"""

from __future__ import annotations

import json
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple, NoReturn

import click

from zhenshen_core.deadlines import (
    ACCEPTED_FORMS,
    EXCLUDED_LIMIT,
    Calendar,
    CalendarDataError,
    CalendarPolicy,
    CalendarRangeError,
    DeadlineError,
    OfficeHours,
    Period,
    PeriodError,
    deadline_period,
    layer,
    load_calendar_file,
    national_calendar,
    parse_office_hours,
)
from zhenshen_core.errors import ZhenshenError

EXIT_PROBLEMS = 1
EXIT_LOAD = 3


class StartType(click.ParamType[Any]):
    """``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM`` in Asia/Shanghai."""

    name = "START"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, date):
            return value
        text = str(value).strip()
        try:
            if "T" in text or " " in text:
                return datetime.fromisoformat(text.replace(" ", "T"))
            return date.fromisoformat(text)
        except ValueError:
            self.fail(f"{value!r} is not a date YYYY-MM-DD or a time YYYY-MM-DDTHH:MM", param, ctx)


class PeriodType(click.ParamType[Any]):
    name = "PERIOD"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return deadline_period(value)  # 0 is refused, as in a rule pack (P207)
        except PeriodError as exc:
            self.fail(str(exc), param, ctx)


class IntervalType(click.ParamType[Any]):
    """``FROM..TO`` (inclusive) or a single day."""

    name = "FROM..TO"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, tuple):
            return value
        first, _, last = str(value).partition("..")
        try:
            a = date.fromisoformat(first.strip())
            b = date.fromisoformat(last.strip()) if last else a
        except ValueError:
            self.fail(f"{value!r} is not an interval YYYY-MM-DD..YYYY-MM-DD", param, ctx)
        if b < a:
            self.fail(f"{value!r} ends before it starts", param, ctx)
        return (a, b)


class OfficeHoursType(click.ParamType[Any]):
    name = "HH:MM-HH:MM[,...]"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return parse_office_hours(value)
        except DeadlineError as exc:
            self.fail(str(exc), param, ctx)


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def resolve_calendar(name: str, policy: CalendarPolicy) -> Calendar:
    """``cn`` (the national calendar), a layer data file, or a plugin-registered calendar."""
    base = national_calendar(policy)
    if name in ("cn", "national", ""):
        return base
    path = Path(name)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise click.BadParameter(f"no such calendar file: {name}", param_hint="--calendar")
        try:
            return layer(base, load_calendar_file(path))
        except CalendarDataError as exc:
            _fail(f"calendar file cannot be loaded:\n{exc}", EXIT_LOAD)
    ctx = click.get_current_context(silent=True)
    host = getattr(getattr(ctx, "obj", None), "host", None) if ctx else None
    if host is not None:
        try:
            sources = host.calendars()
        except ZhenshenError as exc:  # a broken plugin must not hide the real answer
            raise click.BadParameter(
                f"unknown calendar {name!r} (plugin calendars unavailable: {exc})",
                param_hint="--calendar",
            ) from None
        if name in sources:
            cal = sources[name].factory()
            if isinstance(cal, Calendar):
                return cal
    raise click.BadParameter(
        f"unknown calendar {name!r}; use 'cn' or the path of a calendar data file",
        param_hint="--calendar",
    )


TEXT_RUNS = 12
"""Runs of skipped days the text output shows; JSON lists up to EXCLUDED_LIMIT days."""

_REST_KINDS = {"holiday": "holiday", "estimated-holiday": "estimated holiday", "weekend": "rest"}


def _due_note(day: dict[str, Any] | None) -> str:
    """What the due day is, when that is worth saying: a make-up working day above all."""
    if day is None:
        return ""
    source = ", ".join(x for x in (day["name"], day["notice"]) if x)
    if day["kind"] == "workday" and day["weekday"] in ("Saturday", "Sunday"):
        return f"; make-up working day 调休上班 for {source}" if source else "; make-up working day"
    if not day["working"]:
        what = _REST_KINDS.get(day["kind"], day["kind"])
        return f"; {what} day: {source}" if source else f"; {what} day"
    return ""


class _Run(NamedTuple):
    first: str
    last: str
    days: int
    kind: str
    name: str | None
    notice: str | None


def _runs(days: list[dict[str, Any]]) -> list[_Run]:
    """Consecutive days of the same kind, name and notice, as one run each."""
    runs: list[_Run] = []
    for d in days:
        day = date.fromisoformat(d["date"])
        if runs:
            r = runs[-1]
            same = (r.kind, r.name, r.notice) == (d["kind"], d["name"], d["notice"])
            if same and date.fromisoformat(r.last) + timedelta(days=1) == day:
                runs[-1] = r._replace(last=d["date"], days=r.days + 1)
                continue
        runs.append(_Run(d["date"], d["date"], 1, d["kind"], d["name"], d["notice"]))
    return runs


def _excluded_lines(result: dict[str, Any]) -> list[str]:
    """The skipped days, a run per line; what the text leaves out is counted, not hidden."""
    runs = _runs(result["excluded"])[:TEXT_RUNS]
    lines = []
    for i, r in enumerate(runs):
        span = r.first if r.first == r.last else f"{r.first}..{r.last}"
        parts = (span, r.kind, r.name, f"({r.notice})" if r.notice else None)
        lines.append(("excluded  " if i == 0 else " " * 10) + "  ".join(p for p in parts if p))
    more = result["excluded_total"] - sum(r.days for r in runs)
    if more > 0:
        lines.append(
            f"          … and {more} more day{'s' if more != 1 else ''} not counted "
            f"(--format json lists up to {EXCLUDED_LIMIT})"
        )
    return lines


def _human(result: dict[str, Any]) -> str:
    cal = result["calendar"]
    due = date.fromisoformat(result["due"])
    lines = [
        f"start     {result['start']}",
        f"period    {result['period']}",
        f"due       {result['due']} ({due.strftime('%A')}{_due_note(result['due_day'])})",
        f"due_at    {result['due_at']}",
        *_excluded_lines(result),
    ]
    if result["extensions"]:
        lines.append("extended  " + ", ".join(result["extensions"]))
    lines.append(
        f"calendar  {cal['name']} ({cal['policy']}, known until {cal['known_until']}, "
        f"version {cal['version'][:12]})"
    )
    if result["provisional"]:
        lines.append("PROVISIONAL: rests on estimated holidays; recompute when the notice lands")
    return "\n".join(lines)


@click.command("deadline")
@click.argument("start", type=StartType())
@click.argument("period", type=PeriodType())
@click.option(
    "--calendar",
    "calendar_name",
    default="cn",
    show_default=True,
    help="'cn' (national) or the path of a calendar layer data file.",
)
@click.option(
    "--exclude",
    "excluded",
    type=IntervalType(),
    multiple=True,
    help="Excluded days FROM..TO (inclusive), not counted. Repeatable.",
)
@click.option(
    "--extend",
    "extensions",
    type=PeriodType(),
    multiple=True,
    help="Approved extension counted on from the original end. Repeatable.",
)
@click.option(
    "--office-hours",
    type=OfficeHoursType(),
    default=None,
    help="e.g. 09:00-12:00,13:00-17:00: day periods end at close of business; "
    "working-hour periods count these hours.",
)
@click.option(
    "--policy",
    type=click.Choice([p.value for p in CalendarPolicy]),
    default=CalendarPolicy.STRICT.value,
    show_default=True,
    help="Beyond the published data: refuse (strict), estimate (provisional), or "
    "Monday-Friday only (weekdays, internal SLAs).",
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def deadline_cmd(
    start: date | datetime,
    period: Period,
    calendar_name: str,
    excluded: tuple[tuple[date, date], ...],
    extensions: tuple[Period, ...],
    office_hours: OfficeHours | None,
    policy: str,
    fmt: str,
) -> None:
    """Compute the due day and instant of PERIOD started at START.

    START is YYYY-MM-DD or YYYY-MM-DDTHH:MM (Asia/Shanghai). PERIOD is e.g. '2 working days',
    '15 days', '3 months', '1 year', '24 hours', '8 working hours', or 2wd 15d 3mo 1y 24h 8wh,
    or 2个工作日 15日 3个月 24小时. The start day is not counted. A period (or --extend) of 0 is
    a usage error, as it is in a rule pack (P207): a deadline due the moment it starts.

    \b
    Example:
      $ zhenshen deadline 2026-02-13 "2 working days"
      due       2026-02-24 (Tuesday)
    """
    from zhenshen_core.deadlines import compute_due

    calendar = resolve_calendar(calendar_name, CalendarPolicy(policy))
    try:
        result = compute_due(
            calendar,
            start,
            period,
            excluded=excluded,
            extensions=extensions,
            office_hours=office_hours,
        )
    except CalendarRangeError as exc:
        _fail(str(exc), EXIT_PROBLEMS)
    data = result.as_dict()
    if fmt == "json":
        click.echo(json.dumps(data, ensure_ascii=False))
    else:
        click.echo(_human(data))


@click.group("calendar")
def calendar_group() -> None:
    """Inspect and validate working-day calendar data."""


@calendar_group.command("show")
@click.argument("year", type=click.IntRange(1900, 2200))
@click.option(
    "--calendar",
    "calendar_name",
    default="cn",
    show_default=True,
    help="'cn' (national) or the path of a calendar layer data file.",
)
@click.option(
    "--policy",
    type=click.Choice([p.value for p in CalendarPolicy]),
    default=CalendarPolicy.STRICT.value,
    show_default=True,
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def show_cmd(year: int, calendar_name: str, policy: str, fmt: str) -> None:
    """Print YEAR's rest days and make-up working days with the notices they come from."""
    calendar = resolve_calendar(calendar_name, CalendarPolicy(policy))
    if calendar.policy is CalendarPolicy.STRICT and not (
        calendar.first_day.year <= year <= calendar.known_until.year
    ):
        _fail(
            f"no data for {year} in calendar {calendar.name!r}: it covers "
            f"{calendar.first_day} to {calendar.known_until} (the last known day)",
            EXIT_PROBLEMS,
        )
    days = calendar.special_days(year)
    notices = calendar.notices()
    used = sorted({d.notice for d in days if d.notice}, key=lambda n: str(notices.get(n)))
    if fmt == "json":
        payload = {
            "year": year,
            "calendar": {
                "name": calendar.name,
                "version": calendar.version,
                "known_until": calendar.known_until.isoformat(),
                "policy": calendar.policy.value,
            },
            "notices": [
                {
                    "id": n,
                    "title": notice.title,
                    "date": notice.date.isoformat() if notice.date else None,
                }
                for n in used
                if (notice := notices.get(n)) is not None
            ],
            "rest_days": [
                {
                    "date": d.day.isoformat(),
                    "name": d.name,
                    "notice": d.notice,
                    "layer": d.layer,
                    "provisional": d.provisional,
                }
                for d in days
                if not d.working
            ],
            "workdays": [
                {"date": d.day.isoformat(), "name": d.name, "notice": d.notice, "layer": d.layer}
                for d in days
                if d.working
            ],
        }
        click.echo(json.dumps(payload, ensure_ascii=False))
        return
    click.echo(
        f"{calendar.name} {year} (policy {calendar.policy.value}, "
        f"known until {calendar.known_until})"
    )
    for n in used:
        if n in notices:
            click.echo(f"  notice {n}  {notices[n].title}  {notices[n].date or ''}".rstrip())
    for d in days:
        what = "rest" if not d.working else "work"
        tag = " (estimate)" if d.provisional else ""
        click.echo(
            f"  {d.day} {d.day.strftime('%a')}  {what}  {d.name}{tag}  {d.notice or ''}".rstrip()
        )


@calendar_group.command("check")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def check_cmd(file: Path) -> None:
    """Validate a calendar data FILE: silent when clean, file:line:col: message otherwise."""
    try:
        load_calendar_file(file)
    except CalendarDataError as exc:
        for problem in exc.problems:
            click.echo(str(problem))
        sys.exit(EXIT_PROBLEMS)


def register(group: click.Group) -> None:
    """Add ``deadline`` and ``calendar`` to the main command group."""
    group.add_command(deadline_cmd)
    group.add_command(calendar_group)


__all__ = ["ACCEPTED_FORMS", "register", "resolve_calendar"]
