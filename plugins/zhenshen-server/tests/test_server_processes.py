"""The service as a process: SIGTERM, SIGHUP, several workers on PostgreSQL, the sweep."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from zhenshen_server_testkit import Server, make_key, start_server

pytest.importorskip("zhenshen_chengdu_gaoxin", reason="needs the reference pack plugin")

import zhenshen_chengdu_gaoxin

PACK = Path(zhenshen_chengdu_gaoxin.__file__).parent / "pack"
ORDER = {"external_id": "GX-P-1", "channel": "hotline_12345",
         "received_at": "2026-03-02T09:00:00+08:00", "content": "取得执照后无法经营",
         "domain": "market_entry_operation"}


def _bump_version(pack: Path, version: str) -> None:
    path = pack / "pack.yaml"
    text = path.read_text(encoding="utf-8")
    lines = [f"version: {version!r}" if line.startswith("version:") else line
             for line in text.splitlines()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _post(server: Server, key: str, work_order: dict[str, Any]) -> httpx.Response:
    with server.client(key) as c:
        return c.post("/v1/desks/default/cases", json=work_order)


def _wait_for(predicate: Any, timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def _stalling(data: bytes, pause: float, started: threading.Event | None = None
              ) -> Iterator[bytes]:
    """A body sent in two parts with a pause between them."""
    yield data[:10]
    if started is not None:
        started.set()
    time.sleep(pause)
    yield data[10:]


def test_timeout_then_sigterm_finishes_the_request_in_flight_and_exits_0(
    tmp_path: Path,
) -> None:
    store = f"sqlite:///{tmp_path / 'desk.db'}"
    key = make_key(store, "desk")[1]
    server = start_server(store, tmp_path, ["--desk", f"default={PACK}", "--sweep-every", "0",
                                            "--request-timeout", "2s"])
    headers = {"content-type": "application/json"}
    # A client that stops sending holds no worker past the timeout: 503, and the server goes on.
    slow = json.dumps({**ORDER, "external_id": "SLOW-1"}).encode()
    with server.client(key) as c:
        late = c.post("/v1/desks/default/cases", content=_stalling(slow, 3.0), headers=headers)
    assert late.status_code == 503 and late.json()["error"]["type"] == "timeout"
    # SIGTERM while a request is being read: it is finished, then the process exits 0.
    started = threading.Event()
    result: dict[str, Any] = {}
    data = json.dumps(ORDER).encode()

    def send() -> None:
        with server.client(key) as c:
            result["response"] = c.post("/v1/desks/default/cases",
                                        content=_stalling(data, 1.0, started), headers=headers)

    sender = threading.Thread(target=send)
    sender.start()
    assert started.wait(10)
    time.sleep(0.2)
    server.process.send_signal(signal.SIGTERM)
    sender.join(30)
    assert result["response"].status_code == 201
    assert server.stop() == 0, server.output()
    assert "Traceback" not in server.output()


def test_sighup_reloads_the_packs_and_a_broken_pack_is_refused(tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    shutil.copytree(PACK, pack)
    store = f"sqlite:///{tmp_path / 'desk.db'}"
    key = make_key(store, "desk")[1]
    server = start_server(store, tmp_path, ["--desk", f"default={pack}", "--sweep-every", "0"])
    try:
        first = _post(server, key, {**ORDER, "external_id": "HUP-1"}).json()
        _bump_version(pack, "9.9.9")
        server.process.send_signal(signal.SIGHUP)
        assert _wait_for(lambda: _post(server, key, {**ORDER, "external_id": f"HUP-{time.time()}"}
                                       ).json()["pack"]["version"] == "9.9.9")
        (pack / "pack.yaml").write_text("id: [broken\n", encoding="utf-8")
        server.process.send_signal(signal.SIGHUP)
        time.sleep(1.5)
        still = _post(server, key, {**ORDER, "external_id": "HUP-after-broken"})
        assert still.status_code == 201 and still.json()["pack"]["version"] == "9.9.9"
        # Each case keeps the pack version it was decided with.
        with server.client(key) as c:
            again = c.get(f"/v1/desks/default/cases/{first['id']}").json()
        assert again["pack"] == first["pack"]
    finally:
        assert server.stop() == 0
    assert "pack reload refused" in server.output()


def test_serve_refuses_a_broken_pack_before_listening(tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    shutil.copytree(PACK, pack)
    (pack / "pack.yaml").write_text("id: [broken\n", encoding="utf-8")
    done = _zhenshen("serve", "--store", f"sqlite:///{tmp_path / 'x.db'}", "--desk",
                     f"default={pack}")
    assert done.exit_code == 3
    assert "pack.yaml:2:1: P200" in done.stderr and "Traceback" not in done.output
    usage = _zhenshen("serve", "--store", f"sqlite:///{tmp_path / 'x.db'}", "--workers", "2")
    assert usage.exit_code == 2 and "PostgreSQL" in usage.stderr


def test_a_postgresql_url_is_read_as_the_store_reads_its_scheme() -> None:
    """One reading for ``--workers`` and the key cache: a driver suffix and any letter case
    are PostgreSQL too (the store accepts them); nothing else is."""
    from zhenshen_server.changes import is_postgres

    for url in ("postgresql://u@h/db", "postgres://h/db", "postgresql+psycopg://h/db",
                "POSTGRES+psycopg://h/db"):
        assert is_postgres(url), url
    for url in ("sqlite:///x.db", "memory://", "postgresqlx://h/db", "/tmp/postgresql://x"):
        assert not is_postgres(url), url


def _zhenshen(*args: str) -> Any:
    """The ``zhenshen`` CLI in-process, as the console script builds it for these args."""
    from click.testing import CliRunner

    from zhenshen_core.cli.main import prepare

    group, argv = prepare(list(args))
    return CliRunner().invoke(group, argv)


def test_keys_cli_shows_the_key_once_and_stores_a_hash(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'k.db'}"
    made = _zhenshen("keys", "create", "--store", store, "--name", "hotline", "--role",
                     "intake", "--desk", "a", "--format", "json")
    assert made.exit_code == 0, made.output
    key = json.loads(made.stdout)
    assert set(key) == {"id", "key", "name", "role", "desks", "department", "pii"}
    assert key["desks"] == ["a"] and key["pii"] is False
    listed = _zhenshen("keys", "list", "--store", store, "--format", "json")
    secret = key["key"].removeprefix(f"zsk_{key['id']}_")  # a secret may hold "_" itself
    assert len(secret) >= 20 and secret not in listed.stdout and key["key"] not in listed.stdout
    assert (tmp_path / "k.db").read_bytes().find(key["key"].split("_")[-1].encode()) == -1
    assert _zhenshen("keys", "revoke", "--store", store, key["id"]).exit_code == 0
    again = _zhenshen("keys", "list", "--store", store, "--format", "json")
    assert json.loads(again.stdout)[0]["revoked_at"]
    unknown = _zhenshen("keys", "revoke", "--store", store, "nope")
    assert unknown.exit_code == 2 and "Traceback" not in unknown.output
    no_dept = _zhenshen("keys", "create", "--store", store, "--name", "x", "--role",
                        "department")
    assert no_dept.exit_code == 2


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _listening_sockets(port: int) -> set[str]:
    """The inodes of the sockets listening on ``port`` (/proc/net/tcp: state 0A is LISTEN)."""
    found = set()
    for table in (Path("/proc/net/tcp"), Path("/proc/net/tcp6")):
        for row in table.read_text().splitlines()[1:]:
            cols = row.split()
            if cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port:
                found.add(cols[9])
    return found


def _sockets_held(pid: int) -> set[str]:
    held = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                held.add(target[len("socket:["):-1])
    return held


def test_serve_uses_the_c_http_parser_and_uvloop() -> None:
    from zhenshen_server.runner import config
    from zhenshen_server.settings import Settings

    uv = config(Settings(store_url="sqlite:///unused.db"), host="127.0.0.1", port=0, workers=1,
                log_level="warning")
    uv.load()  # imports the parser and the loop: fails where uvicorn[standard] is missing
    assert uv.http_protocol_class.__name__ == "HttpToolsProtocol"
    assert uv.loop == "uvloop"
    loop = uv.get_loop_factory()
    assert loop is not None and type(loop()).__module__.startswith("uvloop")


def test_serve_limits_the_requests_a_worker_runs_in_threads(tmp_path: Path) -> None:
    """``--threads`` is the limit of the worker's event loop (where FastAPI runs blocking
    routes); an app mounted in a host's server (no ``threads``) leaves the host's alone."""
    import asyncio

    from anyio import to_thread
    from zhenshen_server.app import create_app
    from zhenshen_server.settings import Settings

    async def limit(threads: int | None) -> float:
        app = create_app(Settings(store_url=f"sqlite:///{tmp_path / 't.db'}", threads=threads))
        async with app.router.lifespan_context(app):
            return to_thread.current_default_thread_limiter().total_tokens

    untouched = asyncio.run(limit(None))
    assert asyncio.run(limit(3)) == 3
    assert untouched == 40 != 3  # anyio's own default
    refused = _zhenshen("serve", "--store", f"sqlite:///{tmp_path / 'x.db'}", "--threads", "0")
    assert refused.exit_code == 2 and "--threads" in refused.stderr, refused.stderr


# --- PostgreSQL, 2 workers ----------------------------------------------------------------------


@pytest.fixture
def pg_url() -> Iterator[str]:
    base = os.environ.get("ZHENSHEN_TEST_PG_URL")
    if not base:
        pytest.skip("ZHENSHEN_TEST_PG_URL is not set; the PostgreSQL service tests need it")
    from zhenshen_pg_testkit import drop_schema, new_schema_url

    url, schema = new_schema_url()
    yield url
    drop_schema(schema)


@pytest.mark.postgres
def test_two_workers_on_postgres_store_one_case_sweep_once_and_stop_cleanly(
    pg_url: str, tmp_path: Path
) -> None:
    from zhenshen_core import PluginConfig, PluginHost
    from zhenshen_core.storage import open_store

    pack = tmp_path / "pack"
    shutil.copytree(PACK, pack)
    key = make_key(pg_url, "desk")[1]
    server = start_server(pg_url, tmp_path, ["--desk", f"default={pack}", "--workers", "2",
                                             "--sweep-every", "1s"])
    try:
        workers = _children(server.process.pid)
        assert len(workers) >= 2
        # Each worker listens on a socket of its own (SO_REUSEPORT): the kernel spreads the
        # connections, instead of the first worker to wake taking every waiting one.
        port = int(server.url.rsplit(":", 1)[1])
        listening = _listening_sockets(port)
        assert len(listening) == 2, listening
        held = [_sockets_held(pid) & listening for pid in workers]
        assert sorted(len(h) for h in held if h) == [1, 1] and len(set.union(*held)) == 2, held
        with ThreadPoolExecutor(16) as pool:
            responses = list(pool.map(lambda _: _post(server, key, ORDER), range(32)))
        codes = Counter(r.status_code for r in responses)
        assert set(codes) <= {200, 201} and codes[201] == 1, codes  # exactly one created it
        assert len({r.json()["id"] for r in responses}) == 1
        # SIGHUP to the supervisor reloads the packs in every worker.
        _bump_version(pack, "7.7.7")
        server.process.send_signal(signal.SIGHUP)
        time.sleep(2.5)  # meanwhile every process sweeps the overdue clocks, twice or more
        with ThreadPoolExecutor(8) as pool:
            fresh = list(pool.map(
                lambda i: _post(server, key, {**ORDER, "external_id": f"HUP-{i}"}), range(16)))
        assert {r.json()["pack"]["version"] for r in fresh} == {"7.7.7"}
    finally:
        assert server.stop() == 0, server.output()
    store = open_store(pg_url, PluginHost(PluginConfig.from_env()))
    try:
        assert store.count() == 17
        case_id = responses[0].json()["id"]
        alerts = [(e.payload["record"]["clock"], e.payload["record"]["kind"])
                  for e in store.events(case_id) if e.type == "supervise"]
    finally:
        store.close()
    assert alerts, "the sweep raised nothing for a case months overdue"
    assert len(alerts) == len(set(alerts)), alerts



def _connection_owner(server_port: int, client_port: int, workers: list[int]) -> int:
    """The worker process holding the server's end of the connection from ``client_port``."""
    for table in (Path("/proc/net/tcp"), Path("/proc/net/tcp6")):
        for row in table.read_text().splitlines()[1:]:
            cols = row.split()
            if (cols[3] == "01" and int(cols[1].rsplit(":", 1)[1], 16) == server_port
                    and int(cols[2].rsplit(":", 1)[1], 16) == client_port):
                owners = [pid for pid in workers if cols[9] in _sockets_held(pid)]
                assert len(owners) == 1, owners
                return owners[0]
    raise AssertionError(f"no connection from port {client_port}")


@pytest.mark.postgres
def test_keys_revoke_refuses_the_very_next_request_on_every_worker(
    pg_url: str, tmp_path: Path
) -> None:
    """Each worker keeps verified keys in memory; ``zhenshen keys revoke`` (another process)
    must still make the next request on every worker a 401, with no pause in between."""
    import http.client
    import subprocess

    from zhenshen_server_testkit import ZHENSHEN

    key_id, key = make_key(pg_url, "desk")
    server = start_server(pg_url, tmp_path, ["--desk", f"default={PACK}", "--workers", "2"])
    connections = []
    try:
        port = int(server.url.rsplit(":", 1)[1])
        workers = _children(server.process.pid)
        headers = {"Authorization": f"Bearer {key}"}
        owners = set()
        for _ in range(12):  # keep-alive connections, spread over the workers by the kernel
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            for _ in range(2):  # the second is answered from the worker's memory
                conn.request("GET", "/v1/desks/default/cases?limit=1", headers=headers)
                response = conn.getresponse()
                response.read()
                assert response.status == 200
            owners.add(_connection_owner(port, conn.sock.getsockname()[1], workers))
            connections.append((conn, conn.sock))
        assert len(owners) == 2, "every connection went to one worker"
        revoked = subprocess.run([ZHENSHEN, "keys", "revoke", "--store", pg_url, key_id],
                                 capture_output=True, text=True, check=False)
        assert revoked.returncode == 0, revoked.stderr
        for conn, sock in connections:
            conn.request("GET", "/v1/desks/default/cases?limit=1", headers=headers)
            response = conn.getresponse()
            response.read()
            assert conn.sock is sock  # the same connection, so the same worker, as before
            assert response.status == 401
        assert "read on every request" not in server.output()  # the cache was on
    finally:
        for conn, _ in connections:
            conn.close()
        assert server.stop() == 0, server.output()
