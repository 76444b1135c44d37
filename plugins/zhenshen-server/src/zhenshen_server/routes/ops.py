"""``/healthz``, ``/readyz`` and ``/metrics``: no credentials, nothing about any case."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from zhenshen_server.deps import service

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "not ready (problems listed)"}})
def readyz(request: Request) -> Any:
    """Readiness: the store answers and every desk's pack is loaded."""
    state = service(request)
    problems = state.ready()
    if problems:
        return JSONResponse({"status": "unavailable", "problems": problems}, status_code=503)
    return {"status": "ok", "desks": sorted(state.desks)}


@router.get("/metrics", response_class=Response)
def metrics(request: Request) -> Response:
    """Prometheus text: requests by route and status, their durations, sweeps."""
    return Response(generate_latest(request.app.state.metrics.registry),
                    media_type=CONTENT_TYPE_LATEST)
