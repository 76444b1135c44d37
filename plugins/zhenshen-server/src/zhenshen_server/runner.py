"""Running the service with uvicorn: one process, or ``--workers N`` under uvicorn's supervisor.

The HTTP layer is uvicorn's C-backed one: the ``httptools`` parser and the ``uvloop`` event
loop (both come with ``uvicorn[standard]``), about 0.3 ms a request cheaper than the
pure-Python ``h11`` parser on the standard loop.

Several workers each listen on a socket of their own, all bound to the one address with
``SO_REUSEPORT``, so the kernel spreads the connections between them (Linux does; other systems
may hand them all to one socket). With one socket shared
by every worker, the worker that wakes first accepts every connection waiting (an event loop
accepts in a loop until none is left), and a burst of keep-alive connections — a load
balancer's pool, a benchmark's clients — ends up mostly on one worker while the other idles.
The supervisor keeps every socket open, so a worker that dies is replaced on the same socket
and the connections that arrive meanwhile wait in its queue instead of being refused.

Signals: SIGTERM and SIGINT stop accepting connections, finish the requests in flight, and
the process exits 0. SIGHUP reloads the packs: a single process reloads in place; the
supervisor of several workers passes it to each of them (uvicorn's own supervisor would
restart them, and a worker started on a broken pack would not come up: reloading in place
keeps the old pack when the new one has errors).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors.multiprocess import Multiprocess, Process

from zhenshen_server.settings import ENV, Settings

APP = "zhenshen_server.app:app_from_env"
LOG = logging.getLogger("uvicorn.error")


def listening_sockets(host: str, port: int, count: int, backlog: int) -> list[socket.socket]:
    """``count`` listening sockets on ``host:port`` sharing it through ``SO_REUSEPORT`` (port 0:
    the port the first one is given); inheritable, for worker processes."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((host, port))
            port = sock.getsockname()[1]
            sock.listen(backlog)
            sock.set_inheritable(True)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


class _Supervisor(Multiprocess):
    """uvicorn's supervisor with one socket per worker slot, passing SIGHUP on to the workers
    instead of restarting them. The number of workers is the one ``--workers`` gave (SIGTTIN
    and SIGTTOU are ignored: a new worker would need a socket of its own)."""

    def __init__(self, config: uvicorn.Config, slots: list[socket.socket]) -> None:
        super().__init__(config, sockets=slots)
        self.slots = slots
        self.processes_num = len(slots)

    def _start(self, slot: int) -> Process:
        process = Process(self.config, [self.slots[slot]])
        process.start()
        return process

    def init_processes(self) -> None:
        self.processes = [self._start(slot) for slot in range(len(self.slots))]

    def keep_subprocess_alive(self) -> None:
        """A worker that died or hangs is replaced on its own socket (uvicorn's supervisor
        would hand the replacement every socket)."""
        for slot, process in enumerate(self.processes):
            if self.should_exit.is_set():
                return
            if process.is_alive(timeout=self.config.timeout_worker_healthcheck):
                continue
            process.kill()
            process.join()
            if process.exitcode == STARTUP_FAILURE:  # it would fail the same way again
                LOG.error("worker [%s] failed to start; stopping", process.pid)
                self.should_exit.set()
                return
            LOG.info("worker [%s] died; starting another on its socket", process.pid)
            self.processes[slot] = self._start(slot)

    def handle_hup(self) -> None:
        for process in self.processes:
            if process.pid is not None:
                os.kill(process.pid, signal.SIGHUP)

    def handle_ttin(self) -> None:
        LOG.info("SIGTTIN ignored: the number of workers is the one --workers gave")

    def handle_ttou(self) -> None:
        LOG.info("SIGTTOU ignored: the number of workers is the one --workers gave")


def _ignore(signum: int, frame: Any) -> None:
    """Where uvicorn hands a captured SIGTERM back after its graceful shutdown: the shutdown
    is done, so the process goes on to exit 0 instead of dying of the signal."""


def config(settings: Settings, *, host: str, port: int, workers: int,
           log_level: str) -> uvicorn.Config:
    """The uvicorn configuration of ``zhenshen serve`` (settings reach the workers through
    the environment)."""
    os.environ[ENV] = settings.to_json()
    return uvicorn.Config(
        APP,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        timeout_graceful_shutdown=30,
        proxy_headers=True,
        server_header=False,
        http="httptools",
        loop="uvloop",
    )


def run(settings: Settings, *, host: str, port: int, workers: int, log_level: str) -> None:
    uv_config = config(settings, host=host, port=port, workers=workers, log_level=log_level)
    signal.signal(signal.SIGTERM, _ignore)
    signal.signal(signal.SIGINT, _ignore)
    if workers <= 1:
        uvicorn.Server(uv_config).run()
        return
    try:
        slots = listening_sockets(host, port, workers, uv_config.backlog)
    except OSError as exc:  # as uvicorn does for one process: logged, exit 3
        LOG.error("cannot listen on %s:%d: %s", host, port, exc.strerror or exc)
        raise SystemExit(STARTUP_FAILURE) from None
    LOG.info("listening on %s:%d, %d workers, a socket each", host,
             slots[0].getsockname()[1], workers)
    try:
        _Supervisor(uv_config, slots).run()
    finally:
        for sock in slots:
            sock.close()
