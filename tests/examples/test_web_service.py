"""The embedding example: a host FastAPI app with the desk service mounted under /desk, run by
uvicorn on a free loopback port."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("zhenshen_chengdu_gaoxin", reason="needs the reference pack plugin "
                    "(installed by make test)")
pytest.importorskip("zhenshen_server", reason="needs the zhenshen-server plugin "
                    "(installed by make test)")

import httpx
from zhenshen_server_testkit import free_port, make_key

ROOT = Path(__file__).resolve().parents[2]

ORDER = {"external_id": "GX-WEB-1", "channel": "hotline_12345",
         "received_at": "2026-03-02T09:00:00+08:00", "title": "无法经营",
         "content": "取得执照后无法经营", "domain": "market_entry_operation",
         "requester": {"phone": "13800002222"}}
NOVEMBER = dict(ORDER, external_id="GX-WEB-NOV", received_at="2026-11-23T09:30:00+08:00")


def _run(tmp_path: Path, *args: str) -> Iterator[tuple[str, str]]:
    store = f"sqlite:///{tmp_path / 'web.db'}"
    key = make_key(store, "desk")[1]
    port = free_port()
    log = (tmp_path / "example.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "examples/web_service.py"), "--store", store, "--port",
         str(port), *args], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(url + "/", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield url, key
    finally:
        process.terminate()
        process.wait(30)
        log.close()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, str]]:
    yield from _run(tmp_path)


def _post(url: str, key: str, order: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{url}/desk/v1/desks/default/cases", json=order,
                      headers={"Authorization": f"Bearer {key}"}, timeout=30)


def test_the_host_keeps_its_routes_and_the_desk_answers_under_desk(
    served: tuple[str, str],
) -> None:
    url, key = served
    assert httpx.get(url + "/").json()["portal"] == "企业服务"
    assert httpx.get(url + "/desk/v1/desks/default/cases").status_code == 401
    first = _post(url, key, ORDER)
    assert first.status_code == 201 and first.json()["decision"]["fired"]
    assert first.json()["requester"]["phone"] == "138****2222"
    again = _post(url, key, ORDER)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    late = _post(url, key, NOVEMBER)  # the resolve clock ends in 2027, past the notices
    assert late.status_code == 201 and late.json()["clocks"]["resolve"]["provisional"] is True


def test_a_strict_desk_answers_503_and_stores_nothing(tmp_path: Path) -> None:
    for url, key in _run(tmp_path, "--calendar-policy", "strict"):
        for _ in range(2):
            response = _post(url, key, NOVEMBER)
            assert response.status_code == 503, response.text
            assert response.json()["error"]["type"] == "calendar"
        listed = httpx.get(f"{url}/desk/v1/desks/default/cases",
                           headers={"Authorization": f"Bearer {key}"}).json()
        assert listed["items"] == []
