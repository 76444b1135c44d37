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
