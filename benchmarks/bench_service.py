"""The desk as an HTTP service: intake POSTs and case GETs from concurrent loopback clients.

    .venv/bin/python benchmarks/bench_service.py                       # SQLite only
    export ZHENSHEN_TEST_PG_URL=postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python benchmarks/bench_service.py --duration 5          # SQLite and PostgreSQL

Each target is a real server process on a free loopback port:

* ``zhenshen serve`` (``--workers 1`` on SQLite; ``--workers 1`` and ``2`` on PostgreSQL, each on
  a fresh schema dropped at the end), an intake key for the POSTs and a desk key for the GETs;
* the stdlib WSGI example this service replaces (the last version of
  ``examples/web_service.py`` that was one, read from the git history; skipped with a message
  where that history is missing) on the same stores: no authentication, no masking of free
  text, no audit, one thread;
* a plain uvicorn "hello" ASGI endpoint (GET only): the ceiling of this client and uvicorn's
  HTTP layer on this machine, whatever the application does.

Intake: every client POSTs new work orders (unique ``external_id``, a domain the reference pack
routes, so each one is validated, decided, stored with its clocks started and audited) for
``--duration`` seconds; GET: every client reads random cases stored by the intake phase. With
1, 16 and 64 concurrent clients (one ``httpx.AsyncClient``, keep-alive connections), requests/s,
p50 and p99 latency, the share of non-2xx answers, the CPU the client itself used (it shares
the machine's two cores with the server) and the CPU the server's processes spent per request
(from /proc: where the time goes, whatever else runs on the machine) and, for a GET, the
share a worker answered from memory (its ``/metrics``; on PostgreSQL a worker keeps the cases it
sent until they change, so after the first read of each case nearly every GET). Goals (issue 17): on
PostgreSQL with 2 workers, intake ≥ 500/s and GET ≥ 2,000/s; p99 < 100 ms at 16 clients.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import resource
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PACK = "cn.chengdu.gaoxin"
HELLO = '''
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    body = b'{"hello": "world"}'
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
'''


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Target:
    """A running server and how to send it the two requests."""

    name: str
    url: str
    process: subprocess.Popen[bytes]
    post_path: str | None = None
    get_path: str = ""  # with {id}
    post_headers: dict[str, str] = field(default_factory=dict)
    get_headers: dict[str, str] = field(default_factory=dict)
    ids: list[str] = field(default_factory=list)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"server not ready:\n{log.read_text()[-3000:]}")


def _spawn(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def make_key(store_url: str, role: str) -> str:
    from zhenshen_server.keys import create_key
    from zhenshen_server.roles import Role

    from zhenshen_core import PluginConfig, PluginHost
    from zhenshen_core.storage import open_store

    store = open_store(store_url, PluginHost(PluginConfig.from_env()))
    try:
        _, secret = create_key(store, name=f"bench-{role}", role=Role(role))
    finally:
        store.close()
    return secret


def start_service(
    name: str, store_url: str, workers: int, tmp: Path, serve_args: tuple[str, ...] = ()
) -> Target:
    intake, desk = make_key(store_url, "intake"), make_key(store_url, "desk")
    port = free_port()
    log = tmp / f"{name}.log"
    process = _spawn([str(BIN / "zhenshen"), "serve", "--store", store_url, "--port", str(port),
                      "--desk", f"default={PACK}", "--workers", str(workers),
                      "--sweep-every", "0", "--log-level", "warning", *serve_args], log)
    url = f"http://127.0.0.1:{port}"
    wait_ready(f"{url}/readyz", process, log)
    return Target(name, url, process, "/v1/desks/default/cases",
                  "/v1/desks/default/cases/{id}",
                  {"Authorization": f"Bearer {intake}"}, {"Authorization": f"Bearer {desk}"})


def wsgi_source() -> str | None:
    """The stdlib WSGI example, the newest version of ``examples/web_service.py`` in the
    history that still is one (None where that history is missing)."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout

    try:
        commits = git("log", "--format=%H", "HEAD", "--", "examples/web_service.py").split()
        for commit in commits:
            text = git("show", f"{commit}:examples/web_service.py")
            if "wsgiref" in text:
                return text
    except (OSError, subprocess.CalledProcessError):
        return None
    return None


def start_wsgi(name: str, store_url: str, source: str, tmp: Path) -> Target:
    script = tmp / "wsgi_web_service.py"
    script.write_text(source, encoding="utf-8")
    port = free_port()
    log = tmp / f"{name}.log"
    process = _spawn([sys.executable, str(script), "--store", store_url, "--port", str(port)],
                     log)
    url = f"http://127.0.0.1:{port}"
    wait_ready(f"{url}/cases/none", process, log)
    return Target(name, url, process, "/cases", "/cases/{id}")


def start_hello(tmp: Path) -> Target:
    (tmp / "bench_hello.py").write_text(HELLO, encoding="utf-8")
    port = free_port()
    log = tmp / "hello.log"
    process = _spawn([str(BIN / "uvicorn"), "bench_hello:app", "--port", str(port),
                      "--log-level", "warning", "--no-access-log", "--app-dir", str(tmp)], log)
    url = f"http://127.0.0.1:{port}"
    wait_ready(url, process, log)
    return Target("uvicorn hello (ceiling)", url, process, None, "/")


# --- load -------------------------------------------------------------------------------------


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (uvicorn's supervisor and its workers)."""
    found = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in children:
            found += _tree(int(child))
    return found


def server_cpu(pid: int) -> float:
    """CPU seconds used so far by the server's processes (Linux /proc; 0 elsewhere)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for member in _tree(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


@dataclass
class Result:
    done: int
    failed: int
    seconds: float
    latencies: list[float]
    client_cpu: float
    server_cpu: float = 0.0  # seconds of CPU the server's processes used in the measurement
    quantiles: dict[int, float] | None = None  # ms, when the load generator computed them

    @property
    def rate(self) -> float:
        return self.done / self.seconds

    def quantile(self, q: int) -> float:
        if self.quantiles is not None:
            return self.quantiles[q]
        if len(self.latencies) < 2:
            return self.latencies[0] * 1000 if self.latencies else float("nan")
        return statistics.quantiles(self.latencies, n=100)[q - 1] * 1000


def work_order() -> dict[str, Any]:
    return {
        "external_id": f"B-{secrets.token_hex(8)}",
        "channel": "api",
        "received_at": datetime.now().astimezone().isoformat(),
        "title": "取得执照后无法经营",
        "content": "企业取得营业执照后，因消防验收未通过无法开展经营，请协调。",
        "domain": "market_entry_operation",
    }


async def _load(
    target: Target, clients: int, seconds: float, send: Callable[[httpx.AsyncClient], Any]
) -> Result:
    latencies: list[float] = []
    failed = 0
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=target.url, limits=limits, timeout=60) as client:
        await send(client)  # connection and first-request costs out of the timing
        deadline = time.perf_counter() + seconds

        async def one() -> None:
            nonlocal failed
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                try:
                    response = await send(client)
                    ok = response.status_code < 300
                except httpx.HTTPError:
                    ok = False
                if ok:
                    latencies.append(time.perf_counter() - start)
                else:
                    failed += 1

        cpu, begin = time.process_time(), time.perf_counter()
        served = server_cpu(target.process.pid)
        await asyncio.gather(*(one() for _ in range(clients)))
        elapsed = time.perf_counter() - begin
        served = server_cpu(target.process.pid) - served
        cpu = (time.process_time() - cpu) / elapsed
    return Result(len(latencies), failed, elapsed, latencies, cpu, served)


def intake(target: Target, clients: int, seconds: float) -> Result:
    assert target.post_path is not None

    async def send(client: httpx.AsyncClient) -> httpx.Response:
        response = await client.post(target.post_path or "", json=work_order(),
                                     headers=target.post_headers)
        if response.status_code < 300:
            target.ids.append(response.json()["id"])
        return response

    return asyncio.run(_load(target, clients, seconds, send))


def reads(target: Target, clients: int, seconds: float) -> Result:
    ids = target.ids or ["-"]

    async def send(client: httpx.AsyncClient) -> httpx.Response:
        path = target.get_path.format(id=random.choice(ids))
        return await client.get(path, headers=target.get_headers)

    return asyncio.run(_load(target, clients, seconds, send))


# --- wrk: a C load generator, so the client takes little of the two cores --------------------

WRK_SCRIPT = """
counter = 1
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end
local n = 0
local ids = {%(ids)s}
local headers = {%(headers)s}
request = function()
  n = n + 1
  if %(post)s then
    local body = string.format([==[%(body)s]==], "%(run)s-" .. tid .. "-" .. n)
    return wrk.format("POST", "%(path)s", headers, body)
  end
  local path = string.gsub("%(path)s", "{id}", ids[math.random(#ids)])
  return wrk.format("GET", path, headers)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK %%d %%d %%d %%d %%d\\n", summary.requests,
    e.status + e.connect + e.read + e.write + e.timeout, summary.duration,
    latency:percentile(50), latency:percentile(99)))
end
"""


def _lua(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def wrk_load(
    target: Target, op: str, clients: int, seconds: float, tmp: Path, warmup: float = 0.0
) -> Result:
    """One measurement with ``wrk`` (keep-alive connections, as the httpx client uses), after
    ``warmup`` seconds of the same load that are not counted (a fresh worker's first requests
    load packs and calendars, and prepare statements)."""
    if warmup > 0:
        wrk_load(target, op, clients, warmup, tmp)  # new work orders: its own run token
    post = op == "intake"
    if not post and target.post_path is not None and len(target.ids) < 50:
        # wrk does not keep the ids of the cases it created: store some
        for _ in range(50):
            intake_one(target)
    headers = dict(target.post_headers if post else target.get_headers)
    if post:
        headers["Content-Type"] = "application/json"
    order = work_order()
    order["external_id"] = "%s"
    script = tmp / "bench_wrk.lua"
    script.write_text(WRK_SCRIPT % {
        "ids": ", ".join(_lua(i) for i in target.ids[-2000:]) or '"-"',
        "headers": ", ".join(f"[{_lua(k)}] = {_lua(v)}" for k, v in headers.items()),
        "post": "true" if post else "false",
        "body": json.dumps(order),
        "run": secrets.token_hex(4),
        "path": (target.post_path or "") if post else target.get_path,
    }, encoding="utf-8")
    threads = min(2, clients)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    served = server_cpu(target.process.pid)
    begin = time.perf_counter()
    run = subprocess.run(["wrk", "-t", str(threads), "-c", str(clients), "-d", f"{seconds:g}s",
                          "--timeout", "60s", "-s", str(script), target.url],
                         capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - begin
    served = server_cpu(target.process.pid) - served
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) / elapsed
    found = [ln for ln in run.stdout.splitlines() if ln.startswith("WRK ")]
    if run.returncode != 0 or not found:
        raise SystemExit(f"wrk failed ({run.returncode}): {run.stdout[-2000:]}{run.stderr}")
    requests, errors, micros, p50, p99 = (int(x) for x in found[-1].split()[1:])
    return Result(requests - errors, errors, micros / 1e6, [], cpu, served,
                  {50: p50 / 1000, 99: p99 / 1000})


def intake_one(target: Target) -> None:
    response = httpx.post(target.url + (target.post_path or ""), json=work_order(),
                          headers=target.post_headers, timeout=60)
    if response.status_code < 300:
        target.ids.append(response.json()["id"])


def line(target: str, op: str, clients: int, result: Result) -> str:
    failed = result.failed / max(1, result.failed + result.done)
    return (f"  {target:<34} {op:<6} {clients:>3}  {result.rate:>8,.0f}/s  "
            f"p50 {result.quantile(50):>7.1f} ms  p99 {result.quantile(99):>7.1f} ms  "
            f"non-2xx {failed:>5.1%}  client cpu {result.client_cpu:>4.0%}  "
            f"server cpu {result.server_cpu / max(1, result.done) * 1000:5.2f} ms/req")


def case_reads(target: Target, op: str) -> str:
    """Where a ``zhenshen serve`` worker's GETs came from (its ``/metrics``: with 2 workers,
    whichever answers), since the process started: memory or the store (casecache)."""
    if op != "get" or target.post_path is None or "/v1/" not in target.post_path:
        return ""
    try:
        text = httpx.get(target.url + "/metrics", timeout=10).text
    except httpx.HTTPError:
        return ""
    found = dict(re.findall(r'^zhenshen_case_reads_total\{source="(\w+)"\} ([\d.e+]+)$', text,
                            re.M))
    memory, store = float(found.get("memory", 0)), float(found.get("store", 0))
    return f"  from memory {memory / max(1.0, memory + store):.0%}"


def measure(
    target: Target, clients: list[int], seconds: float, tmp: Path, use_wrk: bool,
    warmup: float = 0.0,
) -> dict[tuple[str, int], Result]:
    results: dict[tuple[str, int], Result] = {}
    ops = (["intake"] if target.post_path is not None else []) + ["get"]
    for op in ops:
        for count in clients:
            if use_wrk:
                result = wrk_load(target, op, count, seconds, tmp, warmup)
            else:
                result = (intake if op == "intake" else reads)(target, count, seconds)
            results[op, count] = result
            print(line(target.name, op, count, result) + case_reads(target, op), flush=True)
    return results


# --- stores -----------------------------------------------------------------------------------


class Schemas:
    """Fresh PostgreSQL schemas, all dropped at the end."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.created: list[str] = []

    def new(self) -> str:
        schema = "bench_svc_" + secrets.token_hex(4)
        self.created.append(schema)
        return f"{self.url}{'&' if '?' in self.url else '?'}schema={schema}"

    def drop_all(self) -> None:
        import psycopg
        from psycopg import sql
        from zhenshen_postgres.store import parse_url

        with psycopg.connect(parse_url(self.url).conninfo, autocommit=True) as conn:
            for schema in self.created:
                conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                    sql.Identifier(schema)))


@contextmanager
def running(target: Target) -> Iterator[Target]:
    try:
        yield target
    finally:
        target.stop()


def calibration() -> float:
    start = time.perf_counter()
    sum(range(20_000_000))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per measurement")
    parser.add_argument("--clients", default="1,16,64", help="concurrent clients, comma separated")
    parser.add_argument("--threads", type=int, default=None,
                        help="zhenshen serve --threads (default: serve's own default)")
    parser.add_argument("--warmup", type=float, default=2.0,
                        help="seconds of the same load before each measurement, not counted "
                             "(wrk only)")
    parser.add_argument("--pg-url", default=os.environ.get("ZHENSHEN_TEST_PG_URL"))
    parser.add_argument("--only", default="", help="run only targets whose name contains this")
    parser.add_argument("--load", choices=["auto", "wrk", "httpx"], default="auto",
                        help="the load generator: wrk (C, when on PATH) or the Python httpx "
                             "client (which takes much of the two cores itself)")
    args = parser.parse_args()
    clients = [int(c) for c in args.clients.split(",")]
    use_wrk = args.load == "wrk" or (args.load == "auto" and shutil.which("wrk") is not None)
    if args.load == "wrk" and shutil.which("wrk") is None:
        raise SystemExit("--load wrk: wrk is not on PATH (Debian: apt-get install wrk)")
    print(f"calibration: sum(range(20_000_000)) took {calibration():.2f} s; "
          f"load average {os.getloadavg()[0]:.1f}; {args.duration:g} s per line; "
          f"load from {'wrk' if use_wrk else 'httpx'}")
    source = wsgi_source()
    if source is None:
        print("  (the stdlib WSGI example is not in this checkout's history: not compared)")
    schemas = Schemas(args.pg_url) if args.pg_url else None
    if schemas is None:
        print("  (ZHENSHEN_TEST_PG_URL not set: PostgreSQL skipped)")
    with tempfile.TemporaryDirectory(prefix="bench-service-") as folder:
        tmp = Path(folder)
        plans: list[tuple[str, Callable[[], Target]]] = []

        def sqlite(name: str) -> str:
            return f"sqlite:///{tmp / (name + '.db')}"

        serve_args = () if args.threads is None else ("--threads", str(args.threads))
        plans.append(("serve sqlite --workers 1",
                      lambda: start_service("serve-sqlite-1", sqlite("serve"), 1, tmp,
                                            serve_args)))
        if source is not None:
            plans.append(("stdlib WSGI example, sqlite",
                          lambda: start_wsgi("stdlib WSGI example, sqlite", sqlite("wsgi"),
                                             source, tmp)))
        if schemas is not None:
            for workers in (1, 2):
                plans.append((f"serve postgresql --workers {workers}",
                              lambda w=workers: start_service(  # type: ignore[misc]
                                  f"serve postgresql --workers {w}", schemas.new(), w, tmp,
                                  serve_args)))
            if source is not None:
                plans.append(("stdlib WSGI example, postgresql",
                              lambda: start_wsgi("stdlib WSGI example, postgresql",
                                                 schemas.new(), source, tmp)))
        plans.append(("uvicorn hello (ceiling)", lambda: start_hello(tmp)))
        print(f"  {'target':<34} {'op':<6} {'clients':>3}")
        try:
            for name, start in plans:
                if args.only and args.only not in name:
                    continue
                with running(start()) as target:
                    target.name = name
                    measure(target, clients, args.duration, tmp, use_wrk, args.warmup)
        finally:
            if schemas is not None:
                schemas.drop_all()


if __name__ == "__main__":
    main()
