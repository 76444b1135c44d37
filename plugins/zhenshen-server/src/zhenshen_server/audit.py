"""The audit log: one record per write and per unmasked read.

Records are side records of the store (kind :data:`KIND`, a random id each), so every worker
and node writes to the same log and nothing in the API can change or remove one.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from zhenshen_core.model.case import SHANGHAI
from zhenshen_core.storage.protocol import CaseStore, Record

KIND = "zhenshen_server.audit"


@dataclass(frozen=True)
class AuditEntry:
    who: str
    role: str
    action: str
    desk: str | None
    case: str | None
    outcome: str
    at: str
    remote: str | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def record(
    store: CaseStore,
    *,
    who: str,
    role: str,
    action: str,
    desk: str | None,
    case: str | None,
    outcome: str,
    remote: str | None,
) -> AuditEntry:
    at = datetime.now(SHANGHAI)
    entry = AuditEntry(who, role, action, desk, case, outcome, at.isoformat(), remote)
    # A sortable id: the instant, then randomness (two records in one microsecond differ).
    rid = f"{at.strftime('%Y%m%dT%H%M%S%f')}-{secrets.token_hex(4)}"
    store.put_record(Record(kind=KIND, id=rid, data=entry.as_dict()))
    return entry


def entries(
    store: CaseStore,
    *,
    desks: Iterable[str] | None = None,
    desk: str | None = None,
    case: str | None = None,
    since: datetime | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """The newest ``limit`` records matching, oldest first; ``desks`` bounds what is seen."""
    allowed = set(desks) if desks is not None else None
    found = []
    for rec in sorted(store.records(KIND), key=lambda r: r.id):
        data = rec.data
        if allowed is not None and data.get("desk") not in allowed:
            continue
        if desk is not None and data.get("desk") != desk:
            continue
        if case is not None and data.get("case") != case:
            continue
        if since is not None and datetime.fromisoformat(str(data.get("at"))) < since:
            continue
        found.append({"id": rec.id, **data})
    return found[-limit:]
