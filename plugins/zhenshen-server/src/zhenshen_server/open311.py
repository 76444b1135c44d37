"""Open311 GeoReport v2 at ``/open311/v2``: the public standard 311 systems and clients speak.

``jurisdiction_id`` is the desk id (optional when the service has one desk); every resource
comes as ``.json`` or ``.xml``. Service codes are the desk pack's domain ids. A posted request
becomes a case on channel ``open311`` through the same receive path as
``POST /v1/desks/{desk}/cases`` (stored, decided, clocks started, audited); its token is the
case's external id, so ``GET tokens/{token}`` finds it again.

Reads serve the public view of :mod:`zhenshen_server.open311_view` without credentials, as
the standard intends, unless the service runs with ``--open311-private`` (then an
``api_key`` parameter or a bearer credential of a role that may read cases is needed).
``POST requests`` always needs an ``api_key`` whose role may receive cases on that desk.
Errors are the standard's ``[{"code": …, "description": …}]`` (``<errors><error>`` in XML),
never the ``/v1`` error shape.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import Response
from pydantic import TypeAdapter, ValidationError
from starlette.routing import Match

from zhenshen_core import Case
from zhenshen_core.errors import CaseNotFoundError, CaseValidationError
from zhenshen_core.model.case import SHANGHAI
from zhenshen_core.model.lifecycle import ACTIVE, TERMINAL
from zhenshen_core.storage.protocol import CaseQuery
from zhenshen_server import open311_view as view
from zhenshen_server.auth import Principal, principal_for_token
from zhenshen_server.deps import DESK_TAG, DeskCall, _denied, desk_of, service
from zhenshen_server.errors import ApiError
from zhenshen_server.roles import allows
from zhenshen_server.routes.cases import _created_case
from zhenshen_server.state import LoadedDesk, ServiceState

router = APIRouter(prefix="/open311/v2", tags=["open311"])

FORMATS = ("json", "xml")
MEDIA = {"json": "application/json", "xml": "text/xml; charset=utf-8"}
#: Most requests one list answers (the standard lets a server bound it; 1,000 is common).
MAX_RESULTS = 1000
#: The default window of ``GET requests`` without dates, as the standard says.
DEFAULT_WINDOW = timedelta(days=90)
_BATCH = 500
#: W3C / RFC 3339 date-times with their offset (``Z`` or ``±hh:mm``), as the schema says.
_W3C = re.compile(
    r"\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(?:\.\d+)?(?:[Zz]|[+-]\d\d:\d\d)", re.ASCII
)
_INSTANT: TypeAdapter[datetime] = TypeAdapter(datetime)
#: The longest description taken (a case's content holds at most 20,000 characters).
MAX_DESCRIPTION = 20000


class Open311Failure(Exception):
    """An Open311 error answer: HTTP ``status`` and the standard's error list."""

    def __init__(self, status: int, description: str, headers: dict[str, str] | None = None):
        super().__init__(description)
        self.status, self.description, self.headers = status, description, headers


# --- the OpenAPI description ------------------------------------------------------------------

_FORMAT = Path(
    description="json or xml", json_schema_extra={"enum": list(FORMATS)}, alias="format"
)
_JURISDICTION = Query(description="the desk id; optional when the service has one desk")
_API_KEY = Query(description="an API key (only when the service runs --open311-private)")


def _doc(model: Any, many: bool = True, status: int = 200) -> dict[int | str, dict[str, Any]]:
    item = model.model_json_schema()
    body = {"type": "array", "items": item} if many else item
    errors = {"type": "array", "items": view.Open311Error.model_json_schema()}

    def error(description: str) -> dict[str, Any]:
        return {
            "description": f"{description} (an Open311 error list)",
            "content": {"application/json": {"schema": errors}, "text/xml": {"schema": {}}},
        }

    return {
        status: {
            "description": "the resource in the format asked for (.json or .xml)",
            "content": {"application/json": {"schema": body}, "text/xml": {"schema": {}}},
        },
        400: error("invalid: a filter, a form field, or no jurisdiction_id with several desks"),
        401: error("an api_key is needed (POST; reads with --open311-private) or is unknown"),
        403: error("the key's role may not do this"),
        404: error("no such format, jurisdiction, service, request or token"),
        405: error("a method this resource does not take (Allow lists those it does)"),
    }


# --- answers ----------------------------------------------------------------------------------


def _json(document: Any) -> bytes:
    # "replace": a lone surrogate in stored text must not turn an answer into a 500.
    return json.dumps(document, ensure_ascii=False).encode("utf-8", "replace")


def _answer(
    fmt: str, rows: list[dict[str, Any]], root: str, item: str, status: int = 200
) -> Response:
    if fmt == "xml":
        return Response(view.to_xml(root, item, rows), status, media_type=MEDIA["xml"])
    data = _json(rows)
    return Response(data, status, media_type=MEDIA["json"])


def _failure(fmt: str, failure: Open311Failure) -> Response:
    rows = view.errors_view(failure.status, [failure.description])
    response = _answer(fmt if fmt in FORMATS else "json", rows, "errors", "error", failure.status)
    for key, value in (failure.headers or {}).items():
        response.headers[key] = value
    return response


def _from_api_error(exc: ApiError) -> Open311Failure:
    return Open311Failure(exc.status, exc.message, exc.headers)


def _format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise Open311Failure(404, f"unknown format {fmt!r}: use .json or .xml")
    return fmt


# --- who and which desk -----------------------------------------------------------------------


def _jurisdiction(state: ServiceState, jurisdiction_id: str | None) -> LoadedDesk:
    if not jurisdiction_id:
        if len(state.desks) == 1:
            return next(iter(state.desks.values()))
        raise Open311Failure(400, "jurisdiction_id is required: this service has several desks")
    loaded = state.desk(jurisdiction_id)
    if loaded is None:
        raise Open311Failure(404, "jurisdiction_id not found")
    return loaded


def _key_principal(state: ServiceState, token: str | None) -> Principal:
    if not token:
        raise Open311Failure(401, "api_key required", _challenge())
    try:
        return principal_for_token(token, state.keys, state.verifier)
    except ApiError as exc:
        raise _from_api_error(exc) from None


def _challenge() -> dict[str, str]:
    return {"WWW-Authenticate": 'Bearer realm="zhenshen", error="invalid_token"'}


def _bearer(request: Request) -> str | None:
    scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _reader(request: Request, api_key: str | None, desk: LoadedDesk) -> None:
    """Public reads pass; with --open311-private a reading key of this desk is needed (a desk
    out of its reach is not found, as in /v1)."""
    state = service(request)
    if not state.settings.open311_private:
        return
    principal = _key_principal(state, api_key or _bearer(request))
    if not allows(principal.role, "case.read"):
        raise Open311Failure(403, "this key may not read requests")
    if not principal.reaches(desk.id):
        raise Open311Failure(404, "jurisdiction_id not found")


def _read_desk(
    request: Request, fmt: str, jurisdiction_id: str | None, api_key: str | None
) -> tuple[ServiceState, LoadedDesk]:
    """What every GET checks first, in this order: the format, the desk ``jurisdiction_id``
    names, and that the caller may read it."""
    _format(fmt)
    state = service(request)
    desk = _jurisdiction(state, jurisdiction_id)
    _reader(request, api_key, desk)
    return state, desk


# --- services ---------------------------------------------------------------------------------


def _domains(desk: LoadedDesk) -> dict[str, str]:
    pack = desk.desk.pack
    return {d.id: d.name or d.id for d in pack.domains.values()} if pack is not None else {}


def _departments(desk: LoadedDesk) -> dict[str, str]:
    pack = desk.desk.pack
    return {d.id: d.name or d.id for d in pack.departments.values()} if pack is not None else {}


def _services(desk: LoadedDesk) -> list[dict[str, Any]]:
    pack = desk.desk.pack
    group = (pack.name or pack.id) if pack is not None else ""
    return [
        view.Service(
            service_code=code, service_name=name, description=name, metadata=False,
            type="realtime", keywords="", group=group,
        ).model_dump()
        for code, name in _domains(desk).items()
    ]


@router.get("/services.{format}", responses=_doc(view.Service))
def services(
    request: Request,
    fmt: Annotated[str, _FORMAT],
    jurisdiction_id: Annotated[str | None, _JURISDICTION] = None,
    api_key: Annotated[str | None, _API_KEY] = None,
) -> Response:
    """The service list: one service per domain of the desk's pack."""
    try:
        _, desk = _read_desk(request, fmt, jurisdiction_id, api_key)
        return _answer(fmt, _services(desk), "services", "service")
    except Open311Failure as failure:
        return _failure(fmt, failure)


@router.get("/services/{service_code}.{format}", responses=_doc(view.ServiceDefinition, False))
def service_definition(
    request: Request,
    service_code: str,
    fmt: Annotated[str, _FORMAT],
    jurisdiction_id: Annotated[str | None, _JURISDICTION] = None,
    api_key: Annotated[str | None, _API_KEY] = None,
) -> Response:
    """A service definition (no extra attributes: every service's ``metadata`` is false)."""
    try:
        _, desk = _read_desk(request, fmt, jurisdiction_id, api_key)
        if service_code not in _domains(desk):
            raise Open311Failure(404, "service_code not found")
        row = view.ServiceDefinition(service_code=service_code).model_dump()
        if fmt == "xml":
            body = view.object_xml("service_definition", row)
            return Response(body, media_type=MEDIA["xml"])
        return Response(_json(row), media_type=MEDIA["json"])
    except Open311Failure as failure:
        return _failure(fmt, failure)


# --- requests: read ---------------------------------------------------------------------------


def _public_views(state: ServiceState, desk: LoadedDesk, cases: list[Case]) -> list[dict[str, Any]]:
    """The public view of each case (names looked up once; the latest event of each)."""
    domains, departments = _domains(desk), _departments(desk)
    rows = []
    for case in cases:
        events = state.store.events(case.id)
        updated = events[-1].at if events else None
        rows.append(view.request_view(
            case, domains=domains, departments=departments, updated=updated))
    return rows


def _visible(desk: LoadedDesk, case: Case) -> bool:
    return desk_of(case) == desk.id and view.is_public(case)


def _instant(text: str, name: str) -> datetime:
    try:
        if not _W3C.fullmatch(text):
            raise ValueError(text)
        value = _INSTANT.validate_python(text)
    except (ValueError, ValidationError):
        raise Open311Failure(
            400, f"{name} is not a W3C date-time like 2026-03-02T09:00:00+08:00"
        ) from None
    return value if value.tzinfo is not None else value.replace(tzinfo=SHANGHAI)


def _listed(values: str | None) -> list[str]:
    return [v.strip() for v in (values or "").split(",") if v.strip()]


def _by_ids(state: ServiceState, desk: LoadedDesk, ids: list[str]) -> list[Case]:
    found = []
    for case_id in ids[:MAX_RESULTS]:
        try:
            case = state.store.get(case_id)
        except CaseNotFoundError:
            continue
        if _visible(desk, case):
            found.append(case)
    return found


def _statuses(text: str | None) -> list[Any] | None:
    wanted = _listed(text)
    unknown = [s for s in wanted if s not in ("open", "closed")]
    if unknown:
        raise Open311Failure(400, "status is open, closed, or both comma separated")
    if not wanted or set(wanted) == {"open", "closed"}:
        return None
    return sorted(ACTIVE if wanted == ["open"] else TERMINAL)


def _matching(
    state: ServiceState, desk: LoadedDesk, query: CaseQuery, codes: list[str]
) -> Iterator[Case]:
    wanted: list[str | None] = [*codes] if codes else [None]
    for code in wanted:
        position = 0
        while True:
            chunk = list(state.store.query(
                query.model_copy(update={"domain": code, "limit": _BATCH, "offset": position})))
            for case in chunk:
                if _visible(desk, case):
                    yield case
            position += len(chunk)
            if len(chunk) < _BATCH:
                break


@router.get("/requests.{format}", responses=_doc(view.ServiceRequest))
def list_requests(
    request: Request,
    fmt: Annotated[str, _FORMAT],
    jurisdiction_id: Annotated[str | None, _JURISDICTION] = None,
    service_request_id: Annotated[
        str | None, Query(description="ids, comma separated; overrides the other filters")
    ] = None,
    service_code: Annotated[str | None, Query(description="codes, comma separated")] = None,
    start_date: Annotated[str | None, Query(
        description="earliest requested_datetime", json_schema_extra={"format": "date-time"})
    ] = None,
    end_date: Annotated[str | None, Query(
        description="latest requested_datetime", json_schema_extra={"format": "date-time"})
    ] = None,
    status: Annotated[str | None, Query(description="open, closed (comma separated)")] = None,
    api_key: Annotated[str | None, _API_KEY] = None,
) -> Response:
    """Requests of the desk, oldest first (at most 1,000; by default the last 90 days)."""
    try:
        state, desk = _read_desk(request, fmt, jurisdiction_id, api_key)
        ids = _listed(service_request_id)
        if ids:
            cases = _by_ids(state, desk, ids)
        else:
            end = _instant(end_date, "end_date") if end_date is not None else None
            start = _instant(start_date, "start_date") if start_date is not None else None
            if start is None and end is None:
                start = desk.desk.now() - DEFAULT_WINDOW
            if start is not None and end is not None and end < start:
                raise Open311Failure(400, "end_date is before start_date")
            query = CaseQuery(
                status=_statuses(status),
                received_from=start,
                received_before=end + timedelta(microseconds=1) if end else None,
            )
            cases = []
            for case in _matching(state, desk, query, _listed(service_code)):
                cases.append(case)
                if len(cases) >= MAX_RESULTS:
                    break
            cases.sort(key=lambda c: c.received_at)
        rows = _public_views(state, desk, cases)
        return _answer(fmt, rows, "service_requests", "request")
    except Open311Failure as failure:
        return _failure(fmt, failure)


@router.get("/requests/{service_request_id}.{format}", responses=_doc(view.ServiceRequest))
def get_request(
    request: Request,
    service_request_id: str,
    fmt: Annotated[str, _FORMAT],
    jurisdiction_id: Annotated[str | None, _JURISDICTION] = None,
    api_key: Annotated[str | None, _API_KEY] = None,
) -> Response:
    """One request, as a list of one (as the standard has it); 404 for a confidential case."""
    try:
        state, desk = _read_desk(request, fmt, jurisdiction_id, api_key)
        cases = _by_ids(state, desk, [service_request_id])
        if not cases:
            raise Open311Failure(404, "service_request_id not found")
        return _answer(fmt, _public_views(state, desk, cases[:1]), "service_requests", "request")
    except Open311Failure as failure:
        return _failure(fmt, failure)


@router.get("/tokens/{token}.{format}", responses=_doc(view.TokenAnswer))
def get_token(
    request: Request,
    token: str,
    fmt: Annotated[str, _FORMAT],
    jurisdiction_id: Annotated[str | None, _JURISDICTION] = None,
    api_key: Annotated[str | None, _API_KEY] = None,
) -> Response:
    """The request id a POST's token stands for."""
    try:
        state, desk = _read_desk(request, fmt, jurisdiction_id, api_key)
        case = state.store.find_external("open311", token) if token else None
        if case is None or not _visible(desk, case):
            raise Open311Failure(404, "token not found")
        row = view.TokenAnswer(service_request_id=case.id, token=token).model_dump()
        return _answer(fmt, [row], "service_requests", "request")
    except Open311Failure as failure:
        return _failure(fmt, failure)


# --- requests: create -------------------------------------------------------------------------


def _draft(
    desk: LoadedDesk, token: str, fields: dict[str, str | None], now: datetime
) -> dict[str, Any]:
    code = fields["service_code"]
    description = (fields["description"] or "").strip()
    name = " ".join(p for p in (fields["first_name"], fields["last_name"]) if p) or None
    phone = fields["phone"] or None
    facts = {k: fields[k] for k in ("address_id", "lat", "long", "media_url", "email",
                                    "device_id", "account_id") if fields.get(k)}
    draft: dict[str, Any] = {
        "external_id": token,
        "channel": "open311",
        "received_at": now.isoformat(),
        "title": _domains(desk).get(code or "", code or ""),
        "content": description,
        "domain": code,
        "tags": [f"{DESK_TAG}{desk.id}"],
        "facts": {view.FACTS_KEY: facts},
    }
    if name or phone:
        draft["requester"] = {"name": name, "phone": phone}
    if fields["address_string"]:
        draft["location"] = {"address": fields["address_string"]}
    return draft


def _check_post(desk: LoadedDesk, fields: dict[str, str | None]) -> None:
    code = fields["service_code"]
    if not code:
        raise Open311Failure(400, "service_code is required")
    if code not in _domains(desk):
        raise Open311Failure(404, "service_code not found")
    located = fields["address_string"] or fields["address_id"] or (
        fields["lat"] and fields["long"])
    if not located:
        raise Open311Failure(400, "a location is required: lat and long, address_string or "
                             "address_id")
    for name in ("lat", "long"):
        value = fields[name]
        if value and view.number(value) is None:
            raise Open311Failure(400, f"{name} is not a number")
    if not (fields["description"] or "").strip() and not fields["media_url"]:
        raise Open311Failure(400, "description is required")
    if len(fields["description"] or "") > MAX_DESCRIPTION:
        raise Open311Failure(400, f"description is longer than {MAX_DESCRIPTION} characters")


_FORM_FIELDS = (
    "service_code", "lat", "long", "address_string", "address_id", "email", "device_id",
    "account_id", "first_name", "last_name", "phone", "description", "media_url",
)


#: The form as the standard describes it: service_code, a location (lat and long, an
#: address_string or an address_id) and a description (or a photo) are required.
_POST_FORM: dict[str, Any] = {
    "title": "Open311ServiceRequestForm",
    "description": "the GeoReport v2 form: api_key, service_code, a location (lat and long, "
    "address_string or address_id), a description or media_url; requester fields optional",
    "type": "object",
    "properties": {
        "api_key": {"type": "string", "minLength": 1},
        "jurisdiction_id": {"type": "string"},
        "service_code": {"type": "string", "minLength": 1},
        "lat": {"type": "string", "pattern": view.NUMBER},
        "long": {"type": "string", "pattern": view.NUMBER},
        "address_string": {"type": "string", "pattern": r"\S"},
        "address_id": {"type": "string", "pattern": r"\S"},
        **{name: {"type": "string"} for name in (
            "email", "device_id", "account_id", "first_name", "last_name", "phone")},
        "description": {"type": "string", "pattern": r"\S", "maxLength": 20000},
        "media_url": {"type": "string", "pattern": r"\S"},
    },
    "required": ["api_key", "service_code"],
    "allOf": [
        {"anyOf": [{"required": ["lat", "long"]}, {"required": ["address_string"]},
                   {"required": ["address_id"]}]},
        {"anyOf": [{"required": ["description"]}, {"required": ["media_url"]}]},
    ],
}


@router.post(
    "/requests.{format}",
    status_code=201,
    responses=_doc(view.CreatedRequest, status=201),
    openapi_extra={"requestBody": {"required": True, "content": {
        "application/x-www-form-urlencoded": {"schema": _POST_FORM}}}},
)
def create_request(
    request: Request,
    fmt: Annotated[str, _FORMAT],
    api_key: Annotated[str | None, Form(description="an API key whose role may receive")] = None,
    jurisdiction_id: Annotated[str | None, Form()] = None,
    service_code: Annotated[str | None, Form()] = None,
    lat: Annotated[str | None, Form()] = None,
    long: Annotated[str | None, Form()] = None,
    address_string: Annotated[str | None, Form()] = None,
    address_id: Annotated[str | None, Form()] = None,
    email: Annotated[str | None, Form()] = None,
    device_id: Annotated[str | None, Form()] = None,
    account_id: Annotated[str | None, Form()] = None,
    first_name: Annotated[str | None, Form()] = None,
    last_name: Annotated[str | None, Form()] = None,
    phone: Annotated[str | None, Form()] = None,
    description: Annotated[str | None, Form()] = None,
    media_url: Annotated[str | None, Form()] = None,
) -> Response:
    """Create a request: a case on channel ``open311``, decided and with its clocks started."""
    local = locals()
    fields = {name: local[name] for name in _FORM_FIELDS}
    try:
        _format(fmt)
        state = service(request)
        desk = _jurisdiction(state, jurisdiction_id)
        principal = _key_principal(state, api_key)
        if not allows(principal.role, "case.create") or not principal.reaches(desk.id):
            _denied(request, principal, "case.create", desk.id)  # audited, as in /v1
            if not allows(principal.role, "case.create"):
                raise Open311Failure(403, "this api_key may not create requests")
            raise Open311Failure(404, "jurisdiction_id not found")
        _check_post(desk, fields)
        remote = request.client.host if request.client else None
        call = DeskCall(state, principal, desk.id, desk.desk, remote)
        token = f"o311-{secrets.token_hex(10)}"
        try:
            case, _created = _created_case(
                call, _draft(desk, token, fields, desk.desk.now()), {"via": "open311"}
            )
        except (CaseValidationError, ApiError) as exc:
            call.audit("receive_case", None, "failed",
                       {"error": type(exc).__name__, "via": "open311"})
            if isinstance(exc, ApiError):
                raise _from_api_error(exc) from None
            raise Open311Failure(400, str(exc)) from None
        row = view.CreatedRequest(
            service_request_id=case["id"], token=token, service_notice=None, account_id=None
        ).model_dump()
        return _answer(fmt, [row], "service_requests", "request", 201)
    except Open311Failure as failure:
        return _failure(fmt, failure)


# --- anything else under /open311/v2 ----------------------------------------------------------


@router.api_route(
    "/{anything:path}",
    methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
    include_in_schema=False,
)
def unmatched(request: Request, anything: str) -> Response:
    """A path no resource has (404) or a method the resource does not take (405, with every
    method it does take in ``Allow``), in the standard's error shape rather than /v1's.
    Registered last, so it answers only what no other Open311 route matched."""
    fmt = "xml" if anything.endswith(".xml") else "json"
    allowed: set[str] = set()
    for route in router.routes:
        if getattr(route, "endpoint", None) is unmatched:
            continue
        match, _ = route.matches(request.scope)
        if match is Match.PARTIAL:
            allowed |= set(getattr(route, "methods", None) or ())
    if allowed:
        headers = {"Allow": ", ".join(sorted(allowed))}
        failure = Open311Failure(405, f"method not allowed here: use {headers['Allow']}",
                                 headers)
    else:
        failure = Open311Failure(404, "no such resource")
    return _failure(fmt, failure)
