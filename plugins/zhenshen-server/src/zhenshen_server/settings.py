"""What one service is configured with, as plain data.

Settings travel from ``zhenshen serve`` to every uvicorn worker process as JSON in one
environment variable (a worker imports the app factory by name and cannot be handed objects),
so they hold only strings, numbers and lists.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field

from zhenshen_server.auth import JwtSettings

ENV = "ZHENSHEN_SERVER_SETTINGS"
DEFAULT_DESK = "default"
MIB = 1024 * 1024


#: ``zhenshen serve --threads``: two requests in threads per worker overlap one's store round
#: trips with the other's work; more take turns for the interpreter (docs/performance.md).
DEFAULT_THREADS = 2


@dataclass(frozen=True)
class Settings:
    store_url: str
    #: desk id → pack source (folder or pack id); empty pack: a desk that decides nothing
    desks: dict[str, str] = field(default_factory=dict)
    pack_paths: tuple[str, ...] = ()
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    jwks: str | None = None
    body_limit: int = MIB
    request_timeout: float = 30.0
    sweep_every: float = 0.0  # seconds; 0 turns the sweep off
    calendar_policy: str = "provisional"
    open311_private: bool = False
    #: Requests a worker runs at once in threads (the store's work, decisions, letters);
    #: None: leave the event loop's limit alone (an app mounted in a host's own server).
    threads: int | None = None

    def jwt(self) -> JwtSettings | None:
        if self.jwks and self.jwt_issuer and self.jwt_audience:
            return JwtSettings(self.jwt_issuer, self.jwt_audience, self.jwks)
        return None

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Settings:
        data = json.loads(text)
        data["pack_paths"] = tuple(data.get("pack_paths") or ())
        return cls(**data)

    @classmethod
    def from_env(cls) -> Settings:
        text = os.environ.get(ENV)
        if not text:
            raise RuntimeError(f"{ENV} is not set: start the service with zhenshen serve")
        return cls.from_json(text)
