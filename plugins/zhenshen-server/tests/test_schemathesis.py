"""schemathesis against the live service: every check, on every operation of the document.

A real ``zhenshen serve`` on a loopback port (SQLite store, one desk with the reference pack),
an admin key, one case received through each API so that the by-id operations reach the code
behind them, and the schemathesis command line over ``/openapi.json`` with a bounded number
of examples (deterministic, so a failure is reproduced by running the test again).

``--checks all``: no 5xx; status, content type, headers and body as the document says; 405
with ``Allow`` for a method a path does not have; a request the schema refuses is refused; a
request the schema allows is accepted, where the schema can say it all. Where it cannot,
the configuration below says which declared answer a well-formed request may also get, and
why (each is in the document, in that answer's description):

* ``GET /v1/deadline``: 400 for days outside the calendar's data, which depends on the
  policy and on which State Council notices are published;
* ``POST /v1/desks/{desk}/cases`` and ``/decisions``: 400 for what the case model checks
  beyond the schema (a 统一社会信用代码's check digit, one lead department); the received
  window, which moves with the clock, is kept out of play by sending ``received_at`` now;
* ``POST .../events``: 422 for an event the case's state does not allow now.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from zhenshen_server_testkit import make_key, start_server

from zhenshen_core.model.case import SHANGHAI

BIN = Path(sys.executable).parent
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429"]  # schemathesis's default
BEYOND_THE_SCHEMA = [  # (method, path, the declared status a well-formed request may get)
    ("GET", "/v1/deadline", "400"),
    ("POST", "/v1/desks/{desk}/cases", "400"),
    ("POST", "/v1/desks/{desk}/decisions", "400"),
    ("POST", "/v1/desks/{desk}/cases/{case_id}/events", "422"),
]


def _beyond_the_schema() -> str:
    return "".join(
        f'[[operations]]\ninclude-name = "{method} {path}"\n'
        f"checks.positive_data_acceptance.expected-statuses = "
        f"{[*ACCEPTED, status]!r}\n".replace("'", '"')
        for method, path, status in BEYOND_THE_SCHEMA
    )


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """(base URL, schemathesis config file) of a running service with data in it."""
    tmp = tmp_path_factory.mktemp("schemathesis")
    store_url = f"sqlite:///{tmp / 'desk.db'}"
    _, key = make_key(store_url, "admin", name="schemathesis", pii=True)
    server = start_server(
        store_url, tmp, ["--desk", "default=cn.chengdu.gaoxin", "--sweep-every", "0"]
    )
    url = server.url
    try:
        auth = {"Authorization": f"Bearer {key}"}
        case = httpx.post(f"{url}/v1/desks/default/cases", headers=auth, timeout=30, json={
            "external_id": "ST-1", "channel": "hotline_12345",
            "received_at": datetime.now(SHANGHAI).isoformat(),
            "content": "取得执照后无法经营", "domain": "market_entry_operation"}).json()
        (created,) = httpx.post(f"{url}/open311/v2/requests.json", timeout=30, data={
            "api_key": key, "service_code": "financing", "description": "融资难",
            "lat": "30.57", "long": "104.06"}).json()
        config = tmp / "schemathesis.toml"
        config.write_text(
            f'headers = {{ Authorization = "Bearer {key}" }}\n'
            "[generation]\nmax-examples = 12\ndeterministic = true\n"
            + _beyond_the_schema()
            + "[parameters]\n"
            f'"body.received_at" = "{datetime.now(SHANGHAI).isoformat()}"\n'
            '"path.desk" = "default"\n'
            f'"path.case_id" = "{case["id"]}"\n'
            f'"path.service_request_id" = "{created["service_request_id"]}"\n'
            f'"path.token" = "{created["token"]}"\n'
            f'"body.api_key" = "{key}"\n'
            '"path.service_code" = "financing"\n',
            encoding="utf-8",
        )
        yield url, config
    finally:
        server.stop()


def _schemathesis(config: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "schemathesis"), "--config-file", str(config), "run", f"{url}/openapi.json",
         "--workers", "1", "--phases", "examples,coverage,fuzzing",
         "--no-color", *args],
        capture_output=True, text=True, timeout=120, cwd=config.parent,
        env={**os.environ, "SCHEMATHESIS_HOOKS": ""},
    )


def test_every_check_passes_on_every_operation(live: tuple[str, Path]) -> None:
    """The whole API (/v1, Open311, operations) with every check schemathesis has."""
    url, config = live
    run = _schemathesis(config, url, "--checks", "all")
    assert run.returncode == 0, run.stdout[-8000:] + run.stderr[-2000:]
    tested = re.search(r"Tested: (\d+)", run.stdout)
    assert tested is not None and int(tested.group(1)) >= 20, run.stdout[-3000:]
