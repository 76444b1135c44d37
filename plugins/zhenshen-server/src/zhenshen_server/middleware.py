"""Limits every request meets before a route: body size, time, and its metrics.

The body limit counts the bytes actually received, not the ``Content-Length`` a client
claims (a chunked body has none, and a wrong one must not get past): once more than the limit
has arrived, reading stops with 413. A declared length over the limit is refused at once.
The timeout answers 503 when a request takes too long and nothing has been sent yet.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from zhenshen_server.errors import body
from zhenshen_server.metrics import Metrics


def _too_large(limit: int) -> HTTPException:
    return HTTPException(413, f"request body larger than {limit} bytes")


async def _send_json(send: Send, status: int, document: dict[str, Any]) -> None:
    data = json.dumps(document, ensure_ascii=False).encode("utf-8")
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]})
    await send({"type": "http.response.body", "body": data})


class LimitsMiddleware:
    def __init__(self, app: ASGIApp, *, body_limit: int, timeout: float, metrics: Metrics) -> None:
        self.app, self.limit, self.timeout, self.metrics = app, body_limit, timeout, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500, "sent": False}
        limit = self.limit

        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                await _send_json(send, 413, body("too_large", str(_too_large(limit).detail)))
                self._count(scope, 413, started)
                return

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _too_large(limit)
            return message

        async def watched_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"], status["sent"] = message["status"], True
            await send(message)

        try:
            async with asyncio.timeout(self.timeout):
                await self.app(scope, limited_receive, watched_send)
        except TimeoutError:
            if not status["sent"]:
                status["code"] = 503
                await _send_json(send, 503, body("timeout", "the request took too long"))
        self._count(scope, int(status["code"]), started)

    def _count(self, scope: Scope, status: int, started: float) -> None:
        route = scope.get("route")
        path = getattr(route, "path", None) or "unmatched"
        method = scope.get("method", "")
        self.metrics.requests.labels(method, path, str(status)).inc()
        self.metrics.duration.labels(method, path).observe(time.perf_counter() - started)
