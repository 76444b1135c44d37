"""Decisions without storing, deadlines, the desk report, the audit log and pack reload."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse

from zhenshen_core.deadlines import (
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
from zhenshen_server.auth import Principal
from zhenshen_server.deps import DeskCall, desk_call, desk_of, role_call, service
from zhenshen_server.errors import AUTH_RESPONSES, ApiError, ErrorBody
from zhenshen_server.roles import Role
from zhenshen_server.routes.cases import CASE_DRAFT
from zhenshen_server.state import PackLoadFailed

router = APIRouter(tags=["desk"], responses=AUTH_RESPONSES)


def _bad(field: str, message: str) -> ApiError:
    return ApiError(400, "invalid", message, [{"loc": ["query", field], "field": field,
                                               "message": message}])


@router.post("/v1/desks/{desk}/decisions")
def decide(
    call: Annotated[DeskCall, Depends(desk_call("decision"))],
    draft: Annotated[dict[str, Any], Body(**CASE_DRAFT)],
) -> Any:
    """Decide a case without storing it: the JSON line of ``zhenshen eval --format json``."""
    if call.desk.engine is None:
        raise ApiError(400, "no_pack", "this desk has no rule pack to decide with")
    case = load_case(complete_case(draft))
    decision = call.desk.engine.evaluate(case)
    return call.show(json.loads(decision.to_json()), None, "decision")


def _instant(text: str, field: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise _bad(field, "not an ISO date or date-time") from None
    return value if value.tzinfo else value.replace(tzinfo=SHANGHAI)


def _start(text: str) -> date | datetime:
    try:
        if "T" in text or " " in text:
            value = datetime.fromisoformat(text.replace(" ", "T"))
            return value if value.tzinfo else value.replace(tzinfo=SHANGHAI)
        return date.fromisoformat(text)
    except ValueError:
        raise _bad("start", "not a date YYYY-MM-DD or a time YYYY-MM-DDTHH:MM") from None


@router.get("/v1/deadline")
def deadline(
    _: Annotated[Principal, Depends(role_call("deadline"))],
    start: Annotated[str, Query(min_length=10, max_length=40,
                                description="YYYY-MM-DD or YYYY-MM-DDTHH:MM")],
    period: Annotated[str, Query(min_length=1, max_length=100,
                                 description="e.g. '2 working days', 15d, 3个月")],
    policy: Literal["strict", "provisional", "weekdays"] = "strict",
) -> Any:
    """The due day and instant: the JSON of ``zhenshen deadline --format json``."""
    begin = _start(start)
    try:
        parsed = deadline_period(period)
    except DeadlineError as exc:
        raise _bad("period", str(exc)) from None
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
    since: Annotated[str | None, Query(description="ISO date or date-time (Asia/Shanghai "
                                        "when it names no zone)")] = None,
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
