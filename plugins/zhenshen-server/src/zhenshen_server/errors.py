"""The one error shape of the service, ``{"error": {"type", "message", "details"}}``.

Every failure a route raises becomes an :class:`ApiError` or is mapped to one here; anything
else is a 500 with a fixed message (the exception is logged, never sent: no stack trace in any
response).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from zhenshen_core.deadlines import CalendarRangeError
from zhenshen_core.errors import (
    CaseNotFoundError,
    CaseValidationError,
    ConcurrencyError,
    DeskOnlyEventError,
    GuardError,
    IllegalTransitionError,
    LifecycleError,
    StoreUnavailableError,
)
from zhenshen_core.privacy import mask_document

LOG = logging.getLogger("zhenshen_server")


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        type_: str,
        message: str,
        details: Sequence[Any] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.type, self.message = status, type_, message
        self.details, self.headers = list(details), headers


def body(type_: str, message: str, details: Sequence[Any] = ()) -> dict[str, Any]:
    return {"error": {"type": type_, "message": message, "details": list(details)}}


def error_response(exc: ApiError) -> JSONResponse:
    return JSONResponse(
        body(exc.type, exc.message, exc.details), status_code=exc.status, headers=exc.headers
    )


def not_found(what: str = "no such case") -> ApiError:
    return ApiError(404, "not_found", what)


def unauthorized(message: str) -> ApiError:
    return ApiError(
        401,
        "unauthorized",
        message,
        headers={"WWW-Authenticate": 'Bearer realm="zhenshen", error="invalid_token"'},
    )


def forbidden(message: str) -> ApiError:
    return ApiError(403, "forbidden", message)


def _field(loc: Sequence[Any]) -> str:
    """``received_at`` for a body's field, ``start`` for a query parameter: the name a client
    sent, without FastAPI's ``body.`` / ``query.`` prefix."""
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    return ".".join(parts)


def _located(errors: Sequence[Any]) -> list[dict[str, Any]]:
    out = []
    for err in errors:
        if isinstance(err, dict):
            loc = err.get("loc") or ()
            out.append(
                {
                    "loc": [str(p) for p in loc],
                    "field": _field(loc),
                    "message": str(err.get("msg", "")),
                    "type": str(err.get("type", "")),
                }
            )
    return out


def _allowed_methods(request: Request) -> list[str]:
    """Every method the OpenAPI document has for this path (Starlette's 405 names only the
    first route's, where a path has a GET and a POST route)."""
    path = request.scope.get("path", "")
    root = request.scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root):]
    methods: set[str] = set()
    for template, operations in request.app.openapi().get("paths", {}).items():
        pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, path):
            methods.update(m.upper() for m in operations)
    return sorted(methods)


def _stated(kind: str, status: int) -> Callable[[Request, Exception], Awaitable[JSONResponse]]:
    """A handler answering ``status`` with the error's own message (and ``allowed``, if any)."""

    async def handler(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse(body(kind, str(exc), getattr(exc, "allowed", ())), status_code=status)

    return handler


def install(app: FastAPI) -> None:
    """Map library errors and framework errors to the one shape."""

    @app.exception_handler(ApiError)
    async def _api(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        kinds = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}
        kind = kinds.get(exc.status_code, "http")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(_allowed_methods(request))
        return JSONResponse(body(kind, str(exc.detail)), status_code=exc.status_code,
                            headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        details = _located(exc.errors())
        return JSONResponse(body("invalid", "invalid request", details), status_code=400)

    @app.exception_handler(CaseValidationError)
    async def _case(request: Request, exc: CaseValidationError) -> JSONResponse:
        details = _located(exc.errors) or [{"loc": [], "field": "", "message": str(exc)}]
        # An error never needs personal data: masked for every caller.
        return JSONResponse(mask_document(body("invalid", str(exc), details)), status_code=400)

    @app.exception_handler(CaseNotFoundError)
    async def _missing(request: Request, exc: CaseNotFoundError) -> JSONResponse:
        return JSONResponse(body("not_found", "no such case"), status_code=404)

    # Errors whose message is the answer: (error, type, status); ``allowed`` (the events that
    # would be accepted) is the details where the error carries it.
    for error, kind, status in (
        (ConcurrencyError, "conflict", 409),
        (IllegalTransitionError, "event_not_allowed", 422),
        (GuardError, "event_not_allowed", 422),
        (DeskOnlyEventError, "event_not_allowed", 422),
        (LifecycleError, "event_not_allowed", 422),
    ):
        app.add_exception_handler(error, _stated(kind, status))

    @app.exception_handler(StoreUnavailableError)
    async def _unavailable(request: Request, exc: StoreUnavailableError) -> JSONResponse:
        return JSONResponse(
            body("unavailable", "the store is unavailable; try again"),
            status_code=503,
            headers={"Retry-After": "1"},
        )

    @app.exception_handler(CalendarRangeError)
    async def _calendar(request: Request, exc: CalendarRangeError) -> JSONResponse:
        if exc.day < exc.first_known:  # before any calendar data: the request is wrong
            return JSONResponse(body("invalid", str(exc), [{"loc": [], "field": "",
                                                            "message": str(exc)}]),
                                status_code=400)
        # A strict desk past the published holiday notices: nothing was stored; send the
        # same request again once the notice is installed.
        return JSONResponse(body("calendar", str(exc)), status_code=503)

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        LOG.exception("internal error on %s %s", request.method, request.url.path)
        return JSONResponse(body("internal", "internal error"), status_code=500)


class ErrorDetail(BaseModel):
    type: str = Field(description="a stable code: invalid, unauthorized, forbidden, not_found, "
                      "conflict, event_not_allowed, too_large, …")
    message: str
    details: list[Any] = Field(description="located problems (loc, field, message) or the "
                               "events allowed now")


class ErrorBody(BaseModel):
    """Every error response of the service."""

    error: ErrorDetail


def _err(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


#: The answers every authenticated route can give, for the OpenAPI document.
AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _err("invalid request; details name each field"),
    401: _err("no or bad credentials (WWW-Authenticate: Bearer)"),
    403: _err("the caller's role may not call this"),
    404: _err("no such desk or case in the caller's scope"),
    413: _err("body over the limit"),
}


def openapi_without_422(app: FastAPI) -> dict[str, Any]:
    """FastAPI documents its 422 for invalid requests; this service answers those 400."""
    if app.openapi_schema is not None:
        return app.openapi_schema
    from fastapi.openapi.utils import get_openapi

    schema = get_openapi(title=app.title, version=app.version, description=app.description,
                         routes=app.routes)
    for methods in schema.get("paths", {}).values():
        for op in methods.values():
            responses = op.get("responses", {})
            if responses.get("422", {}).get("description") == "Validation Error":
                del responses["422"]
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    _case_draft_schema(schema, components)
    app.openapi_schema = schema
    return schema


#: The routes whose body is a work order, documented as the library's case model.
#: The body each of them is: a case, or a partial case as ``zhenshen eval`` reads it.
CASE_BODY_MODELS = {"/v1/desks/{desk}/cases": "Case", "/v1/desks/{desk}/decisions": "CaseDraft"}


def _case_draft_schema(schema: dict[str, Any], components: dict[str, Any]) -> None:
    """Bodies that are work orders point at ``Case`` (what ``zhenshen schema case`` prints);
    the decisions body at ``CaseDraft``, the case with ``zhenshen eval``'s conveniences."""
    from zhenshen_core import Case
    from zhenshen_core.model.partial import draft_json_schema

    refs = "#/components/schemas/{model}"
    case = Case.model_json_schema(ref_template=refs)
    draft = draft_json_schema(ref_template=refs)
    components.update(case.pop("$defs", {}))
    components.update(draft.pop("$defs", {}))
    components["Case"], components["CaseDraft"] = case, draft
    for path, model in CASE_BODY_MODELS.items():
        op = schema.get("paths", {}).get(path, {}).get("post")
        if op is None:
            continue
        media = op.get("requestBody", {}).get("content", {}).get("application/json")
        if media is not None:
            description = media.get("schema", {}).get("description", "")
            media["schema"] = {"$ref": f"#/components/schemas/{model}",
                               "description": description}
