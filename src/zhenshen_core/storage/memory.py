"""``memory://``: a store in a dict, for tests, notebooks and one-shot CLI runs.

It keeps the JSON storage form of cases and events rather than the objects a caller passed in,
so a caller mutating its copy cannot change the store behind its back, and so the memory store
behaves like the persistent ones (same round trip, same masking rules).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from zhenshen_core.errors import CaseNotFoundError, ConcurrencyError, StorageError
from zhenshen_core.model.case import Case, ensure_aware
from zhenshen_core.model.events import CaseEvent
from zhenshen_core.privacy.keys import MasterKey, resolve_master_key
from zhenshen_core.storage.audit import AuditRecord, select_audit
from zhenshen_core.storage.backend import (
    alerting_clocks,
    check_new,
    check_update,
    external_keys,
    kept_with_created,
    matches,
    seen_again,
    sort_key,
    to_micros,
)
from zhenshen_core.storage.crypto import ERASED, Vault
from zhenshen_core.storage.outbox import OutboxNotice, SweepIncident
from zhenshen_core.storage.protocol import (
    CaseQuery,
    DeadLetter,
    DueClock,
    IngestResult,
    Record,
)


@dataclass
class _State:
    cases: dict[str, str] = field(default_factory=dict)  # id -> case JSON
    events: dict[str, list[str]] = field(default_factory=dict)  # id -> event JSON in order
    refs: dict[tuple[str, str], str] = field(default_factory=dict)  # (channel, ext id) -> id
    dead: dict[str, str] = field(default_factory=dict)  # key -> letter JSON, first kept first
    records: dict[tuple[str, str], str] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)  # owner -> wrapped data key
    index: dict[str, set[str]] = field(default_factory=dict)  # owner -> blind-index tokens
    audit: dict[str, str] = field(default_factory=dict)  # id -> record JSON, in order
    outbox: dict[str, str] = field(default_factory=dict)  # key -> notice JSON
    incidents: dict[tuple[str, str], str] = field(default_factory=dict)  # (case, clock) -> JSON


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


class MemoryStore:
    """A thread-safe in-process :class:`~zhenshen_core.storage.CaseStore`; nothing persists."""

    def __init__(self, url: str = "memory://", *, pii_key: MasterKey | None = None) -> None:
        self.url = url
        self._lock = threading.RLock()
        self._state = _State()
        # Sealed like the persistent stores, so it behaves like them; with no key configured,
        # one that lives as long as the store (nothing outlives it anyway).
        master = pii_key or resolve_master_key() or MasterKey.generate("a key for this store")
        self._vault = Vault(master)
        self._index_key, _ = self._vault.index_key(None)

    @classmethod
    def from_url(cls, url: str) -> MemoryStore:
        return cls(url)

    # --- writes ----------------------------------------------------------------------------

    def ingest(
        self,
        case: Case,
        events: Sequence[CaseEvent],
        *,
        outbox: Sequence[OutboxNotice] = (),
        audit: Sequence[AuditRecord] = (),
    ) -> IngestResult:
        return self.ingest_many([(case, events)], outbox=outbox, audit=audit)[0]

    def ingest_many(
        self,
        items: Sequence[tuple[Case, Sequence[CaseEvent]]],
        *,
        outbox: Sequence[OutboxNotice] = (),
        audit: Sequence[AuditRecord] = (),
    ) -> list[IngestResult]:
        for case, events in items:
            check_new(case, events)
        with self._lock:
            # Work on a copy of the indexes and swap at the end: all of the batch or none of it.
            cases = dict(self._state.cases)
            evs = dict(self._state.events)
            refs = dict(self._state.refs)
            results = []
            for case, events in items:
                known = _known_id(case, cases, refs)
                if known is not None:
                    results.append(IngestResult(case_id=known, created=False))
                    continue
                cases[case.id], evs[case.id] = self._seal(case, events)
                for key in external_keys(case):
                    refs[key] = case.id
                results.append(IngestResult(case_id=case.id, created=True))
            self._state.cases, self._state.events, self._state.refs = cases, evs, refs
            notices, records = kept_with_created(results, outbox, audit)
            self._add_notices(notices)
            for record in records:
                self._state.audit.setdefault(record.id, record.model_dump_json())
            return results

    def save(
        self,
        case: Case,
        events: Sequence[CaseEvent],
        *,
        expected_version: int,
        outbox: Sequence[OutboxNotice] = (),
    ) -> None:
        check_update(case, events, expected_version)
        with self._lock:
            stored = self._state.cases.get(case.id)
            if stored is None:
                raise CaseNotFoundError(case.id)
            actual = len(self._state.events[case.id])
            if actual != expected_version:
                raise ConcurrencyError(case.id, expected_version, actual)
            new_keys = []
            for key in external_keys(case):
                owner = self._state.refs.get(key)
                if owner is not None and owner != case.id:
                    raise StorageError(
                        f"case {case.id}: external ref {key[0]}:{key[1]} already belongs to "
                        f"case {owner}"
                    )
                new_keys.append(key)
            self._state.cases[case.id], texts = self._seal(case, events)
            self._state.events[case.id] = self._state.events[case.id] + texts
            for key in new_keys:
                self._state.refs[key] = case.id
            self._add_notices(outbox)

    def add_dead_letter(self, letter: DeadLetter) -> None:
        key = letter.key
        with self._lock:
            kept = self._state.dead.get(key)
            if kept is not None:
                letter = seen_again(self._letter(key, kept), letter)
            sealing = self._vault.sealing(key, self._vault.key_of(self._state.keys.get(key), key))
            sealed = self._vault.seal_letter(sealing, letter)
            self._keep(sealing)
            self._state.dead[key] = sealed.model_dump_json()

    # --- dead letters re-driven (issue 18) --------------------------------------------------

    def remove_dead_letter(self, key: str) -> bool:
        with self._lock:
            self._state.keys.pop(key, None)  # its data key and index rows go with it
            self._state.index.pop(key, None)
            return self._state.dead.pop(key, None) is not None

    def put_record(self, record: Record) -> None:
        with self._lock:
            self._state.records[(record.kind, record.id)] = record.model_dump_json()

    # --- reads -----------------------------------------------------------------------------

    def get(self, case_id: str) -> Case:
        with self._lock:
            doc = self._state.cases.get(case_id)
        if doc is None:
            raise CaseNotFoundError(case_id)
        return self._load(case_id, doc)

    def find_external(self, channel: str, external_id: str) -> Case | None:
        with self._lock:
            case_id = self._state.refs.get((str(channel), external_id))
        return None if case_id is None else self.get(case_id)

    def query(self, query: CaseQuery | None = None) -> Iterator[Case]:
        return iter(self._select(query or CaseQuery()))

    def count(self, query: CaseQuery | None = None) -> int:
        q = (query or CaseQuery()).model_copy(update={"limit": None, "offset": 0})
        return len(self._select(q))

    def _select(self, query: CaseQuery) -> list[Case]:
        with self._lock:
            docs = list(self._state.cases.items())
        found = sorted(
            (c for c in (self._load(i, d) for i, d in docs) if matches(c, query)), key=sort_key
        )
        end = None if query.limit is None else query.offset + query.limit
        return found[query.offset : end]

    def events(self, case_id: str) -> list[CaseEvent]:
        with self._lock:
            docs = self._state.events.get(case_id)
            wrapped = self._state.keys.get(case_id)
        if docs is None:
            raise CaseNotFoundError(case_id)
        key = self._vault.key_of(wrapped, case_id)
        return [self._vault.open_event(d, key, case_id) for d in docs]

    def due_clocks(self, now: datetime, *, limit: int = 1000) -> list[DueClock]:
        cutoff = to_micros(now)
        with self._lock:
            docs = list(self._state.cases.items())
        held = {(i.case_id, i.clock) for i in self.incidents() if i.holds(ensure_aware(now))}
        due = []
        for case in (self._load(i, d) for i, d in docs):
            for name, clock in alerting_clocks(case):
                assert clock.next_alert_at is not None
                if to_micros(clock.next_alert_at) <= cutoff and (case.id, name) not in held:
                    due.append(
                        DueClock(
                            case_id=case.id,
                            clock=name,
                            next_alert_at=ensure_aware(clock.next_alert_at),
                            due_at=ensure_aware(clock.due_at),
                            case_version=case.version,
                        )
                    )
        due.sort(key=lambda d: (to_micros(d.next_alert_at), d.case_id, d.clock))
        return due[:limit]

    def dead_letters(self) -> list[DeadLetter]:
        with self._lock:
            docs = list(self._state.dead.items())
        return [self._letter(k, d) for k, d in docs]

    def dead_letter(self, key: str) -> DeadLetter | None:
        with self._lock:
            doc = self._state.dead.get(key)
        return None if doc is None else self._letter(key, doc)

    def records(self, kind: str) -> list[Record]:
        with self._lock:
            docs = sorted((k[1], v) for k, v in self._state.records.items() if k[0] == kind)
        return [Record.model_validate_json(v) for _, v in docs]

    # --- the access log (storage/audit.py) ---------------------------------------------------

    def record_audit(self, record: AuditRecord) -> None:
        doc = record.model_dump_json()
        with self._lock:
            self._state.audit.setdefault(record.id, doc)

    def audit(
        self,
        *,
        desk: str | None = None,
        case_id: str | None = None,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> list[AuditRecord]:
        with self._lock:
            docs = list(self._state.audit.values())
        records = (AuditRecord.model_validate_json(doc) for doc in docs)
        return select_audit(records, desk=desk, case_id=case_id, since=since, limit=limit)
    # --- outbox and sweep incidents ---------------------------------------------------------

    def _add_notices(self, notices: Iterable[OutboxNotice]) -> None:
        with self._lock:
            for notice in notices:
                self._state.outbox.setdefault(notice.key, notice.model_dump_json())

    def outbox_due(self, now: datetime, *, limit: int = 100) -> list[OutboxNotice]:
        cutoff = to_micros(now)
        due = [n for n in self.outbox_notices("pending") if to_micros(n.next_attempt_at) <= cutoff]
        return due[:limit]

    def outbox_notices(
        self, status: str | None = None, *, limit: int | None = None
    ) -> list[OutboxNotice]:
        with self._lock:
            docs = list(self._state.outbox.values())
        found = [OutboxNotice.model_validate_json(d) for d in docs]
        found = [n for n in found if status is None or n.status == status]
        found.sort(key=lambda n: (to_micros(n.created_at), n.key))
        return found if limit is None else found[:limit]

    def outbox_put(self, notice: OutboxNotice) -> None:
        with self._lock:
            self._state.outbox[notice.key] = notice.model_dump_json()

    def outbox_put_many(self, notices: Sequence[OutboxNotice]) -> None:
        with self._lock:
            for notice in notices:
                self._state.outbox[notice.key] = notice.model_dump_json()

    def outbox_purge(self, delivered_before: datetime) -> int:
        cutoff = to_micros(delivered_before)
        with self._lock:
            gone = [
                key
                for key, doc in self._state.outbox.items()
                if (n := OutboxNotice.model_validate_json(doc)).delivered_at is not None
                and n.status == "delivered"
                and to_micros(n.delivered_at) < cutoff
            ]
            for key in gone:
                del self._state.outbox[key]
        return len(gone)

    def put_incident(self, incident: SweepIncident) -> None:
        with self._lock:
            self._state.incidents[(incident.case_id, incident.clock)] = incident.model_dump_json()

    def incidents(self, *, open_only: bool = True) -> list[SweepIncident]:
        with self._lock:
            docs = sorted(self._state.incidents.items())
        found = [SweepIncident.model_validate_json(d) for _, d in docs]
        return [i for i in found if i.open or not open_only]

    def close(self) -> None:
        """Nothing to release; the data goes when the object does."""

    # --- personal data (storage/crypto.py) -------------------------------------------------

    def _seal(self, case: Case, events: Sequence[CaseEvent]) -> tuple[str, list[str]]:
        wrapped = self._state.keys.get(case.id)
        sealing = self._vault.sealing(case.id, self._vault.key_of(wrapped, case.id))
        doc, texts = self._vault.seal_case(sealing, case, events)
        self._keep(sealing)
        return _dumps(doc), texts

    def _keep(self, sealing: Any) -> None:
        owner = sealing.owner
        if sealing.new and sealing.key is not None:
            self._state.keys[owner] = self._vault.wrap(sealing.key, owner)
        self._state.index[owner] = set(self._vault.tokens(self._index_key, sealing.numbers))

    def _load(self, case_id: str, doc: str) -> Case:
        return self._vault.open_case(doc, self._state.keys.get(case_id), case_id)

    def _letter(self, key: str, doc: str) -> DeadLetter:
        letter = DeadLetter.model_validate_json(doc)
        return self._vault.open_letter(letter, self._state.keys.get(key), key)

    def personal_data_owners(self, numbers: Sequence[str]) -> list[str]:
        tokens = set(self._vault.tokens(self._index_key, numbers))
        with self._lock:
            return sorted(o for o, held in self._state.index.items() if held & tokens)

    def erase_personal_data(
        self, case: Case, events: Sequence[CaseEvent], *, expected_version: int
    ) -> None:
        with self._lock:
            self.save(case, events, expected_version=expected_version)
            self._state.keys.pop(case.id, None)
            self._state.index.pop(case.id, None)

    def erase_dead_letter(self, key: str) -> bool:
        with self._lock:
            doc = self._state.dead.get(key)
            self._state.keys.pop(key, None)
            self._state.index.pop(key, None)
            if doc is None:
                return False
            letter = DeadLetter.model_validate_json(doc)
            erased = letter.model_copy(update={"raw": ERASED, "reason": ERASED})
            self._state.dead[key] = erased.model_dump_json()
            return True

    def rewrap_keys(self, old: MasterKey) -> int:
        with self._lock:
            changed = {
                owner: new
                for owner, wrapped in self._state.keys.items()
                if (new := self._vault.rewrap(wrapped, owner, old)) is not None
            }
            self._state.keys.update(changed)
            return len(changed)


def _known_id(case: Case, cases: dict[str, str], refs: dict[tuple[str, str], str]) -> str | None:
    for key in external_keys(case):
        if key in refs:
            return refs[key]
    return case.id if case.id in cases else None
