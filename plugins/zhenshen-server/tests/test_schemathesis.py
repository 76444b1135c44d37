"""schemathesis against the live service: no 5xx, and every response as the OpenAPI document says.

A real ``zhenshen serve`` on a loopback port (SQLite store, one desk with the reference pack),
an admin key, one case received through each API so that the by-id operations reach the code
behind them, and the schemathesis command line over ``/openapi.json`` with a bounded number
of examples (deterministic, so a failure is reproduced by running the test again).
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
CONFORMANCE = ",".join([
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
])


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
            "[parameters]\n"
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


def test_every_response_conforms_and_none_is_5xx(live: tuple[str, Path]) -> None:
    url, config = live
    run = _schemathesis(config, url, "--checks", CONFORMANCE)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    tested = re.search(r"Tested: (\d+)", run.stdout)
    assert tested is not None and int(tested.group(1)) >= 20  # /v1 and Open311, every one


def test_open311_passes_every_check(live: tuple[str, Path]) -> None:
    """Open311 on its own with every check (valid data accepted, invalid refused, 405 with
    the right Allow, unsupported methods), as a client library expects."""
    url, config = live
    run = _schemathesis(config, url, "--checks", "all", "--include-path-regex", "^/open311/")
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert "Tested: 6" in run.stdout  # five resources, requests with GET and POST
