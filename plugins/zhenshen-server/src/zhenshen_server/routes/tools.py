"""Decisions without storing, deadlines, the desk report, the audit log and pack reload."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime, time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse

from zhenshen_core.deadlines import (
    ACCEPTED_FORMS,
    CalendarPolicy,
    DeadlineError,
    compute_due,
    deadline_period,
    national_calendar,
)
from zhenshen_core.model.case import SHANGHAI, Case
from zhenshen_core.model.lifecycle import load_case
from zhenshen_core.model.partial import complete_case
from zhenshen_core.storage.protocol import CaseQuery
from zhenshen_server import audit as audit_log
from zhenshen_server import forms
from zhenshen_server.auth import Principal
from zhenshen_server.deps import DeskCall, desk_call, desk_of, role_call, service
from zhenshen_server.errors import AUTH_RESPONSES, ApiError, ErrorBody
from zhenshen_server.roles import Role
from zhenshen_server.routes.cases import CASE_DRAFT, case_refused, typed
from zhenshen_server.state import PackLoadFailed

router = APIRouter(tags=["desk"], responses=AUTH_RESPONSES)


def _bad(field: str, message: str) -> ApiError:
    return ApiError(400, "invalid", message, [{"loc": ["query", field], "field": field,
                                               "message": message}])


@router.post("/v1/desks/{desk}/decisions", responses={400: case_refused(window=False)})
def decide(
    call: Annotated[DeskCall, Depends(desk_call("decision"))],
    draft: Annotated[dict[str, Any], Body(**CASE_DRAFT)],
) -> Any:
    """Decide a case without storing it: the JSON line of ``zhenshen eval --format json``."""
    if call.desk.engine is None:
        raise ApiError(400, "no_pack", "this desk has no rule pack to decide with")
    typed(draft, partial=True)
    case = load_case(complete_case(draft))
    decision = call.desk.engine.evaluate(case)
    return call.show(json.loads(decision.to_json()), None, "decision")


_INSTANT_FORM = (f"a date YYYY-MM-DD or a time YYYY-MM-DDTHH:MM[:SS][offset], in the years "
                 f"{forms.YEARS[0]} to {forms.YEARS[1]}")


def _start(text: str, field: str = "start") -> date | datetime:
    """The day or instant of ``forms.INSTANT`` (a time without an offset is Asia/Shanghai)."""
    if not forms.matches(forms.INSTANT, text):
        raise _bad(field, f"not {_INSTANT_FORM}")
    if "T" in text or " " in text:
        value = datetime.fromisoformat(text.replace(" ", "T"))
        return value if value.tzinfo else value.replace(tzinfo=SHANGHAI)
    return date.fromisoformat(text)


def _instant(text: str, field: str) -> datetime:
    value = _start(text, field)
    if isinstance(value, datetime):
        return value
    return datetime.combine(value, time.min, tzinfo=SHANGHAI)


# Written out rather than read from the calendars: loading all three takes a second, at
# every import; tests check the years against them (``forms.YEARS``).
_OUTSIDE = (
    "invalid request (details name the field: start or period); also a well-formed start and "
    "period whose days lie outside the calendar's data for the policy: strict, the days of the "
    "published State Council notices (from 2004-01-01); provisional, estimated years after "
    f"them too; weekdays, {forms.YEARS[0]} to {forms.YEARS[1]}"
)


@router.get("/v1/deadline", responses={400: {"model": ErrorBody, "description": _OUTSIDE}})
def deadline(
    _: Annotated[Principal, Depends(role_call("deadline"))],
    start: Annotated[str, Query(description=_INSTANT_FORM + " (Asia/Shanghai unless it has "
                                "an offset)",
                                json_schema_extra=forms.declared(forms.INSTANT,
                                                                 examples=["2026-02-13"]))],
    period: Annotated[str, Query(max_length=100, description="what `zhenshen deadline` reads: "
                                 + ACCEPTED_FORMS + "; not 0",
                                 json_schema_extra=forms.declared(
                                     forms.PERIOD, examples=["2 working days"]))],
    policy: Literal["strict", "provisional", "weekdays"] = "strict",
) -> Any:
    """The due day and instant: the JSON of ``zhenshen deadline --format json``."""
    begin = _start(start)
    try:
        parsed = deadline_period(period)
    except DeadlineError as exc:
        raise _bad("period", str(exc)) from None
    if not forms.matches(forms.PERIOD, period):  # read by the CLI, but not the declared form
        raise _bad("period", f"cannot read period {period!r}; accepted forms: {ACCEPTED_FORMS}")
    calendar = national_calendar(CalendarPolicy(policy))
    try:
        return compute_due(calendar, begin, parsed).as_dict()
    except DeadlineError as exc:
        raise _bad("start", str(exc)) from None


class _DeskView:
    """The store as one desk's report sees it: ``query`` answers that desk's cases only, and
    the store's whole-store shortcuts (``case_digests``, ``latest_event_at``) are hidden so
    the report reads the cases through ``query``; the rest is the store's."""

    def __init__(self, call: DeskCall) -> None:
        self._store, self._desk = call.state.store, call.desk_id

    def query(self, query: CaseQuery | None = None) -> Iterator[Case]:
        return (c for c in self._store.query(query) if desk_of(c) == self._desk)

    def __getattr__(self, name: str) -> Any:
        if name in ("case_digests", "latest_event_at"):
            raise AttributeError(name)
        return getattr(self._store, name)


@router.get(
    "/v1/desks/{desk}/report",
    response_model=None,
    responses={200: {"description": "the report (format=json: data; format=html: a page)",
                     "content": {"application/json": {"schema": {"type": "object"}},
                                 "text/html": {"schema": {"type": "string"}}}}},
)
def report(
    call: Annotated[DeskCall, Depends(desk_call("report"))],
    format: Literal["json", "html"] = "json",
) -> JSONResponse | HTMLResponse:
    """The desk report as of now (its cases by domain and tier, deadlines kept, 督办)."""
    from zhenshen_core.desk.report import ReportLabels, build_report, render_html

    one_desk = len(call.state.desks) == 1
    store: Any = call.state.store if one_desk else _DeskView(call)
    built = build_report(
        store, call.desk.now(), labels=ReportLabels.from_pack(call.desk.pack), as_of_source="now"
    )
    if format == "html":
        return HTMLResponse(render_html(built))
    return JSONResponse(call.show(built.as_dict(), None, "report"))


@router.get("/v1/audit")
def audit(
    request: Request,
    principal: Annotated[Principal, Depends(role_call("audit.read"))],
    desk: str | None = None,
    case: str | None = None,
    since: Annotated[str | None, Query(description=_INSTANT_FORM + ": the records from then "
                                       "on (a day: from its start; Asia/Shanghai unless it "
                                       "has an offset)",
                                       json_schema_extra=forms.declared(forms.INSTANT))] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """The audit log (oldest first, the newest ``limit``) on the caller's desks."""
    state = service(request)
    reach = None if principal.role is Role.ADMIN or not principal.desks else principal.desks
    after = _instant(since, "since") if since is not None else None
    items = audit_log.entries(state.store, desks=reach, desk=desk, case=case, since=after,
                              limit=limit)
    return {"items": items}


@router.post(
    "/v1/admin/reload",
    responses={422: {"model": ErrorBody, "description": "a pack has errors (details: each "
                     "located problem); the old packs stay in service"}},
)
def reload(
    request: Request, principal: Annotated[Principal, Depends(role_call("admin"))]
) -> Any:
    """Load every desk's pack again; a pack with errors is refused and the old ones stay."""
    state = service(request)
    try:
        desks = state.reload()
    except PackLoadFailed as exc:
        audit_log.record(state.store, who=principal.subject, role=principal.role.value,
                         action="reload_packs", desk=None, case=None, outcome="failed",
                         remote=request.client.host if request.client else None)
        raise ApiError(422, "pack_errors", str(exc), exc.problems) from None
    audit_log.record(state.store, who=principal.subject, role=principal.role.value,
                     action="reload_packs", desk=None, case=None, outcome="ok",
                     remote=request.client.host if request.client else None)
    return {"desks": {d.id: _pack_info(d.desk.pack) for d in desks.values()}}


def _pack_info(pack: Any) -> dict[str, Any] | None:
    if pack is None:
        return None
    return {"id": pack.id, "version": pack.version, "sha256": pack.sha256}


__all__ = ["router"]
