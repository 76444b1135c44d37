"""``/v1/desks/{desk}/cases``: receive, list, read, history, events, letters."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Body, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.concurrency import run_in_threadpool

from zhenshen_core import Case, CaseEvent
from zhenshen_core.errors import GuardError
from zhenshen_core.model.enums import CaseStatus
from zhenshen_core.model.lifecycle import dump_case
from zhenshen_core.storage.protocol import CaseQuery
from zhenshen_server import forms, jsontypes
from zhenshen_server.created import watching
from zhenshen_server.deps import DESK_TAG, DeskCall, desk_call, desk_of
from zhenshen_server.errors import AUTH_RESPONSES, ApiError, ErrorBody, not_found
from zhenshen_server.masking import audience
from zhenshen_server.roles import Role
from zhenshen_server.transitions import post_event

router = APIRouter(prefix="/v1/desks/{desk}", tags=["cases"], responses=AUTH_RESPONSES)

CASE_DRAFT = {
    "description": "A work order: the case draft of `zhenshen schema case` (at least "
    "received_at; channel and external_id make a repeat delivery idempotent).",
    "examples": [
        {
            "external_id": "GX-1",
            "channel": "hotline_12345",
            "received_at": "2026-03-02T09:00:00+08:00",
            "title": "无法经营",
            "content": "取得执照后无法经营",
            "domain": "market_entry_operation",
        }
    ],
}


class CasePage(BaseModel):
    """A page of cases (documented as the library's ``Case``; sent as the stored JSON,
    masked for callers without ``pii``)."""

    items: list[Case]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null: done")


def _case(description: str) -> dict[str, Any]:
    return {"model": Case, "description": description}


def case_refused(*, window: bool) -> dict[str, Any]:
    """What a 400 to a work order is, beyond the JSON Schema: the case model's checks that
    no schema can say (a check digit, one lead among the departments) and, where the case is
    received (``window``), the received window, which moves with the clock."""
    received = ("a received_at outside the desk's received window (by default 2004-01-01, "
                "the first day of the calendar's data, to a day after now), ") if window else ""
    return {"model": ErrorBody, "description": (
        "invalid request; details name each field. Besides what the schema says, the case "
        f"model refuses {received}a 统一社会信用代码 whose check digit is wrong, more than one "
        "lead department, facts nested too deep")}


class _Json(JSONResponse):
    """JSON written by orjson (3 µs for a case instead of the standard library's 50); what
    orjson refuses (an integer beyond 64 bits) is written as before."""

    def render(self, content: Any) -> bytes:
        try:
            return orjson.dumps(content)
        except orjson.JSONEncodeError:
            return super().render(content)


def _sent(document: Any, status_code: int = 200) -> JSONResponse:
    """``document`` as the response: it is JSON data already (``dump_case``, then masked), so
    it goes out as it is. Returned as a plain dict, FastAPI would first copy it through
    ``jsonable_encoder``, a Python call for every node of the case: 40% of a GET's CPU."""
    return _Json(document, status_code=status_code)


class EventRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event: str = Field(min_length=1, max_length=100)
    payload: dict[str, Any] = Field(default_factory=dict)
    expected_version: int = Field(ge=0, description="the case version the caller last read")

    @field_validator("expected_version", mode="before")
    @classmethod
    def _json_integer(cls, value: Any) -> Any:
        """The JSON integer the document declares: pydantic would read ``"3"`` and ``true``
        as one too (``3.0`` is a JSON Schema integer, and read as 3)."""
        if isinstance(value, bool | str):
            raise ValueError("must be an integer (JSON), as the document declares")
        return value


def typed(draft: dict[str, Any], *, partial: bool = False) -> None:
    """400 naming each value whose JSON type is not the one the document declares (the
    library would read ``"1"`` or ``false`` as an integer); ``partial``: the body is a
    partial case, with the conveniences of ``zhenshen eval``."""
    validator = jsontypes.draft_validator() if partial else jsontypes.case_validator()
    details = jsontypes.located(draft, validator)
    if details:
        raise ApiError(400, "invalid", "invalid case: values of the wrong JSON type", details)


def _created_case(
    call: DeskCall, draft: dict[str, Any], detail: dict[str, Any] | None = None
) -> tuple[dict[str, Any], bool]:
    """Receive the draft and audit the receipt (``detail`` added to the record): a new case's
    record is stored in the case's own transaction, a repeated one's on its own."""
    def ours(stored: Case) -> None:
        """A repeat delivery: refused before anything is done with it when another desk
        received the work order (the desk's own look-up; no second read here)."""
        if desk_of(stored) != call.desk_id:
            raise ApiError(409, "conflict", "this work order was received by another desk")

    extra = detail or {}
    with watching(
        lambda case_id: call.audit_record("receive_case", case_id, "ok",
                                          {"created": True, **extra})
    ) as watch:
        case = call.desk.receive(draft, actor=call.principal.subject, on_stored=ours)
    if desk_of(case) != call.desk_id:  # a concurrent delivery to another desk stored it
        raise ApiError(409, "conflict", "this work order was received by another desk")
    created = any(watch.created)
    if not watch.audited:
        call.audit("receive_case", case.id, "ok", {"created": created, **extra})
    return dump_case(case), created


@router.post(
    "/cases",
    status_code=201,
    response_model=None,
    responses={200: _case("the same work order again: the stored case"),
               400: case_refused(window=True),
               201: _case("a new case, decided, its clocks started")},
)
def receive_case(
    call: Annotated[DeskCall, Depends(desk_call("case.create"))],
    draft: Annotated[dict[str, Any], Body(**CASE_DRAFT)],
) -> JSONResponse:
    """Validate, store idempotently on (channel, external_id), decide and start the clocks."""
    typed(draft)
    given = draft.get("tags")
    if given is None or isinstance(given, list):  # else validation names the field
        # The desk a case belongs to is the one it was posted to, never what the body says.
        tags = [t for t in given or [] if not str(t).startswith(DESK_TAG)]
        draft = {**draft, "tags": [*tags, f"{DESK_TAG}{call.desk_id}"]}
    try:
        case, created = _created_case(call, draft)
    except Exception as exc:
        call.audit("receive_case", None, "failed", {"error": type(exc).__name__})
        raise
    return _sent(call.show(case, case["id"]), 201 if created else 200)


def _cursor(text: str | None) -> int:
    """The position a page starts at: the decimal number ``next_cursor`` gave (the document
    declares its form, so any cursor of that form is a page; one past the end is empty)."""
    if text is None:
        return 0
    if not forms.matches(forms.CURSOR, text):
        raise ApiError(400, "invalid", "not a cursor this service gave", [
            {"loc": ["query", "cursor"], "field": "cursor",
             "message": "a cursor is the next_cursor of the page before (digits)"}
        ])
    return int(text)


def _next(offset: int) -> str:
    return str(offset)


@router.get("/cases", response_model=None,
            responses={200: {"model": CasePage, "description": "a page of cases"}})
def list_cases(
    call: Annotated[DeskCall, Depends(desk_call("case.read"))],
    status: Annotated[list[CaseStatus] | None, Query()] = None,
    domain: str | None = None,
    department: str | None = None,
    overdue: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(
        description="the next_cursor of the page before; none: the first page",
        json_schema_extra=forms.declared(forms.CURSOR))] = None,
) -> JSONResponse:
    """The cases of the desk the caller may see, oldest first, a page at a time."""
    offset = _cursor(cursor)
    principal = call.principal
    if principal.role is Role.DEPARTMENT:
        if department and department != principal.department:
            return _sent({"items": [], "next_cursor": None})
        department = principal.department
    query = CaseQuery(
        status=status,
        domain=domain,
        department=department,
        due_before=call.desk.now() if overdue else None,
    )
    items: list[dict[str, Any]] = []
    batch = max(limit * 2, 100)
    position = offset
    more = False
    while True:
        chunk = list(call.state.store.query(query.model_copy(
            update={"limit": batch, "offset": position})))
        for case in chunk:
            if call.sees(case):
                if len(items) == limit:
                    more = True
                    break
                items.append(dump_case(case))
            position += 1
        if more or len(chunk) < batch:
            break
    shown = call.show(items, None, "case list")
    return _sent({"items": shown, "next_cursor": _next(position) if more else None})


@router.get("/cases/{case_id}", response_model=None, responses={200: _case("the case")})
async def get_case(
    case_id: str, request: Request, call: Annotated[DeskCall, Depends(desk_call("case.read"))]
) -> Response:
    """The case as stored now (masked unless the caller may see personal data)."""
    reads = request.app.state.metrics.case_reads
    body = await _kept_body(call, case_id)
    if body is not None:
        reads.labels("memory").inc()
        return Response(body, media_type=_Json.media_type)
    response = await run_in_threadpool(_read_case, call, case_id)
    reads.labels("store").inc()
    return response


async def _kept_body(call: DeskCall, case_id: str) -> bytes | None:
    """The body a worker sent this caller's audience for the case, when memory is proved
    current (``casecache``); None: read the store. 404 from memory too, for a kept case
    outside the caller's scope."""
    cache, changes = call.state.cases, call.state.changes
    if call.principal.pii or changes is None or not changes.listening:
        return None
    if not call.proved_current and not await changes.current():
        return None
    kept = cache.get(case_id, call.desk, audience(call.principal))
    if kept is None:
        return None
    reach, body = kept
    allowed = call.reaches(reach)
    if allowed is None:  # who submitted it was never read: the store says
        return None
    if not allowed:
        raise not_found()
    return body


def _read_case(call: DeskCall, case_id: str) -> JSONResponse:
    """The case read from the store, and its body kept for the next reader of the same
    audience (never a ``pii`` reader's: unmasked, and audited each time)."""
    cache = call.state.cases
    heard = cache.heard()
    case, reach = call.reached(case_id)
    response = _sent(call.show(dump_case(case), case.id))
    if not call.principal.pii:
        cache.keep(case.id, call.desk, reach, audience(call.principal), bytes(response.body),
                   heard)
    return response


@router.get("/cases/{case_id}/events", response_model=None,
            responses={200: {"model": list[CaseEvent], "description": "the history"}})
def case_events(
    case_id: str, call: Annotated[DeskCall, Depends(desk_call("case.read"))]
) -> JSONResponse:
    """The case's append-only history, oldest first."""
    case = call.case(case_id)
    return _sent(call.show_events(call.state.store.events(case.id), case))


@router.post(
    "/cases/{case_id}/events",
    response_model=None,
    responses={200: _case("the moved case"),
               409: {"model": ErrorBody, "description": "version conflict"},
               422: {"model": ErrorBody,
                     "description": "event not allowed now, in the case's state (details: "
                     "the allowed events)"}},
)
def post_case_event(
    case_id: str,
    request: EventRequest,
    call: Annotated[DeskCall, Depends(desk_call("case.event"))],
) -> JSONResponse:
    """Move the case with one event a person may request (the desk records the others)."""
    try:
        case = call.case(case_id)
    except ApiError:
        call.audit("post_event", case_id, "denied", {"event": request.event})
        raise
    try:
        moved = post_event(
            call.desk, case, call.principal, request.event, request.payload,
            request.expected_version,
        )
    except Exception as exc:
        call.audit("post_event", case.id, "failed",
                   {"event": request.event, "error": type(exc).__name__})
        raise
    call.audit("post_event", case.id, "ok", {"event": request.event, "version": moved.version})
    return _sent(call.show(dump_case(moved), case.id, "moved case"))


RENDERERS = {"md": ("markdown", "text/markdown; charset=utf-8"),
             "html": ("html", "text/html; charset=utf-8"),
             "docx": ("docx", "application/vnd.openxmlformats-officedocument."
                      "wordprocessingml.document")}


@router.get(
    "/cases/{case_id}/letter",
    response_class=Response,
    responses={200: {"content": {v[1]: {} for v in RENDERERS.values()}},
               409: {"model": ErrorBody, "description": "no opinion has been issued yet"}},
)
def case_letter(
    case_id: str,
    call: Annotated[DeskCall, Depends(desk_call("case.read"))],
    format: Literal["md", "html", "docx"] = "md",
) -> Response:
    """The 甄别审查意见书, written from the case with its personal data masked unless the
    caller carries ``pii`` (that read audited)."""
    case = call.case(case_id)
    renderer, media = RENDERERS[format]
    try:
        data = call.desk.render_letter(case.id, renderer, show_personal_data=call.principal.pii)
    except GuardError:
        raise ApiError(409, "no_opinion", "no opinion has been issued for this case") from None
    if call.principal.pii:
        call.audit("read_personal_data", case.id, "ok", {"what": f"letter.{format}"})
    return Response(data, media_type=media)
