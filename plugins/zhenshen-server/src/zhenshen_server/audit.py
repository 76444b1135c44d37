"""The service's side of the store's access log: one record per write and per unmasked read.

Records go to the store's append-only log (``store.record_audit``), so every worker and node
writes to one log, and nothing in the API changes or removes a record. Actions are snake_case
(``receive_case``, ``post_event``, ``read_personal_data``, ``reload_packs``); ``detail`` holds
identifiers only (the event name, whether a case was new), never personal data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from zhenshen_core import AuditRecord
from zhenshen_core.storage.audit import AuditOutcome
from zhenshen_core.storage.protocol import CaseStore


def make(
    *,
    who: str,
    role: str,
    action: str,
    desk: str | None,
    case: str | None,
    outcome: AuditOutcome,
    remote: str | None,
    detail: Mapping[str, Any] | None = None,
) -> AuditRecord:
    """A record, not yet stored (an intake hands it to the store's ``ingest``)."""
    return AuditRecord(
        actor=who,
        role=role,
        action=action,
        desk=desk,
        case_id=case,
        outcome=outcome,
        remote=remote,
        detail=dict(detail or {}),
    )


def record(store: CaseStore, **fields: Any) -> None:
    """Store one record now (see :func:`make` for the fields)."""
    store.record_audit(make(**fields))


def entries(
    store: CaseStore,
    *,
    desks: Iterable[str] | None = None,
    desk: str | None = None,
    case: str | None = None,
    since: datetime | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """The newest ``limit`` records matching, oldest first; ``desks`` bounds what is seen
    (None: every desk)."""
    if desks is None:
        found = store.audit(desk=desk, case_id=case, since=since, limit=limit)
    else:
        reach = [d for d in desks if desk is None or d == desk]
        found = [r for d in reach for r in store.audit(desk=d, case_id=case, since=since,
                                                        limit=limit)]
        found.sort(key=lambda r: r.at)
        found = found[-limit:]
    return [r.model_dump(mode="json") for r in found]
