"""The embedding example, driven through its WSGI interface in-process (no sockets)."""

from __future__ import annotations

import importlib.util
import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def web_service() -> Any:
    pytest.importorskip("zhenshen_chengdu_gaoxin", reason="needs the reference pack plugin "
                        "(installed by make test)")
    spec = importlib.util.spec_from_file_location("web_service", ROOT / "examples/web_service.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["web_service"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def app(tmp_path: Path, web_service: Any) -> Any:
    return web_service.make_app(f"sqlite:///{tmp_path / 'web.db'}")


def call(app: Any, method: str, path: str, body: Any = None) -> tuple[str, Any]:
    raw = b"" if body is None else (body if isinstance(body, bytes) else
                                    json.dumps(body, ensure_ascii=False).encode())
    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "CONTENT_LENGTH": str(len(raw)),
               "wsgi.input": io.BytesIO(raw)}
    seen: dict[str, str] = {}
    out = b"".join(app(environ, lambda status, headers: seen.setdefault("status", status)))
    return seen["status"], json.loads(out)


ORDER = {"external_id": "GX-WEB-1", "channel": "hotline_12345",
         "received_at": "2026-03-02T09:00:00+08:00", "title": "无法经营",
         "content": "取得执照后无法经营", "domain": "market_entry_operation",
         "requester": {"phone": "13800002222"}}


def test_post_get_history_and_events(app: Any) -> None:
    status, case = call(app, "POST", "/cases", ORDER)
    assert status.startswith("201") and case["severity"] and case["decision"]["fired"]
    assert case["requester"]["phone"] == "138****2222"
    again, same = call(app, "POST", "/cases", ORDER)
    assert again.startswith("200") and same["id"] == case["id"]
    status, fetched = call(app, "GET", f"/cases/{case['id']}")
    assert status.startswith("200") and fetched["version"] == case["version"]
    status, moved = call(app, "POST", f"/cases/{case['id']}/events", {"event": "accept"})
    assert status.startswith("200") and moved["status"] == "accepted"
    status, history = call(app, "GET", f"/cases/{case['id']}/history")
    assert history[0]["type"] == "receive" and history[-1]["type"] == "accept"


def test_errors_are_json_with_the_right_status(app: Any) -> None:
    assert call(app, "POST", "/cases", b"{oops")[0].startswith("400")
    status, body = call(app, "POST", "/cases", dict(ORDER, enterprise={"name": "x", "uscc": "1"}))
    assert status.startswith("400") and "uscc" in body["error"]
    assert call(app, "GET", "/cases/NOPE")[0].startswith("404")
    _, case = call(app, "POST", "/cases", ORDER)
    status, body = call(app, "POST", f"/cases/{case['id']}/events", {"event": "confirm"})
    assert status.startswith("422") and "allowed events" in body["error"]


NOVEMBER = dict(ORDER, external_id="GX-WEB-NOV", received_at="2026-11-23T09:30:00+08:00")


def test_a_case_whose_deadline_passes_the_notices_is_decided_at_once(app: Any) -> None:
    """The 30-working-day clock ends in 2027, past the published data: the desk decides on
    the provisional calendar — 201 with the decision, then 200 with the same decided case."""
    status, case = call(app, "POST", "/cases", NOVEMBER)
    assert status.startswith("201"), case
    assert case["severity"] == "S3" and case["clocks"]["resolve"]["provisional"] is True
    again, same = call(app, "POST", "/cases", NOVEMBER)
    assert again.startswith("200") and same["version"] == case["version"]
    assert same["decision"] == case["decision"]


def test_a_strict_desk_answers_503_and_stores_nothing(tmp_path: Path, web_service: Any) -> None:
    strict = web_service.make_app(f"sqlite:///{tmp_path / 'strict.db'}", calendar_policy="strict")
    for _ in range(2):
        status, body = call(strict, "POST", "/cases", NOVEMBER)
        assert status.startswith("503") and body["type"] == "calendar", body
        assert strict.desk.store.count() == 0


def test_only_person_events_and_the_authenticated_actor(app: Any) -> None:
    """Issue 15 item 2: the old example fired any event (``decide`` with a made-up severity,
    ``clock_update`` moving a deadline) under any ``actor`` the body named."""
    _, case = call(app, "POST", "/cases", ORDER)
    forged = {"event": "decide", "payload": {"decision": {}, "severity": "S4"},
              "actor": "领导小组组长"}
    status, body = call(app, "POST", f"/cases/{case['id']}/events", forged)
    assert status.startswith("422") and "accept" in body["error"], body
    status, events = call(app, "GET", "/events")
    assert "decide" not in events["events"] and "accept" in events["events"]
    status, _ = call(app, "POST", f"/cases/{case['id']}/events",
                         {"event": "accept", "actor": "领导小组组长"})
    assert status.startswith("200")
    _, history = call(app, "GET", f"/cases/{case['id']}/history")
    assert history[-1]["type"] == "accept" and history[-1]["actor"] == "api"
    assert app.desk.get(case["id"]).severity == case["severity"]


def _serve(app: Any) -> Any:
    import threading
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    server = make_server("127.0.0.1", 0, app, handler_class=Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _raw(port: int, head: str, body: bytes) -> tuple[int, dict[str, Any]]:
    import socket
    import threading

    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:

        def send() -> None:  # the server may answer and close before the body is all sent
            try:
                sock.sendall(head.encode() + b"\r\n" + body)
                sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass

        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        data = b""
        try:
            while chunk := sock.recv(65536):
                data += chunk
        except ConnectionResetError:
            pass
        sender.join(20)
    status = int(data.split(b" ", 2)[1])
    return status, json.loads(data.split(b"\r\n\r\n", 1)[1])


@pytest.mark.parametrize("length", ["-1", "abc", " 99999999999999999999"])
def test_a_lying_length_never_bypasses_the_body_limit(app: Any, length: str) -> None:
    """Issue 15 item 2: ``Content-Length: -1`` read the whole body and stored a 20 MB case."""
    huge = json.dumps(dict(ORDER, external_id="GX-HUGE", content="无" * 3_000_000)).encode()
    server = _serve(app)
    try:
        head = (f"POST /cases HTTP/1.0\r\nHost: x\r\nContent-Type: application/json\r\n"
                f"Content-Length: {length}\r\n")
        status, body = _raw(server.server_address[1], head, huge)
    finally:
        server.shutdown()
        server.server_close()
    assert status in (400, 413), body
    assert app.desk.store.count() == 0


def test_a_short_length_reads_only_what_it_announces(app: Any) -> None:
    body = json.dumps(ORDER).encode()
    server = _serve(app)
    try:
        head = f"POST /cases HTTP/1.0\r\nHost: x\r\nContent-Length: {len(body)}\r\n"
        status, case = _raw(server.server_address[1], head, body + b" " * 5_000_000)
        big = f"POST /cases HTTP/1.0\r\nHost: x\r\nContent-Length: {2_000_000}\r\n"
        too_big, refused = _raw(server.server_address[1], big, b"{" + b" " * 1_999_999)
    finally:
        server.shutdown()
        server.server_close()
    assert status == 201 and case["external_id"] == "GX-WEB-1"
    assert too_big == 413 and "1 MB" in refused["error"]
