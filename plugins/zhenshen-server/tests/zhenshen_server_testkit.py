"""Real ``zhenshen serve`` processes on free loopback ports, keys and tokens for the tests."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from zhenshen_server.keys import create_key
from zhenshen_server.roles import Role

from zhenshen_core import PluginConfig, PluginHost
from zhenshen_core.storage import open_store

ZHENSHEN = str(Path(sys.executable).with_name("zhenshen"))
ISSUER = "https://idp.example.test/realms/gov"
AUDIENCE = "zhenshen-desk"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    url: str
    store_url: str
    process: subprocess.Popen[bytes]
    log: Path
    keys: dict[str, str] = field(default_factory=dict)

    def client(self, token: str | None = None, **kw: Any) -> httpx.Client:
        """A client of this plain-HTTP loopback server. ``verify=False``: there is no TLS to
        verify, and loading the CA bundle for each new client cost about 50 ms, most of the
        time of the tests that make a client per request."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        kw.setdefault("verify", False)
        return httpx.Client(base_url=self.url, headers=headers, timeout=30, **kw)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def start_server(
    store_url: str, tmp: Path, args: Sequence[str] = (), *, wait: float = 60
) -> Server:
    """``zhenshen serve`` on a free port, once ``/readyz`` answers 200."""
    port = free_port()
    log = tmp / f"serve-{port}.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [ZHENSHEN, "serve", "--store", store_url, "--port", str(port), "--log-level",
             "warning", *args],
            stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True,
        )
    server = Server(f"http://127.0.0.1:{port}", store_url, process, log)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"zhenshen serve exited {process.returncode}:\n{server.output()}")
        try:
            if httpx.get(f"{server.url}/readyz", timeout=1, verify=False).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    server.stop(signal.SIGKILL)
    raise RuntimeError(f"zhenshen serve did not become ready:\n{server.output()}")


def make_key(store_url: str, role: str, *, desks: Sequence[str] = (),
             department: str | None = None, pii: bool = False, name: str = "") -> tuple[str, str]:
    """(key id, key) created straight in the store, as ``zhenshen keys create`` does."""
    store = open_store(store_url, PluginHost(PluginConfig.from_env()))
    try:
        key, secret = create_key(store, name=name or role, role=Role(role), desks=tuple(desks),
                                 department=department, pii=pii)
    finally:
        store.close()
    return key.id, secret


@dataclass(frozen=True)
class Issuer:
    """An OIDC provider's signing key and the JWKS file the service reads."""

    private: rsa.RSAPrivateKey
    jwks_path: Path
    kid: str = "k1"

    @classmethod
    def create(cls, folder: Path) -> Issuer:
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
        jwk.update({"kid": "k1", "use": "sig", "alg": "RS256"})
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "jwks.json"
        path.write_text(json.dumps({"keys": [jwk]}), encoding="utf-8")
        return cls(private, path)

    def args(self, jwks_url: str | None = None) -> list[str]:
        return ["--jwt-issuer", ISSUER, "--jwt-audience", AUDIENCE,
                "--jwks", jwks_url or str(self.jwks_path)]

    def claims(self, **over: Any) -> dict[str, Any]:
        now = int(time.time())
        return {"iss": ISSUER, "aud": AUDIENCE, "sub": "user-1", "iat": now, "exp": now + 300,
                "zhenshen_role": "desk", "zhenshen_desks": ["a"], **over}

    def token(self, key: Any = None, **over: Any) -> str:
        return jwt.encode(self.claims(**over), key or self.private, algorithm="RS256",
                          headers={"kid": self.kid})


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned_token(claims: dict[str, Any], alg: str = "none") -> str:
    header = b64(json.dumps({"alg": alg, "typ": "JWT", "kid": "k1"}).encode())
    return f"{header}.{b64(json.dumps(claims).encode())}."


@contextmanager
def serve_folder(folder: Path) -> Iterator[str]:
    """A plain HTTP server on a loopback port serving ``folder`` (an identity provider's
    JWKS endpoint, for the tests); its base URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
         "--directory", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                httpx.get(url + "/", timeout=1, verify=False)
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(10)
