"""Running the service with uvicorn: one process, or ``--workers N`` under uvicorn's supervisor.

Signals: SIGTERM and SIGINT stop accepting connections, finish the requests in flight, and
the process exits 0. SIGHUP reloads the packs: a single process reloads in place; the
supervisor of several workers passes it to each of them (uvicorn's own supervisor would
restart them, and a worker started on a broken pack would not come up: reloading in place
keeps the old pack when the new one has errors).
"""

from __future__ import annotations

import os
import signal
from socket import socket
from typing import Any

import uvicorn
from uvicorn.supervisors.multiprocess import Multiprocess

from zhenshen_server.settings import ENV, Settings

APP = "zhenshen_server.app:app_from_env"


class _Supervisor(Multiprocess):
    """uvicorn's supervisor, passing SIGHUP on to the workers instead of restarting them."""

    def handle_hup(self) -> None:
        for process in self.processes:
            if process.pid is not None:
                os.kill(process.pid, signal.SIGHUP)


def _ignore(signum: int, frame: Any) -> None:
    """Where uvicorn hands a captured SIGTERM back after its graceful shutdown: the shutdown
    is done, so the process goes on to exit 0 instead of dying of the signal."""


def run(settings: Settings, *, host: str, port: int, workers: int, log_level: str) -> None:
    os.environ[ENV] = settings.to_json()
    config = uvicorn.Config(
        APP,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        timeout_graceful_shutdown=30,
        proxy_headers=True,
        server_header=False,
    )
    signal.signal(signal.SIGTERM, _ignore)
    signal.signal(signal.SIGINT, _ignore)
    if workers <= 1:
        uvicorn.Server(config).run()
        return
    sock: socket = config.bind_socket()
    try:
        _Supervisor(config, sockets=[sock]).run()
    finally:
        sock.close()
