"""The access log (审计日志): who read or changed what, when, and with what outcome.

PIPL expects access on a need-to-know basis and a record of it; the desk's own design asks that
every unmasked read of personal data and every write be recorded with its actor. The log is
**append-only**: a store offers ``record_audit`` and ``audit`` and nothing that changes or
removes a record, and the SQL stores refuse ``UPDATE`` and ``DELETE`` of its rows with
triggers, so not even a hand-written statement rewrites it.

A record says what happened, never the personal data itself: ``detail`` holds identifiers and
counts (a case id, which fields were shown, a masked phone number at most), because the log is
kept longer than the cases it speaks of and an erased person must not live on in it.

Recording the same record (same ``id``) twice keeps one: a store that retries a write whose
answer was lost does not log the access twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from zhenshen_core.model.case import ensure_aware

__all__ = [
    "AUDIT_ACTIONS",
    "AuditOutcome",
    "AuditRecord",
    "check_audit_limit",
    "select_audit",
]

AuditOutcome = Literal["ok", "denied", "failed"]

#: Actions the library itself records (others may record their own, in snake_case).
AUDIT_ACTIONS = {
    "read_personal_data": "an output showed personal data unmasked (--show-personal-data, pii)",
}


def _new_id() -> str:
    return "AU" + uuid.uuid4().hex[:20].upper()


def _now() -> datetime:
    return datetime.now(UTC)


class AuditRecord(BaseModel):
    """One entry of the access log.

    ``actor`` is who acted (an OS user, an API key's name, a configured actor), ``role`` in
    what capacity (``desk``, ``department``, ``service`` …), ``action`` what was done
    (``read_personal_data``), ``desk`` which desk's data, ``case_id`` which case (None for a
    listing or a report over many), ``outcome`` whether it was allowed and succeeded,
    ``remote`` where a request came from (an address, for the HTTP service), ``detail`` a small
    JSON object with the rest — never the personal data itself.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(default_factory=_new_id, min_length=1, max_length=64)
    at: AwareDatetime = Field(default_factory=_now)
    actor: str = Field(min_length=1, max_length=200)
    role: str | None = Field(default=None, max_length=100)
    action: str = Field(min_length=1, max_length=100)
    desk: str | None = Field(default=None, max_length=200)
    case_id: str | None = Field(default=None, max_length=200)
    outcome: AuditOutcome = "ok"
    remote: str | None = Field(default=None, max_length=200)
    detail: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _storable(self) -> AuditRecord:
        # What no store can keep (a NUL, which PostgreSQL refuses; a lone surrogate, which is
        # no UTF-8) is refused here, the same on every backend, instead of half-way in SQL.
        for text in _strings(self.model_dump(mode="json")):
            if "\x00" in text:
                raise ValueError("an access-log record cannot hold a NUL character (U+0000)")
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError("an access-log record cannot hold a lone surrogate") from None
        return self


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)


def check_audit_limit(limit: int | None) -> None:
    """``audit(limit=…)`` takes a positive count or None; anything else is the caller's bug."""
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValueError(f"audit limit must be a positive integer or None, got {limit!r}")


def select_audit(
    records: Iterable[AuditRecord],
    *,
    desk: str | None = None,
    case_id: str | None = None,
    since: datetime | None = None,
    limit: int | None = None,
) -> list[AuditRecord]:
    """The contract of ``CaseStore.audit`` over records in the order they were recorded:
    filters combine with AND (``since`` keeps ``at >= since``), and ``limit`` keeps the
    newest ``limit`` of the matches, still oldest first. The memory store answers with it;
    the SQL stores answer the same in SQL, and the contract suite checks they agree."""
    check_audit_limit(limit)
    if since is not None:
        since = ensure_aware(since)
    found: Sequence[AuditRecord] = [
        r
        for r in records
        if (desk is None or r.desk == desk)
        and (case_id is None or r.case_id == case_id)
        and (since is None or r.at >= since)
    ]
    return list(found[-limit:]) if limit is not None else list(found)
