"""Embedding the desk in a web service: a small WSGI app on the standard library.

    python examples/web_service.py --store sqlite:///out/web.db --port 8080

    POST /cases              a JSON work order → 201 with the stored case and its decision
                             (the same work order again → 200, the same case: idempotent)
    GET  /cases/<id>         the case (phone numbers masked)
    GET  /cases/<id>/history the append-only event history
    POST /cases/<id>/events  {"event": "accept", "payload": {...}, "expected_version": 3}
                             → the moved case (only the events a person may request)
    GET  /events             the events a person may request
    POST /sweep              raise reminders and 督办 notices for due clocks

Requests go through ``Desk.transition``: an event only the desk records (``decide``,
``clock_update``, ``supervise``, ``update_facts``) is refused with 422, and the actor recorded
is the authenticated user the server puts in ``REMOTE_USER`` (run the app behind a proxy or
server that authenticates), ``api`` without one, never an ``actor`` the body names. A body is
read up to 1 MB whatever its ``Content-Length`` says: a larger one is 413, a missing or
malformed length (``-1``) is 400, and only the bytes the length announces are read.

Errors come back as JSON ``{"error": "...", "type": "..."}`` with 400 (bad input), 404, 409
(a concurrent change: reload and retry), 413 (a body over 1 MB), 422 (an event not allowed now,
or not a person's to request) or 503 (with ``--calendar-policy strict``: a deadline past the
published holiday notices; nothing was stored, send it again once the notice is installed). The
app holds one ``Desk``; run several processes against PostgreSQL for more throughput.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any
from wsgiref.simple_server import make_server

from zhenshen_core import (
    PERSON_EVENTS,
    CaseNotFoundError,
    CaseValidationError,
    ConcurrencyError,
    Desk,
    LifecycleError,
    PluginConfig,
    PluginHost,
)
from zhenshen_core.deadlines import CalendarPolicy, CalendarRangeError, national_calendar
from zhenshen_core.model.case import SHANGHAI
from zhenshen_core.storage import open_store

StartResponse = Callable[[str, list[tuple[str, str]]], Any]

STATUS = {200: "200 OK", 201: "201 Created", 400: "400 Bad Request", 404: "404 Not Found",
          405: "405 Method Not Allowed", 409: "409 Conflict", 413: "413 Content Too Large",
          422: "422 Unprocessable Entity", 503: "503 Service Unavailable"}
MAX_BODY = 1_000_000


class BodyTooLarge(ValueError):
    """A request body over MAX_BODY bytes (413)."""


class DeskApp:
    def __init__(self, desk: Desk) -> None:
        self.desk = desk

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        try:
            code, body = self.route(environ)
        except CaseValidationError as exc:
            code, body = 400, {"error": str(exc), "type": "validation", "details": exc.errors}
        except CaseNotFoundError as exc:
            code, body = 404, {"error": str(exc), "type": "not_found"}
        except ConcurrencyError as exc:
            code, body = 409, {"error": str(exc), "type": "conflict"}
        except LifecycleError as exc:
            code, body = 422, {"error": str(exc), "type": "lifecycle"}
        except CalendarRangeError as exc:  # a strict desk: nothing stored, retry with the notice
            code, body = 503, {"error": str(exc), "type": "calendar"}
        except BodyTooLarge as exc:
            code, body = 413, {"error": str(exc), "type": "too_large"}
        except ValueError as exc:
            code, body = 400, {"error": str(exc), "type": "bad_request"}
        data = json.dumps(body, ensure_ascii=False, default=str).encode("utf-8")
        start_response(STATUS[code], [("Content-Type", "application/json; charset=utf-8"),
                                      ("Content-Length", str(len(data)))])
        return [data]

    def route(self, environ: dict[str, Any]) -> tuple[int, Any]:
        method, parts = environ["REQUEST_METHOD"], environ["PATH_INFO"].strip("/").split("/")
        if parts == ["cases"] and method == "POST":
            order = _json_body(environ)
            before = self.desk.store.count()
            case = self.desk.receive(order, actor="api")
            created = self.desk.store.count() > before
            return (201 if created else 200), _public(case)
        if len(parts) == 2 and parts[0] == "cases" and method == "GET":
            return 200, _public(self.desk.get(parts[1]))
        if len(parts) == 3 and parts[0] == "cases" and parts[2] == "history" and method == "GET":
            return 200, [json.loads(e.model_dump_json()) for e in self.desk.history(parts[1])]
        if len(parts) == 3 and parts[0] == "cases" and parts[2] == "events" and method == "POST":
            body = _json_body(environ)
            payload, version = body.get("payload") or {}, body.get("expected_version")
            if not isinstance(payload, dict):
                raise ValueError("payload must be a JSON object")
            if version is not None and (type(version) is not int or version < 1):
                raise ValueError("expected_version must be a positive integer")
            new = self.desk.transition(
                parts[1], str(body.get("event", "")), payload,
                actor=environ.get("REMOTE_USER") or "api",  # who is authenticated, not the body
                expected_version=version, at=datetime.now(SHANGHAI))
            return 200, _public(new)
        if parts == ["events"] and method == "GET":
            return 200, {"events": sorted(PERSON_EVENTS)}
        if parts == ["sweep"] and method == "POST":
            result = self.desk.sweep()
            return 200, {"alerts": [a.__dict__ for a in result.alerts],
                         "conflicts": result.conflicts}
        return 405 if parts and parts[0] in ("cases", "sweep", "events") else 404, {
            "error": f"no route for {method} /{'/'.join(parts)}", "type": "not_found"}


def _json_body(environ: dict[str, Any]) -> dict[str, Any]:
    """The request's JSON object, from at most MAX_BODY bytes actually read: the length header
    is checked (digits only), and the read is bounded whatever it says."""
    header = str(environ.get("CONTENT_LENGTH") or "0").strip()
    if not header.isascii() or not header.isdigit():
        raise ValueError(f"Content-Length must be a number of bytes, got {header[:20]!r}")
    length = int(header)
    if length > MAX_BODY:
        raise BodyTooLarge(f"request body larger than 1 MB ({length:,} bytes announced)")
    raw = environ["wsgi.input"].read(min(length, MAX_BODY + 1)) if length else b""
    if len(raw) > MAX_BODY:
        raise BodyTooLarge("request body larger than 1 MB")
    try:
        data = json.loads(raw or b"{}")
    except json.JSONDecodeError as exc:
        msg = f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        raise ValueError(msg) from None
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    return data


def _public(case: Any) -> dict[str, Any]:
    return json.loads(case.model_dump_json())  # type: ignore[no-any-return]


def make_app(store_url: str, pack: str = "cn.chengdu.gaoxin",
             calendar_policy: str = "provisional") -> DeskApp:
    host = PluginHost(PluginConfig.from_env())
    from zhenshen_core.rules import load_pack

    resolved = load_pack(pack, plugin_packs={k: v.path for k, v in host.rule_packs().items()})
    # The desk's own default is the provisional calendar; strict is asked for explicitly.
    strict = CalendarPolicy(calendar_policy) is CalendarPolicy.STRICT
    calendar = national_calendar(CalendarPolicy.STRICT) if strict else None
    return DeskApp(Desk(open_store(store_url, host), pack=resolved, host=host, calendar=calendar))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default="sqlite:///zhenshen-web.db")
    parser.add_argument("--pack", default="cn.chengdu.gaoxin")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--calendar-policy", choices=["provisional", "strict"],
                        default="provisional", help="past the published holiday notices: "
                        "decide on the law's holidays and flag the clocks, or refuse (503)")
    args = parser.parse_args()
    app = make_app(args.store, args.pack, args.calendar_policy)
    with make_server("127.0.0.1", args.port, app) as server:
        print(f"serving the desk on http://127.0.0.1:{args.port}/cases")
        server.serve_forever()


if __name__ == "__main__":
    main()
