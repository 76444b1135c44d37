"""Embedding the desk service in your own FastAPI (or Starlette) application.

    zhenshen keys create --store sqlite:///out/web.db --name portal --role desk
    python examples/web_service.py --store sqlite:///out/web.db --port 8080
    curl -H "Authorization: Bearer zsk_…" http://127.0.0.1:8080/desk/v1/desks/default/cases

The host application keeps its own routes (``/``) and mounts the desk's ASGI app under
``/desk``: the same authenticated API as ``zhenshen serve`` (keys and JWTs, roles, masking,
audit, body limit, one error shape; see docs/reference/http-api.md). A mounted app's startup
and shutdown are not run by the host on their own, so the host's lifespan enters the desk's
(it starts the clock sweep and closes the store at the end).
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import AsyncIterator

import uvicorn
from fastapi import FastAPI
from zhenshen_server import Settings, create_app


def make_app(
    store_url: str, pack: str = "cn.chengdu.gaoxin", calendar_policy: str = "provisional"
) -> FastAPI:
    settings = Settings(
        store_url=store_url,
        desks={"default": pack},
        sweep_every=60,
        calendar_policy=calendar_policy,  # strict: past the holiday notices, refuse (503)
    )
    desk = create_app(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with desk.router.lifespan_context(desk):
            yield

    host = FastAPI(title="District enterprise-service portal", lifespan=lifespan)

    @host.get("/")
    def home() -> dict[str, str]:
        return {"portal": "企业服务", "desk": "/desk/v1/desks/default/cases"}

    host.mount("/desk", desk)
    return host


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default="sqlite:///zhenshen-web.db")
    parser.add_argument("--pack", default="cn.chengdu.gaoxin")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--calendar-policy", choices=["provisional", "strict"],
                        default="provisional")
    args = parser.parse_args()
    app = make_app(args.store, args.pack, args.calendar_policy)
    uvicorn.run(app, host="127.0.0.1", port=args.port)


if __name__ == "__main__":
    main()
