"""``create_app(settings)``: the FastAPI application of one service.

The app holds a :class:`~zhenshen_server.state.ServiceState` on ``app.state.service`` (store,
plugin host, desks, JWT verifier) and its metrics on ``app.state.metrics``; routers reach them
through :mod:`zhenshen_server.deps`. Each process runs the clock sweep on its own every
``sweep_every`` seconds (the store's claims keep two processes from raising one alert twice),
and SIGHUP reloads the packs as ``POST /v1/admin/reload`` does.

A host application mounts the app as it is (``host.mount("/desk", create_app(settings))``).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import importlib.util
import logging
import signal
from collections.abc import AsyncIterator

from anyio import to_thread
from fastapi import FastAPI

from zhenshen_server import errors
from zhenshen_server.metrics import Metrics
from zhenshen_server.middleware import LimitsMiddleware
from zhenshen_server.routes import cases, ops, tools
from zhenshen_server.settings import Settings
from zhenshen_server.state import PackLoadFailed, ServiceState

LOG = logging.getLogger("zhenshen_server")


def _sweep_once(state: ServiceState, metrics: Metrics) -> None:
    desks = list(state.desks.values())
    if not desks:
        return
    # One store behind every desk: one sweep covers every desk's clocks.
    try:
        result = desks[0].desk.sweep()
    except Exception:
        LOG.exception("clock sweep failed")
        metrics.sweeps.labels("failed").inc()
        return
    metrics.sweeps.labels("ok").inc()
    metrics.alerts.inc(len(result.alerts))


async def _sweeper(state: ServiceState, metrics: Metrics, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        await asyncio.to_thread(_sweep_once, state, metrics)


def reload_packs(state: ServiceState) -> None:
    """SIGHUP: load the packs again; on errors log them and keep the old desks."""
    try:
        state.reload()
    except PackLoadFailed as exc:
        for problem in exc.problems:
            LOG.error("pack reload refused: desk %s: %s", problem["desk"], problem["problem"])
        return
    LOG.info("packs reloaded: %s", ", ".join(sorted(state.desks)))


def create_app(settings: Settings, *, handle_signals: bool = False) -> FastAPI:
    """The service for ``settings``; ``handle_signals``: reload the packs on SIGHUP (the
    runner asks for it; an app mounted in a host leaves the host's signals alone)."""
    metrics = Metrics()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state: ServiceState = app.state.service
        if settings.threads is not None:
            # Python runs one thread at a time: threads beyond what overlaps the store's round
            # trips only take turns for the interpreter, at a cost (measured in
            # docs/performance.md). Requests beyond the limit wait on the event loop.
            to_thread.current_default_thread_limiter().total_tokens = settings.threads
        tasks = []
        if settings.sweep_every > 0:
            tasks.append(asyncio.create_task(_sweeper(state, metrics, settings.sweep_every)))
        loop = asyncio.get_running_loop()
        if handle_signals:
            loop.add_signal_handler(
                signal.SIGHUP, lambda: loop.run_in_executor(None, reload_packs, state)
            )
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            if handle_signals:
                loop.remove_signal_handler(signal.SIGHUP)
            state.close()

    app = FastAPI(
        title="zhenshen desk service",
        version="1",
        description="The joint review desk (营商环境甄审室) over HTTP: several desks, API keys "
        "and OIDC tokens, roles, personal data masked, every write audited.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.openapi = lambda: errors.openapi_without_422(app)  # type: ignore[method-assign]
    app.state.service = ServiceState(settings)
    app.state.metrics = metrics
    errors.install(app)
    for module in (ops, cases, tools):
        app.include_router(module.router)
    _include_optional(app)
    app.add_middleware(
        LimitsMiddleware,
        body_limit=settings.body_limit,
        timeout=settings.request_timeout,
        metrics=metrics,
    )
    return app


def _include_optional(app: FastAPI) -> None:
    """Routers of modules that may not be there yet (Open311 GeoReport v2)."""
    if importlib.util.find_spec("zhenshen_server.open311") is None:
        return
    module = importlib.import_module("zhenshen_server.open311")
    app.include_router(module.router)


def app_from_env() -> FastAPI:
    """The uvicorn factory of ``zhenshen serve``'s workers (settings from the environment)."""
    return create_app(Settings.from_env(), handle_signals=True)
