"""What every storage backend provides.

One protocol, one contract suite (:mod:`zhenshen_core.testing.storage_contract`), many backends:
``memory://`` and ``sqlite:///path.db`` built in, ``postgresql://`` as a plugin. The rules that
matter to callers:

* ``save`` is optimistic: it writes only when the stored version equals ``expected_version`` and
  appends the new events in the same transaction; otherwise :class:`ConcurrencyError` and nothing
  is written.
* ``ingest`` is idempotent on (channel, external id): the same work order delivered twice is one
  case; the second call returns the stored case and ``created=False``.
* events are append-only; ``case.version`` equals the number of stored events.
* ``due_clocks`` answers the sweep with an indexed query on each clock's ``next_alert_at``,
  leaving out a clock held back by an open sweep incident until its retry time.
* notices in ``outbox`` are written in the same transaction as the case (``save``, ``ingest``),
  so a stored change and the notices about it are kept together or not at all.

Beside it, optional capabilities a store may add where its database answers faster than the
protocol's general calls would (:class:`FindsReceived`, :class:`ClaimsDueClocks`,
:class:`~zhenshen_core.storage.digest.ProjectsDigests`): the library asks
:func:`finds_received`, :func:`claims_due_clocks` and
:func:`~zhenshen_core.storage.digest.projects_digests` and otherwise answers through
``CaseStore``, so a store without them is complete, and one with them must answer the same.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeGuard, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from zhenshen_core.model.case import AwareDatetime, Case
from zhenshen_core.model.enums import CaseStatus
from zhenshen_core.model.events import CaseEvent
from zhenshen_core.privacy.keys import MasterKey
from zhenshen_core.storage.audit import AuditRecord
from zhenshen_core.storage.outbox import OutboxNotice, SweepIncident


class CaseQuery(BaseModel):
    """Filters combine with AND; list filters match any of their values."""

    model_config = ConfigDict(extra="forbid")

    status: list[CaseStatus] | None = None
    domain: str | None = None
    department: str | None = Field(default=None, description="lead or co department id")
    enterprise: str | None = Field(default=None, description="enterprise USCC")
    channel: str | None = None
    received_from: AwareDatetime | None = None
    received_before: AwareDatetime | None = None
    due_before: AwareDatetime | None = Field(
        default=None, description="a running clock's due_at is before this instant"
    )
    limit: int | None = Field(default=None, ge=1)
    offset: int = Field(default=0, ge=0)


class IngestResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    case_id: str
    created: bool


class DueClock(BaseModel):
    """A clock whose next alert (threshold or breach) is due."""

    model_config = ConfigDict(frozen=True)

    case_id: str
    clock: str
    next_alert_at: AwareDatetime
    due_at: AwareDatetime
    case_version: int


class DeadLetter(BaseModel):
    """A record an intake could not turn into a case: kept whole, with why.

    A dead letter is the record at one place of one source: its identity (:attr:`key`) is
    the channel, the source, the line and the record's text. Ingesting the same file again
    meets the same letter again: the store counts it (``seen``, ``last_seen``, the newest
    ``reason``) instead of keeping it twice, and the key names it for a later retry.
    """

    model_config = ConfigDict(extra="forbid")

    channel: str
    source: str
    line: int | None = None
    raw: str
    reason: str
    at: AwareDatetime = Field(description="when intake first met the record")
    seen: int = Field(default=1, ge=1, description="how many times intake met it")
    last_seen: AwareDatetime | None = Field(
        default=None, description="when intake last met it again; None while seen once"
    )

    @property
    def key(self) -> str:
        """``DL`` and 16 hex digits from (channel, source, line, raw): stable across runs."""
        from zhenshen_core.storage.backend import dead_letter_key

        return dead_letter_key(self.channel, self.source, self.line, self.raw)


class Record(BaseModel):
    """A side document stored beside cases (e.g. a 举一反三 generalisation proposal)."""

    model_config = ConfigDict(extra="forbid")

    kind: str
    id: str
    data: dict[str, Any]


@runtime_checkable
class CaseStore(Protocol):
    url: str

    def ingest(
        self,
        case: Case,
        events: Sequence[CaseEvent],
        *,
        outbox: Sequence[OutboxNotice] = (),
        audit: Sequence[AuditRecord] = (),
    ) -> IngestResult:
        """Store a new case with its first events, unless its external ref is already known;
        ``outbox`` and ``audit`` (access-log records, see :meth:`record_audit`) are kept with
        it, in the same transaction, only when it is created: one commit for a receipt and its
        audit record."""

    def ingest_many(
        self,
        items: Sequence[tuple[Case, Sequence[CaseEvent]]],
        *,
        outbox: Sequence[OutboxNotice] = (),
        audit: Sequence[AuditRecord] = (),
    ) -> list[IngestResult]:
        """``ingest`` for a batch in one transaction: all stored or none; a notice of
        ``outbox`` and a record of ``audit`` are kept when their case is created by this call."""

    def save(
        self,
        case: Case,
        events: Sequence[CaseEvent],
        *,
        expected_version: int,
        outbox: Sequence[OutboxNotice] = (),
    ) -> None:
        """Replace the case and append ``events`` if the stored version is ``expected_version``;
        ``outbox`` notices are added in the same transaction (a key already kept is left as
        it is: the notice was written before)."""

    def get(self, case_id: str) -> Case:
        """The case, or :class:`CaseNotFoundError`."""

    def find_external(self, channel: str, external_id: str) -> Case | None: ...

    def query(self, query: CaseQuery | None = None) -> Iterator[Case]:
        """Cases matching ``query``, ordered by (received_at, id)."""

    def count(self, query: CaseQuery | None = None) -> int: ...

    def events(self, case_id: str) -> list[CaseEvent]:
        """The case's history in order; :class:`CaseNotFoundError` for an unknown case."""

    def due_clocks(self, now: datetime, *, limit: int = 1000) -> list[DueClock]:
        """Running clocks with ``next_alert_at <= now``, earliest first, except those an open
        :class:`SweepIncident` holds back (``next_retry_at > now``)."""

    def add_dead_letter(self, letter: DeadLetter) -> None:
        """Keep ``letter``; one with the same :attr:`DeadLetter.key` already kept is counted
        again instead (``seen`` + 1, ``last_seen`` = ``letter.at``, ``reason`` = the new
        one), in one atomic step (``backend.seen_again`` says how)."""

    def dead_letters(self) -> list[DeadLetter]:
        """Every dead letter once, in the order each was first kept."""

    def dead_letter(self, key: str) -> DeadLetter | None:
        """The dead letter whose :attr:`DeadLetter.key` is ``key``, or None."""

    # --- dead letters re-driven (issue 18) --------------------------------------------------

    def remove_dead_letter(self, key: str) -> bool:
        """Forget the dead letter whose :attr:`DeadLetter.key` is ``key`` (its record is now a
        case: ``zhenshen deadletters retry``); True when one was kept, False when none was
        (removed already, by another retry that won the race)."""

    def put_record(self, record: Record) -> None:
        """Insert or replace a side record by (kind, id)."""

    def records(self, kind: str) -> list[Record]: ...

    # --- the access log (storage/audit.py) ---------------------------------------------------

    def record_audit(self, record: AuditRecord) -> None:
        """Append ``record`` to the access log; one with the same id already kept is left
        as it is (a retried write logs once). Nothing changes or removes a record."""

    def audit(
        self,
        *,
        desk: str | None = None,
        case_id: str | None = None,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> list[AuditRecord]:
        """The access log in the order it was recorded, filtered (AND; ``since``: ``at >=
        since``); ``limit`` keeps the newest ``limit`` matches (``audit.select_audit``)."""
    # --- outbox and sweep incidents (zhenshen_core.storage.outbox) ----------------------------

    def outbox_due(self, now: datetime, *, limit: int = 100) -> list[OutboxNotice]:
        """Pending notices whose ``next_attempt_at <= now``, oldest first (created_at, key)."""

    def outbox_notices(
        self, status: str | None = None, *, limit: int | None = None
    ) -> list[OutboxNotice]:
        """Kept notices (of one status, or all), oldest first (created_at, key)."""

    def outbox_put(self, notice: OutboxNotice) -> None:
        """Insert or replace a notice by key (a delivery's outcome, a retry)."""

    def outbox_put_many(self, notices: Sequence[OutboxNotice]) -> None:
        """``outbox_put`` for several notices in one transaction (a sweep's deliveries)."""

    def outbox_purge(self, delivered_before: datetime) -> int:
        """Delete notices delivered before ``delivered_before``; returns how many."""

    def put_incident(self, incident: SweepIncident) -> None:
        """Insert or replace the incident of (case, clock); a store whose nodes claim clocks
        releases the claim on that clock in the same step (it is held back by the incident
        until ``next_retry_at``, not by the lease)."""

    def incidents(self, *, open_only: bool = True) -> list[SweepIncident]:
        """Sweep incidents (the open ones, or all), ordered by (case id, clock)."""

    def close(self) -> None: ...

    # --- personal data (encrypted at rest: zhenshen_core.storage.crypto) -------------------

    def personal_data_owners(self, numbers: Sequence[str]) -> list[str]:
        """Case ids and dead-letter keys whose personal data holds one of ``numbers`` (phone,
        ID, card numbers, e-mail addresses in ``crypto.normalise_number`` form), found by the
        keyed blind index, never by plain text; sorted."""

    def erase_personal_data(
        self, case: Case, events: Sequence[CaseEvent], *, expected_version: int
    ) -> None:
        """``save`` the redacted ``case`` with its ``personal_data_erased`` event and, in the
        same transaction, destroy the case's data key and blind-index rows (crypto-shredding:
        the sealed values in its history read as ``[已删除]`` from then on)."""

    def erase_dead_letter(self, key: str) -> bool:
        """Destroy a dead letter's record and data key (it reads ``[已删除]``); False when no
        letter has that key."""

    def rewrap_keys(self, old: MasterKey) -> int:
        """Rewrap every data key wrapped by ``old`` under the store's own master key; returns
        how many were rewrapped (keys already under the new key are left alone)."""


# --- optional capabilities ---------------------------------------------------------------------


def offers(store: object, capability: type) -> bool:
    """Whether ``store`` has every method of ``capability``, one of the optional protocols.

    Asked with ``getattr``, not ``isinstance``: from Python 3.12 ``isinstance`` with a runtime
    protocol looks at the class only and misses a method a wrapper forwards through
    ``__getattr__`` (the HTTP service's store is such a wrapper), so those protocols are not
    runtime-checkable.
    """
    methods = [n for n, v in vars(capability).items() if callable(v) and not n.startswith("_")]
    return all(callable(getattr(store, name, None)) for name in methods)


class FindsReceived(Protocol):
    """A store that finds a work order's stored case in one round trip.

    The desk looks a work order up before deciding it in bulk intake, on a desk with an
    enricher and for a case whose deciding failed. Through the protocol that is a
    ``find_external`` per ref and then a ``get``, a network round trip each on a database
    server; :func:`zhenshen_core.storage.backend.received_case` does that, and its answer is
    the one this must equal.
    """

    def find_received(self, refs: Sequence[tuple[str, str]], case_id: str) -> Case | None:
        """The case of the first of ``refs`` (channel, external id) that is stored, else the
        case ``case_id``, else None."""


class ClaimsDueClocks(Protocol):
    """A store shared by several nodes whose sweeps take different due clocks.

    Claims only save work (a clock swept twice is harmless: the second save meets a version
    conflict); without them every node's sweep reads ``due_clocks``.
    """

    def claim_due_clocks(
        self, now: datetime, *, node: str, limit: int = 1000, lease: timedelta = ...
    ) -> list[DueClock]:
        """What ``due_clocks(now, limit=limit)`` answers, less the clocks another node holds,
        leased to ``node`` until ``now + lease``."""

    def release_claims(self, node: str) -> int:
        """Give back every clock ``node`` holds; returns how many."""


def finds_received(store: object) -> TypeGuard[FindsReceived]:
    return offers(store, FindsReceived)


def claims_due_clocks(store: object) -> TypeGuard[ClaimsDueClocks]:
    return offers(store, ClaimsDueClocks)
