"""API keys kept as side records of the desk's own store: shown once, stored as a hash.

A key is ``zsk_<id>_<secret>``: the id finds the record, the 256-bit random secret is compared
with its SHA-256 in constant time. A slow password hash buys nothing for a random 256-bit
secret (there is no dictionary to try) and would cost every request. The service reads the
record again on every request unless the store tells it when keys change
(:mod:`zhenshen_server.keycache`), so a revocation holds at once in every worker and on every
node.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from zhenshen_core.model.case import SHANGHAI
from zhenshen_core.storage.protocol import CaseStore, Record
from zhenshen_server.roles import Role

KIND = "zhenshen_server.api_key"
PREFIX = "zsk_"


class KeyError_(ValueError):
    """A key that cannot be created or revoked (unknown id, bad role)."""


@dataclass(frozen=True)
class ApiKey:
    id: str
    name: str
    role: Role
    desks: tuple[str, ...] = ()
    department: str | None = None
    pii: bool = False
    created_at: str = ""
    revoked_at: str | None = None
    digest: str = field(default="", repr=False)

    def public(self) -> dict[str, Any]:
        """What ``keys list`` shows: never the hash."""
        return {
            "id": self.id,
            "name": self.name,
            "role": self.role.value,
            "desks": list(self.desks),
            "department": self.department,
            "pii": self.pii,
            "created_at": self.created_at,
            "revoked_at": self.revoked_at,
        }

    def to_record(self) -> Record:
        data = self.public() | {"sha256": self.digest}
        return Record(kind=KIND, id=self.id, data=data)

    @classmethod
    def from_record(cls, record: Record) -> ApiKey:
        d = record.data
        return cls(
            id=record.id,
            name=str(d.get("name", "")),
            role=Role(d["role"]),
            desks=tuple(d.get("desks") or ()),
            department=d.get("department"),
            pii=bool(d.get("pii")),
            created_at=str(d.get("created_at", "")),
            revoked_at=d.get("revoked_at"),
            digest=str(d.get("sha256", "")),
        )


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_key(
    store: CaseStore,
    *,
    name: str,
    role: Role,
    desks: tuple[str, ...] = (),
    department: str | None = None,
    pii: bool = False,
) -> tuple[ApiKey, str]:
    """Store a new key and return it with its plain text, which is never stored."""
    if role is Role.DEPARTMENT and not department:
        raise KeyError_("a department key needs --department")
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    key = ApiKey(
        id=key_id,
        name=name,
        role=role,
        desks=tuple(dict.fromkeys(desks)),
        department=department,
        pii=pii,
        created_at=datetime.now(SHANGHAI).isoformat(timespec="seconds"),
        digest=_digest(secret),
    )
    store.put_record(key.to_record())
    return key, f"{PREFIX}{key_id}_{secret}"


def list_keys(store: CaseStore) -> list[ApiKey]:
    keys = [ApiKey.from_record(r) for r in store.records(KIND)]
    return sorted(keys, key=lambda k: (k.created_at, k.id))


def revoke_key(store: CaseStore, key_id: str) -> ApiKey:
    for key in list_keys(store):
        if key.id == key_id:
            if key.revoked_at is None:
                key = ApiKey(**{**key.__dict__, "revoked_at": datetime.now(SHANGHAI).isoformat(
                    timespec="seconds")})
                store.put_record(key.to_record())
            return key
    raise KeyError_(f"no key with id {key_id!r}")


def looks_like_key(token: str) -> bool:
    return token.startswith(PREFIX)


def secret_matches(key: ApiKey, secret: str) -> bool:
    """Whether ``secret`` is the key's (its SHA-256 compared in constant time)."""
    return hmac.compare_digest(key.digest, _digest(secret))


def verify_key(store: CaseStore, token: str) -> ApiKey | None:
    """The live key ``token`` is, or None (unknown, wrong secret or revoked)."""
    key_id, sep, secret = token[len(PREFIX):].partition("_")
    if not sep or not key_id or not secret:
        return None
    for record in store.records(KIND):
        if record.id == key_id:
            key = ApiKey.from_record(record)
            if key.revoked_at is None and secret_matches(key, secret):
                return key
            return None
    return None
