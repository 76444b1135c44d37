"""``postgresql://``: the store several application nodes share.

Design, in the order the issue asks for it:

* **Documents and columns.** A case is stored whole as JSONB (``doc``) and, beside it, the fields
  queries filter on (status, domain, lead department, every department in a GIN-indexed array,
  enterprise USCC, channel, received_at, version). ``doc`` is the only source a case is read
  from; the columns are an index of it, rewritten with it in the same statement.
* **Idempotent intake.** ``external_refs`` has the primary key (channel, external_id). One
  case with at most one ref (an HTTP intake) is looked up and written in one statement in
  autocommit: one round trip, one transaction on the server. A batch first looks its refs and
  ids up (one statement), then writes refs before cases with ``COPY`` (one case with several
  refs: in one statement sent together with the ``COMMIT``). When another node commits the
  same work order between the look-up and the write, the unique key stops the write, the
  transaction rolls back and the write is retried, this time finding the stored case. Two
  nodes ingesting one work order therefore store it once.
* **Optimistic concurrency.** ``UPDATE cases … WHERE id = %s AND version = %s``; no row means a
  stale version (or an unknown case) and the transaction is rolled back before anything else is
  written. A concurrent writer blocks on the row lock, then re-checks the version and loses.
* **Clocks.** Running clocks live in their own table, each row carrying its case's version,
  with a partial covering index on ``(next_alert_at, case_id, name) INCLUDE (due_at,
  case_version)``: the sweep is one index range scan that never reads the cases table, whatever
  the number of cases. :meth:`PostgresStore.claim_due_clocks` adds a lease taken with ``FOR
  UPDATE SKIP LOCKED`` so several nodes can sweep at once without handing the same alert to two
  of them.
* **Connections.** ``psycopg_pool`` is not a dependency: each store object keeps a few
  connections in autocommit mode (``pool_size``, 4 by default) and lends one to a thread for the
  whole of an operation (its retries included), so one object is safe to share between threads
  and up to ``pool_size`` of them commit at once (a web worker's requests wait for the disk's
  flush together instead of in turn). A broken connection is replaced on the next call.
  Timeouts come from the URL (``connection.py``).
* **Retries.** Every operation runs through :meth:`PostgresStore._attempts`: a transaction the
  server rolled back for another one (deadlock, serialization failure, the intake race) and a
  lost connection or a server going away are tried again, up to ``retries`` times with
  exponential backoff and jitter; a stall or a refusal is reported at once. A write transaction
  first asks for its transaction id (in the round trip of its ``BEGIN``), so when the connection
  is lost while ``COMMIT`` is on its way the store can ask the server, on a new connection,
  whether it committed (``txid_status``) instead of guessing: committed is success, aborted is
  retried, and only an answer that cannot be had leaves the outcome unknown, which is retried
  for the idempotent operations and reported for the others (storing a dead letter).

Why one module of this size: like the SQLite store, the SQL and the Python that writes and
reads its tables change together; the schema's steps are in ``migrations.py``, the checks every
backend shares in ``zhenshen_core.storage.backend``.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import cached_property
from types import MappingProxyType, TracebackType
from typing import Any, TypeVar

import orjson
import psycopg
from psycopg import errors as pg_errors
from psycopg.pq import TransactionStatus
from psycopg.types.string import TextLoader
from pydantic import BaseModel, ValidationError

from zhenshen_core.errors import (
    CaseNotFoundError,
    ConcurrencyError,
    StorageError,
    StoreUnavailableError,
)
from zhenshen_core.model.case import SHANGHAI, Case, ensure_aware
from zhenshen_core.model.clock import Clock
from zhenshen_core.model.events import CaseEvent
from zhenshen_core.privacy.keys import MasterKey, PersonalDataWarning, resolve_master_key
from zhenshen_core.storage.audit import AuditRecord, check_audit_limit
from zhenshen_core.storage.backend import (
    backoff_delays,
    check_new,
    check_update,
    external_keys,
    kept_with_created,
    query_enterprise,
    received_case,
)
from zhenshen_core.storage.crypto import SEALED, Vault
from zhenshen_core.storage.digest import CaseDigest, ClockDigest, parse_instant
from zhenshen_core.storage.outbox import OutboxNotice, SweepIncident
from zhenshen_core.storage.protocol import (
    CaseQuery,
    DeadLetter,
    DueClock,
    IngestResult,
    Record,
)
from zhenshen_postgres import personal as pii
from zhenshen_postgres.connection import (
    DEFAULT_SCHEMA,
    SCHEMES,
    CopyWriter,
    Failure,
    GuardedConnection,
    PostgresURL,
    classify,
    connect,
    first_line,
    gone,
    parse_url,
)
from zhenshen_postgres.migrations import migrate as run_migrations
from zhenshen_postgres.migrations import schema_version

__all__ = ["DEFAULT_SCHEMA", "SCHEMES", "PostgresStore", "PostgresURL", "parse_url"]

DEFAULT_LEASE = timedelta(minutes=5)
_PAGE = 500
# A JSON \u0000 escape: an odd number of backslashes before "u0000" (an even number is a
# literal backslash followed by the text "u0000", which jsonb stores fine).
_NUL_ESCAPE = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")
_Conn = psycopg.Connection[tuple[Any, ...]]
_Cursor = psycopg.Cursor[tuple[Any, ...]]
M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


class PostgresStore:
    """A :class:`~zhenshen_core.storage.CaseStore` on PostgreSQL, shared by many nodes.

    Opening one connects and migrates the schema (unless ``migrate=False``). Use it as a context
    manager or call :meth:`close`. ``url`` is for display: a password in the URL is masked there.
    ``connect_timeout`` (seconds), when given, wins over the URL's.

    Personal data is sealed with ``pii_key``, else the key of the URL's ``pii_key_file``,
    ``ZHENSHEN_PII_KEY`` or ``ZHENSHEN_PII_KEY_FILE``. With none, it is stored in plain text
    (every node must share one key, so none can be generated here) and a
    :class:`PersonalDataWarning` says so.
    """

    def __init__(
        self,
        url: str,
        *,
        migrate: bool = True,
        connect_timeout: int | None = None,
        pii_key: MasterKey | None = None,
        pool_size: int = 4,
    ) -> None:
        if pool_size < 1:
            raise ValueError(f"pool_size must be at least 1, not {pool_size}")
        parsed = parse_url(url)
        master = pii_key or resolve_master_key(key_file=parsed.pii_key_file)
        if master is None:
            warnings.warn(
                PersonalDataWarning(
                    f"{parsed.display}: no master key configured (ZHENSHEN_PII_KEY, "
                    "ZHENSHEN_PII_KEY_FILE or pii_key_file=PATH in the URL); personal data is "
                    "stored UNENCRYPTED and cannot be crypto-shredded"
                ),
                stacklevel=2,
            )
        self._vault = Vault(master)
        self._index_key: bytes | None = None
        if connect_timeout is not None:
            parsed = replace(parsed, connect_timeout=connect_timeout)
        self.url = parsed.display
        self.schema = parsed.schema
        self.settings = parsed
        self._lock = threading.Lock()  # guards the idle list only
        self._idle: list[GuardedConnection] = []
        self._closes = 0  # connections lent out before the last close() are not kept
        self._slots = threading.BoundedSemaphore(pool_size)
        self._local = threading.local()  # the connection lent to this thread, and how deep
        self._connected_once = False
        self._rng = random.Random()
        try:
            self._read(
                lambda conn: (
                    run_migrations(conn, self.schema, seal=self._seal_existing) if migrate else None
                ),
                "open the store",
            )
        except BaseException:
            self.close()
            raise

    @classmethod
    def from_url(cls, url: str) -> PostgresStore:
        return cls(url)

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- connection ------------------------------------------------------------------------

    @contextmanager
    def _lent(self) -> Iterator[None]:
        """A connection slot for this thread for the whole operation; a nested operation (the
        migrations' sealing, the commit-outcome check) uses the same connection."""
        local = self._local
        depth = getattr(local, "depth", 0)
        if depth:
            local.depth = depth + 1
            try:
                yield
            finally:
                local.depth -= 1
            return
        self._slots.acquire()
        try:
            with self._lock:
                local.conn = self._idle.pop() if self._idle else None
                closes = self._closes
            local.depth = 1
            try:
                yield
            finally:
                local.depth = 0
                conn, local.conn = local.conn, None
                if conn is not None:
                    with self._lock:
                        keep = closes == self._closes and not gone(conn) and (
                            conn.info.transaction_status == TransactionStatus.IDLE
                        )
                        if keep:
                            self._idle.append(conn)
                    if not keep:
                        conn.close()
        finally:
            self._slots.release()

    def _connection(self) -> GuardedConnection:
        """The connection lent to this thread (see :meth:`_lent`), opened when needed."""
        conn: GuardedConnection | None = getattr(self._local, "conn", None)
        if not gone(conn):
            assert conn is not None
            return conn
        if conn is not None:
            conn.close()  # broken: release the socket before opening a new one
            self._local.conn = None
        conn = connect(self.settings)
        try:
            # Documents are parsed by pydantic straight from JSON text: faster than json.loads,
            # and the same path every backend takes.
            conn.adapters.register_loader("jsonb", TextLoader)
            conn.adapters.register_loader("json", TextLoader)
            conn.execute(
                psycopg.sql.SQL("SET search_path TO {}").format(psycopg.sql.Identifier(self.schema))
            )
            conn.execute("SET TIME ZONE 'Asia/Shanghai'")
        except BaseException:
            conn.close()
            raise
        self._local.conn = conn
        self._connected_once = True
        return conn

    @contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        """Driver errors become :class:`StorageError` naming the store and what failed (and
        :class:`StoreUnavailableError` when the server stalled or the connection was lost).
        Nothing is retried here: :meth:`_write` and :meth:`_read` are the ways that retry."""
        try:
            yield
        except psycopg.Error as exc:
            raise self._failure(exc, doing, classify(exc)) from exc

    def _failure(self, exc: psycopg.Error, doing: str, failure: Failure) -> StorageError:
        detail = first_line(exc)
        if isinstance(exc, pg_errors.ConnectionTimeout):
            detail = (
                f"no answer within connect_timeout={self.settings.connect_timeout} s; "
                "the server may be stalled or unreachable"
            )
        if failure is Failure.REFUSED:
            return StorageError(f"{self.url}: could not {doing}: {detail}")
        return StoreUnavailableError(f"{self.url}: could not {doing}: {detail}")

    def _attempts(
        self,
        doing: str,
        attempt: Callable[[_Transaction], T],
        *,
        idempotent: bool,
        conflicts: tuple[type[psycopg.Error], ...] = (),
    ) -> T:
        """Run ``attempt`` until it succeeds, a failure is not worth another try, or the
        ``retries`` of the URL are spent (with :func:`backoff_delays` between tries).

        ``conflicts`` are more errors that mean "rolled back because of another transaction"
        for this operation (the intake race's unique violation). ``idempotent`` says whether a
        write whose commit outcome stayed unknown may be run again.
        """
        with self._lent():
            delays: Iterator[float] | None = None  # drawn on the first failure only
            tries = 1
            while True:
                tx = _Transaction()
                first_connection = not self._connected_once
                try:
                    return attempt(tx)
                except psycopg.Error as exc:
                    if first_connection and not self._connected_once:
                        raise self._open_error(exc, doing) from exc
                    failure = Failure.CONFLICT if isinstance(exc, conflicts) else classify(exc)
                    if failure in (Failure.LOST, Failure.STALLED) and tx.committing:
                        outcome = self._outcome(tx) if failure is Failure.LOST else None
                        if outcome == "committed":
                            return tx.result  # type: ignore[no-any-return]
                        if outcome != "aborted" and (failure is Failure.STALLED or not idempotent):
                            what = "stopped answering" if failure is Failure.STALLED else "was lost"
                            raise StoreUnavailableError(
                                f"{self.url}: could not {doing}: {first_line(exc)}; the "
                                f"connection {what} while committing, and whether it was "
                                "committed is unknown"
                            ) from exc
                    if failure in (Failure.REFUSED, Failure.STALLED):
                        raise self._failure(exc, doing, failure) from exc
                    if delays is None:
                        delays = iter(backoff_delays(self.settings.retries, rng=self._rng))
                    delay = next(delays, None)
                    if delay is None:
                        raise StoreUnavailableError(
                            f"{self.url}: could not {doing} ({tries} attempt{'s' * (tries > 1)}):"
                            f" {first_line(exc)}"
                        ) from exc
                    tries += 1
                    time.sleep(delay)

    def _open_error(self, exc: psycopg.Error, doing: str) -> StorageError:
        """The first connection failed: a store that never answered is reported at once (a
        wrong host, port, database or role is likelier than a restart, and is not worth
        retrying); no answer in time is a stall."""
        stalled = classify(exc) is Failure.STALLED
        return self._failure(exc, doing, Failure.STALLED if stalled else Failure.REFUSED)

    def _write(
        self,
        doing: str,
        work: Callable[[_Cursor], T],
        *,
        idempotent: bool,
        conflicts: tuple[type[psycopg.Error], ...] = (),
    ) -> T:
        """``work`` in one transaction, retried as a whole (see :meth:`_attempts`)."""
        return self._write_tx(
            doing, lambda cur, _tx: work(cur), idempotent=idempotent, conflicts=conflicts
        )

    def _write_tx(
        self,
        doing: str,
        work: Callable[[_Cursor, _Transaction], T],
        *,
        idempotent: bool,
        conflicts: tuple[type[psycopg.Error], ...] = (),
    ) -> T:
        """:meth:`_write`, where ``work`` may end the transaction itself (:func:`_commit_with`:
        its last statements sent with the ``COMMIT``, in one round trip)."""

        def attempt(tx: _Transaction) -> T:
            conn = self._connection()
            try:
                with conn.cursor() as cur:
                    # The transaction id comes back with BEGIN, in one round trip.
                    cur.execute(b"BEGIN; SELECT txid_current()")
                    cur.nextset()
                    row = cur.fetchone()
                    tx.xid, tx.pid = int(row[0]) if row else None, conn.info.backend_pid
                    result = work(cur, tx)
                    if not tx.committing:
                        tx.result = result
                        tx.committing = True
                        cur.execute(b"COMMIT")
                    return result
            except BaseException:
                if not gone(conn) and conn.info.transaction_status != TransactionStatus.IDLE:
                    # If the connection is going, the error to report is the first one.
                    with suppress(psycopg.Error):
                        conn.execute(b"ROLLBACK")
                raise

        return self._attempts(doing, attempt, idempotent=idempotent, conflicts=conflicts)

    def _outcome(self, tx: _Transaction) -> str | None:
        """Whether the transaction whose COMMIT went unanswered committed: ``committed``,
        ``aborted``, or None when the server cannot say (or cannot be reached).

        The old backend may still hold the transaction open (it has not noticed the lost
        connection yet); it is ended first, only if it is still running that very transaction,
        so that the answer is final.
        """
        if tx.xid is None:
            return None
        for delay in [0.0, *backoff_delays(4, base=0.05, rng=self._rng)]:
            time.sleep(delay)  # "in progress": the old backend is still ending
            try:
                conn = self._connection()
                if tx.pid is not None:
                    conn.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE pid = %s AND backend_xid::text = %s",
                        (tx.pid, str(tx.xid % 2**32)),
                    )
                row = conn.execute("SELECT txid_status(%s)", (tx.xid,)).fetchone()
            except psycopg.Error:
                return None  # the server cannot be asked (down, or not answering)
            status = row[0] if row else None
            if status in ("committed", "aborted"):
                return str(status)
        return None

    def close(self) -> None:
        """Close the connections (one lent out is closed when its operation ends). The store
        stays usable: it connects again on the next call."""
        with self._lock:
            self._closes += 1
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
        mine: GuardedConnection | None = getattr(self._local, "conn", None)
        if mine is not None and not getattr(self._local, "depth", 0):
            mine.close()
            self._local.conn = None

    def schema_version(self) -> int:
        """The newest migration applied to this store's schema."""
        return self._read(lambda conn: schema_version(conn, self.schema), "read the schema version")

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
        """Store a batch in one transaction with ``COPY``; retried when another node races it."""
        for case, events in items:
            check_new(case, events)
        rows = [_IngestRow.of(case, events, self._vault) for case, events in items]
        if not rows:
            return []
        tokens = {r.id: self._tokens(r.numbers) for r in rows}
        inserts = {r.id: _audit_insert(r) for r in audit}  # a refused detail fails first
        if len(rows) == 1 and len(rows[0].keys) <= 1:
            return [self._ingest_alone(rows[0], tokens[rows[0].id], outbox, audit, inserts)]
        # Idempotent on (channel, external id): a retry after any failure finds what was stored.
        return self._write_tx(
            "ingest cases",
            lambda cur, tx: self._ingest_once(cur, tx, rows, tokens, outbox, audit, inserts),
            idempotent=True,
            conflicts=(pg_errors.UniqueViolation,),
        )

    def _ingest_alone(
        self,
        row: _IngestRow,
        tokens: list[str],
        outbox: Sequence[OutboxNotice],
        audit: Sequence[AuditRecord],
        inserts: Mapping[str, tuple[bytes, tuple[Any, ...]]],
    ) -> IngestResult:
        """One case with at most one ref (an HTTP intake) in one statement, in autocommit: the
        look-up of its ref and id and every row it is stored as, written only when neither is
        stored. One round trip and one transaction on the server, where a batch takes a
        ``BEGIN``, a look-up and a ``COMMIT`` besides.

        A concurrent delivery of the same work order stops this one on the unique key; it is
        retried and finds the stored case. An attempt whose answer was lost may have committed
        (there is no transaction id to ask about): the retry finds the case by this very id,
        which only this call writes, and says created, as the lost answer would have."""
        ours = [IngestResult(case_id=row.id, created=True)]
        notices, records = kept_with_created(ours, outbox, audit)
        params = _one_case(row, tokens, notices, [inserts[r.id][1] for r in records])
        lost = False  # an earlier attempt's answer was lost: it may have stored the case

        def attempt(tx: _Transaction) -> IngestResult:
            nonlocal lost
            conn = self._connection()
            tx.committing = True  # the statement commits itself
            try:
                found = conn.execute(_INGEST_ALONE, params).fetchone()
            except psycopg.Error as exc:
                lost = lost or classify(exc) is Failure.LOST
                raise
            known = found[0] if found else None
            if known is None:
                return ours[0]
            return IngestResult(case_id=known, created=lost and known == row.id)

        return self._attempts(
            "ingest cases", attempt, idempotent=True, conflicts=(pg_errors.UniqueViolation,)
        )

    def _ingest_once(
        self,
        cur: _Cursor,
        tx: _Transaction,
        rows: list[_IngestRow],
        tokens: dict[str, list[str]],
        outbox: Sequence[OutboxNotice],
        audit: Sequence[AuditRecord],
        inserts: Mapping[str, tuple[bytes, tuple[Any, ...]]],
    ) -> list[IngestResult]:
        keys = sorted({k for r in rows for k in r.keys})
        # Refs and ids in one statement (a ref's row has its channel, an id's has none).
        cur.execute(
            _LOOK_UP, ([k[0] for k in keys], [k[1] for k in keys], sorted({r.id for r in rows}))
        )
        refs: dict[tuple[str, str], str] = {}
        ids: set[str] = set()
        for channel, external_id, case_id in cur.fetchall():
            if channel is None:
                ids.add(case_id)
            else:
                refs[channel, external_id] = case_id
        results: list[IngestResult] = []
        new: list[_IngestRow] = []
        for row in rows:
            known = next((refs[k] for k in row.keys if k in refs), None)
            if known is None and row.id in ids:
                known = row.id
            if known is not None:
                results.append(IngestResult(case_id=known, created=False))
                continue
            ids.add(row.id)
            refs.update((k, row.id) for k in row.keys)
            new.append(row)
            results.append(IngestResult(case_id=row.id, created=True))
        if not new:
            return results
        notices, records = kept_with_created(results, outbox, audit)
        if len(new) == 1:
            # One case (with several refs, or in a batch of repeats): every row in one
            # statement, sent with the COMMIT in one round trip; a COPY costs two round trips
            # and a parse on the server for each table, an INSERT per table a message and an
            # executor run each.
            [row] = new
            params = _one_case(
                row, tokens[row.id], notices, [inserts[r.id][1] for r in records], look_up=False
            )
            _commit_with(cur, tx, results, _INGEST_ALONE, params)
            return results
        # Refs go first and sorted, so that two nodes writing overlapping batches take the
        # unique-index locks in one order and queue instead of deadlocking.
        ref_rows = sorted((*k, r.id) for r in new for k in r.keys)
        # Each COPY streams while the cases are serialised (the server parses one chunk while
        # Python dumps the next), instead of dumping the whole batch and then waiting.
        if ref_rows:
            _copy(cur, "external_refs (channel, external_id, case_id)", ref_rows)
        _copy(
            cur,
            "cases (id, doc, status, domain, lead_department, departments,"
            " enterprise_uscc, channel, received_at, version)",
            (r.case_row for r in new),
        )
        _copy(
            cur,
            "events (case_id, seq, at, type, actor, doc)",
            (e for r in new for e in r.event_rows),
        )
        if any(r.clock_rows for r in new):
            _copy(
                cur,
                "clocks (case_id, name, next_alert_at, due_at, case_version)",
                (c for r in new for c in r.clock_rows),
            )
        if any(r.wrapped for r in new):
            _copy(cur, "pii_keys (owner, wrapped)", ((r.id, r.wrapped) for r in new if r.wrapped))
        if any(tokens[r.id] for r in new):
            _copy(cur, "pii_index (token, owner)", ((t, r.id) for r in new for t in tokens[r.id]))
        _insert_notices(cur, notices)
        for record in records:
            cur.execute(*inserts[record.id])
        return results

    def save(
        self,
        case: Case,
        events: Sequence[CaseEvent],
        *,
        expected_version: int,
        outbox: Sequence[OutboxNotice] = (),
    ) -> None:
        self._save(case, events, expected_version, erase=False, outbox=outbox)

    def _save(
        self,
        case: Case,
        events: Sequence[CaseEvent],
        expected_version: int,
        *,
        erase: bool,
        outbox: Sequence[OutboxNotice] = (),
    ) -> None:
        check_update(case, events, expected_version)
        wrapped = self._wrapped(case.id)
        row = _IngestRow.of(case, events, self._vault, self._vault.key_of(wrapped, case.id))
        tokens = self._tokens(row.numbers)
        # Serialise before taking the lock: a refused document (NUL) fails here, and the
        # transaction below holds the row lock only for the statements themselves.
        _ = row.case_row, row.event_rows, row.clock_rows

        def write(cur: _Cursor) -> None:
            cur.execute(
                "UPDATE cases SET doc = %s, status = %s, domain = %s, lead_department = %s,"
                " departments = %s, enterprise_uscc = %s, channel = %s, received_at = %s,"
                " version = %s, updated_at = now() WHERE id = %s AND version = %s",
                (*row.case_row[1:], case.id, expected_version),
            )
            if cur.rowcount != 1:
                cur.execute("SELECT version FROM cases WHERE id = %s", (case.id,))
                found = cur.fetchone()
                if found is None:
                    raise CaseNotFoundError(case.id)
                raise ConcurrencyError(case.id, expected_version, int(found[0]))
            if row.keys:
                self._claim_refs(cur, case.id, row.keys)
            if row.event_rows:
                cur.executemany(
                    "INSERT INTO events (case_id, seq, at, type, actor, doc)"
                    " VALUES (%s, %s, %s, %s, %s, %s)",
                    row.event_rows,
                )
            self._write_clocks(cur, case.id, row.clock_rows)
            _insert_notices(cur, outbox)
            if erase:
                pii.drop_owner(cur, case.id)
                return
            if row.wrapped:
                pii.store_keys(cur, [(case.id, row.wrapped)])
            if tokens or wrapped is not None:
                pii.write_index(cur, case.id, tokens)

        # Retried only as a whole transaction, and only when it surely did not commit (the
        # server rolled it back, or txid_status says so): the version check then decides again.
        self._write(f"save case {case.id}", write, idempotent=False)

    @staticmethod
    def _claim_refs(
        cur: psycopg.Cursor[Any], case_id: str, keys: Sequence[tuple[str, str]]
    ) -> None:
        channels, external_ids = [k[0] for k in keys], [k[1] for k in keys]
        cur.execute(
            "INSERT INTO external_refs (channel, external_id, case_id)"
            " SELECT channel, external_id, %s FROM unnest(%s::text[], %s::text[])"
            " AS k(channel, external_id) ORDER BY 1, 2 ON CONFLICT DO NOTHING",
            (case_id, channels, external_ids),
        )
        cur.execute(
            "SELECT r.channel, r.external_id, r.case_id FROM external_refs r"
            " JOIN unnest(%s::text[], %s::text[]) AS k(channel, external_id)"
            " USING (channel, external_id) WHERE r.case_id <> %s",
            (channels, external_ids, case_id),
        )
        taken = cur.fetchone()
        if taken is not None:
            raise StorageError(
                f"case {case_id}: external ref {taken[0]}:{taken[1]} already belongs to "
                f"case {taken[2]}"
            )

    @staticmethod
    def _write_clocks(
        cur: psycopg.Cursor[Any], case_id: str, clock_rows: Sequence[tuple[Any, ...]]
    ) -> None:
        """Keep the clock rows in step with the case (times and the case version).

        A claim is dropped as soon as the clock's alert time moves: the alert it was taken for
        has been handled (or superseded) by whoever saved the new time.
        """
        cur.execute(
            "DELETE FROM clocks WHERE case_id = %s AND NOT (name = ANY(%s))",
            (case_id, [r[1] for r in clock_rows]),
        )
        if clock_rows:
            cur.executemany(
                "INSERT INTO clocks AS k (case_id, name, next_alert_at, due_at, case_version)"
                " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (case_id, name) DO UPDATE SET"
                " next_alert_at = excluded.next_alert_at, due_at = excluded.due_at,"
                " case_version = excluded.case_version,"
                " claimed_by = CASE WHEN k.next_alert_at IS DISTINCT FROM excluded.next_alert_at"
                " THEN NULL ELSE k.claimed_by END,"
                " claimed_until = CASE WHEN k.next_alert_at IS DISTINCT FROM excluded.next_alert_at"
                " THEN NULL ELSE k.claimed_until END",
                clock_rows,
            )

    def add_dead_letter(self, letter: DeadLetter) -> None:
        # Met again (the same key): counted, the newest document kept, `at` the first time.
        # Not idempotent (a second commit would count it twice): retried only when it surely
        # did not commit.
        key = letter.key
        wrapped = self._wrapped(key)
        sealing = self._vault.sealing(key, self._vault.key_of(wrapped, key))
        sealed = self._vault.seal_letter(sealing, letter)
        new_key = self._vault.wrap(sealing.key, key) if sealing.new and sealing.key else None
        tokens = self._tokens(sealing.numbers)

        def write(cur: _Cursor) -> None:
            cur.execute(
                "INSERT INTO dead_letters AS d (key, channel, at, doc, seen)"
                " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (key) DO UPDATE SET"
                " seen = d.seen + excluded.seen, last_seen = excluded.at, doc = excluded.doc",
                (key, sealed.channel, sealed.at, sealed.model_dump_json(), sealed.seen),
            )
            if new_key is not None:
                pii.store_keys(cur, [(key, new_key)])
            if tokens:
                pii.write_index(cur, key, tokens)

        self._write("store a dead letter", write, idempotent=False)

    # --- dead letters re-driven (issue 18) --------------------------------------------------

    def remove_dead_letter(self, key: str) -> bool:
        # One statement, idempotent (deleting twice leaves the same table): retried as is; a
        # retry after a lost answer may say False for a letter the first attempt removed.
        def write(cur: _Cursor) -> bool:
            found = cur.execute("DELETE FROM dead_letters WHERE key = %s", (key,)).rowcount > 0
            pii.drop_owner(cur, key)  # its data key and index rows go with it
            return found

        return self._write("remove a dead letter", write, idempotent=True)

    def put_record(self, record: Record) -> None:
        data = _json_for_jsonb(record.data, f"record {record.kind}/{record.id}")
        # One statement, idempotent (the same upsert twice leaves the same row): retried as is.
        self._read(
            lambda conn: conn.execute(
                "INSERT INTO records (kind, id, data) VALUES (%s, %s, %s)"
                " ON CONFLICT (kind, id) DO UPDATE SET data = excluded.data, updated_at = now()",
                (record.kind, record.id, data),
            ),
            f"store record {record.kind}/{record.id}",
        )

    # --- reads -----------------------------------------------------------------------------

    def get(self, case_id: str) -> Case:
        row = self._one(
            f"SELECT doc, {pii.WRAPPED} FROM cases WHERE id = %s",
            (case_id,),
            f"read case {case_id}",
        )
        if row is None:
            raise CaseNotFoundError(case_id)
        return self._case(case_id, row[0], row[1])

    def find_external(self, channel: str, external_id: str) -> Case | None:
        row = self._one(
            f"SELECT cases.id, cases.doc, {pii.WRAPPED} FROM external_refs r"
            " JOIN cases ON cases.id = r.case_id"
            " WHERE r.channel = %s AND r.external_id = %s",
            (str(channel), external_id),
            f"look up {channel}:{external_id}",
        )
        return None if row is None else self._case(row[0], row[1], row[2])

    def find_received(self, refs: Sequence[tuple[str, str]], case_id: str) -> Case | None:
        """The stored case of a work order: the case of the first of ``refs`` (channel,
        external id) that is stored, else the case ``case_id``, else None — what
        :meth:`find_external` for each ref and then :meth:`get` answer. The desk asks it where
        it looks a work order up before deciding it (bulk intake, a desk with an enricher, a
        case whose deciding failed): a work order with one ref is looked up in one statement,
        planned in a fifth of the time a look-up of a list takes."""
        if len(refs) != 1:
            return received_case(self, refs, case_id)
        [(channel, external_id)] = refs
        row = self._one(
            _FIND_RECEIVED, (str(channel), external_id, case_id), f"look up case {case_id}"
        )
        return None if row is None else self._case(row[0], row[1], row[2])

    def query(self, query: CaseQuery | None = None) -> Iterator[Case]:
        """Cases page by page (keyset on (received_at, id)); no lock is held between pages."""
        q = query or CaseQuery()
        where, params = _where(q)
        remaining = q.limit
        offset = q.offset
        after: tuple[datetime, str] | None = None
        while remaining is None or remaining > 0:
            size = _PAGE if remaining is None else min(_PAGE, remaining)
            clauses = list(where)
            page_params = list(params)
            if after is not None:
                clauses.append("(received_at, id) > (%s, %s)")
                page_params.extend(after)
            text = f"SELECT received_at, id, doc, {pii.WRAPPED} FROM cases"
            if clauses:
                text += " WHERE " + " AND ".join(clauses)
            text += " ORDER BY received_at, id LIMIT %s OFFSET %s"
            page_params.extend([size, offset])
            rows = self._all(text, page_params, "query cases")
            for received_at, case_id, doc, wrapped in rows:
                yield self._case(case_id, doc, wrapped)
                after = (received_at, case_id)
            if len(rows) < size:
                return
            offset = 0
            if remaining is not None:
                remaining -= len(rows)

    def count(self, query: CaseQuery | None = None) -> int:
        where, params = _where(query or CaseQuery())
        text = "SELECT count(*) FROM cases"
        if where:
            text += " WHERE " + " AND ".join(where)
        row = self._one(text, params, "count cases")
        return int(row[0]) if row else 0

    def events(self, case_id: str) -> list[CaseEvent]:
        rows = self._all(
            "SELECT doc FROM events WHERE case_id = %s ORDER BY seq",
            (case_id,),
            f"read the events of case {case_id}",
        )
        if not rows and self._one("SELECT 1 FROM cases WHERE id = %s", (case_id,), "") is None:
            raise CaseNotFoundError(case_id)
        sealed = any(SEALED in doc for (doc,) in rows)
        key = self._vault.key_of(self._wrapped(case_id), case_id) if sealed else None
        if not sealed:
            return [_parse(CaseEvent, doc, f"an event of case {case_id}") for (doc,) in rows]
        return [self._vault.open_event(doc, key, case_id) for (doc,) in rows]

    def due_clocks(self, now: datetime, *, limit: int = 1000) -> list[DueClock]:
        """One range scan of the partial index on ``next_alert_at``; the clock rows carry the case
        version, so the sweep never touches the (large) cases table."""
        rows = self._all(
            "SELECT case_id, name, next_alert_at, due_at, case_version FROM clocks k"
            " WHERE next_alert_at IS NOT NULL AND next_alert_at <= %s"
            f" AND {_NOT_HELD} ORDER BY next_alert_at, case_id, name LIMIT %s",
            (ensure_aware(now), ensure_aware(now), limit),
            "find due clocks",
        )
        return [_due(row) for row in rows]

    def claim_due_clocks(
        self,
        now: datetime,
        *,
        node: str,
        limit: int = 1000,
        lease: timedelta = DEFAULT_LEASE,
    ) -> list[DueClock]:
        """Due clocks nobody else holds, leased to ``node`` until ``now + lease``.

        Several nodes may call this at once: ``FOR UPDATE SKIP LOCKED`` lets each take rows the
        others have not locked, and the lease (written in the same statement) keeps a clock away
        from other sweeps after the claiming transaction commits. The claim ends when the case is
        saved with a new alert time for that clock, or when the lease runs out (a node that died
        mid-sweep does not keep its clocks). Claims cut duplicate work; the case version in each
        :class:`DueClock` is what makes the follow-up ``save`` safe even if a lease expired.
        """
        if not node:
            raise ValueError("claim_due_clocks needs a non-empty node name")
        if lease <= timedelta(0):
            raise ValueError(f"lease must be positive, got {lease}")
        at = ensure_aware(now)
        # Retried whatever the outcome: clocks claimed by an attempt whose answer was lost are
        # leased, not handled, and come back to a sweep when the lease runs out.
        rows = self._write(
            "claim due clocks",
            lambda cur: cur.execute(
                # Joined back on ctid: a TID scan per picked row, where a join on the key
                # lets the planner hash the whole clocks table.
                "WITH picked AS ("
                " SELECT ctid FROM clocks k"
                " WHERE next_alert_at IS NOT NULL AND next_alert_at <= %(now)s"
                " AND (claimed_until IS NULL OR claimed_until <= %(now)s)"
                f" AND {_NOT_HELD.replace('%s', '%(now)s')}"
                " ORDER BY next_alert_at, case_id, name LIMIT %(limit)s"
                " FOR UPDATE SKIP LOCKED)"
                " UPDATE clocks k SET claimed_by = %(node)s, claimed_until = %(until)s"
                " FROM picked WHERE k.ctid = picked.ctid"
                " RETURNING k.case_id, k.name, k.next_alert_at, k.due_at, k.case_version",
                {"now": at, "limit": limit, "node": node, "until": at + lease},
            ).fetchall(),
            idempotent=True,
        )
        due = [_due(row) for row in rows]
        due.sort(key=lambda d: (d.next_alert_at, d.case_id, d.clock))
        return due

    def release_claims(self, node: str) -> int:
        """Give back every clock ``node`` holds (e.g. on an orderly shutdown); returns how many."""
        return self._read(  # one idempotent statement, retried as is
            lambda conn: (
                conn.execute(
                    "UPDATE clocks SET claimed_by = NULL, claimed_until = NULL"
                    " WHERE claimed_by = %s",
                    (node,),
                ).rowcount
            ),
            "release claims",
        )

    # --- outbox and sweep incidents (migration 3) ----------------------------------------

    def outbox_due(self, now: datetime, *, limit: int = 100) -> list[OutboxNotice]:
        rows = self._all(
            "SELECT doc::text FROM outbox WHERE status = 'pending' AND next_attempt_at <= %s"
            " ORDER BY created_at, key LIMIT %s",
            (ensure_aware(now), limit),
            "read the outbox",
        )
        return [_parse(OutboxNotice, doc, "an outbox notice") for (doc,) in rows]

    def outbox_notices(
        self, status: str | None = None, *, limit: int | None = None
    ) -> list[OutboxNotice]:
        where = "WHERE status = %s" if status is not None else ""
        params: list[Any] = [status] if status is not None else []
        rows = self._all(
            f"SELECT doc::text FROM outbox {where} ORDER BY created_at, key LIMIT %s",
            [*params, limit],
            "read the outbox",
        )
        return [_parse(OutboxNotice, doc, "an outbox notice") for (doc,) in rows]

    def outbox_put(self, notice: OutboxNotice) -> None:
        # One idempotent upsert: retried as is.
        self._read(
            lambda conn: conn.execute(_UPSERT_NOTICE.encode(), _notice_row(notice)),
            f"store outbox notice {notice.key}",
        )

    def outbox_put_many(self, notices: Sequence[OutboxNotice]) -> None:
        if not notices:
            return
        rows = [_notice_row(n) for n in notices]
        # Upserts of whole rows: the same transaction twice leaves the same rows (idempotent).
        self._write(
            f"store {len(rows)} outbox notices",
            lambda cur: cur.executemany(_UPSERT_NOTICE.encode(), rows),
            idempotent=True,
        )

    def outbox_purge(self, delivered_before: datetime) -> int:
        return self._read(
            lambda conn: (
                conn.execute(
                    "DELETE FROM outbox WHERE status = 'delivered' AND delivered_at < %s",
                    (ensure_aware(delivered_before),),
                ).rowcount
            ),
            "purge the outbox",
        )

    def put_incident(self, incident: SweepIncident) -> None:
        """The incident, and the clock's claim released in the same transaction: the incident
        holds it back until its retry time, and a lease left behind would block it longer."""

        def write(cur: _Cursor) -> None:
            cur.execute(
                "INSERT INTO sweep_incidents (case_id, clock, next_retry_at, resolved, doc)"
                " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (case_id, clock) DO UPDATE SET"
                " next_retry_at = excluded.next_retry_at, resolved = excluded.resolved,"
                " doc = excluded.doc",
                (
                    incident.case_id,
                    incident.clock,
                    incident.next_retry_at,
                    not incident.open,
                    incident.model_dump_json(),
                ),
            )
            cur.execute(
                "UPDATE clocks SET claimed_by = NULL, claimed_until = NULL"
                " WHERE case_id = %s AND name = %s AND claimed_by IS NOT NULL",
                (incident.case_id, incident.clock),
            )

        self._write(f"record a sweep incident of case {incident.case_id}", write, idempotent=True)

    def incidents(self, *, open_only: bool = True) -> list[SweepIncident]:
        where = "WHERE NOT resolved" if open_only else ""
        rows = self._all(
            f"SELECT doc::text FROM sweep_incidents {where} ORDER BY case_id, clock",
            (),
            "read sweep incidents",
        )
        return [_parse(SweepIncident, doc, "a sweep incident") for (doc,) in rows]

    def case_digests(self, tag: str) -> Iterator[CaseDigest]:
        """What a report counts of every case, projected by jsonb operators in three queries
        (:mod:`zhenshen_core.storage.digest`): no case document is parsed in Python."""
        rows = self._all(_DIGEST_SQL, (tag,), "digest cases")
        clocks: dict[str, list[ClockDigest]] = {}
        for case_id, name, due, stopped in self._all(_DIGEST_CLOCKS_SQL, (), "digest clocks"):
            clock = ClockDigest(name, datetime.fromisoformat(due), parse_instant(stopped))
            clocks.setdefault(case_id, []).append(clock)
        returns: dict[str, list[tuple[str, datetime]]] = {}
        for case_id, department, at in self._all(_DIGEST_RETURNS_SQL, (), "digest returns"):
            returns.setdefault(case_id, []).append((department, datetime.fromisoformat(at)))
        for row in rows:
            (case_id, external_id, title, status, domain, tier, lead, received, tagged,
             satisfaction, rated_at, closed_at) = row  # fmt: skip
            if title and title.startswith(SEALED):
                title = self._vault.open_text(title, self._wrapped(case_id), case_id)
            yield CaseDigest(
                id=case_id,
                external_id=external_id,
                title=title or "",
                status=status,
                domain=domain,
                tier=tier,
                lead=lead,
                received_at=received.astimezone(SHANGHAI),
                tagged=bool(tagged),
                satisfaction=satisfaction,
                rated_at=parse_instant(rated_at),
                returns=tuple(returns.get(case_id, ())),
                clocks=tuple(clocks.get(case_id, ())),
                closed_at=closed_at.astimezone(SHANGHAI) if closed_at is not None else None,
            )

    def latest_event_at(self) -> datetime | None:
        row = self._one("SELECT max(at) FROM events", (), "find the newest event")
        return None if row is None or row[0] is None else row[0].astimezone(SHANGHAI)

    def dead_letters(self) -> list[DeadLetter]:
        rows = self._all(
            f"SELECT {_LETTER_COLUMNS}, {_LETTER_WRAPPED} FROM dead_letters d ORDER BY id",
            (),
            "read dead letters",
        )
        return [self._letter(row) for row in rows]

    def dead_letter(self, key: str) -> DeadLetter | None:
        query = f"SELECT {_LETTER_COLUMNS}, {_LETTER_WRAPPED} FROM dead_letters d WHERE key = %s"
        row = self._one(query, (key,), "read a dead letter")
        return None if row is None else self._letter(row)

    def records(self, kind: str) -> list[Record]:
        rows = self._all(
            "SELECT id, data FROM records WHERE kind = %s ORDER BY id", (kind,), "read records"
        )
        return [Record(kind=kind, id=i, data=json.loads(data)) for i, data in rows]

    # --- personal data (zhenshen_core.storage.crypto, personal.py) -------------------------

    def _seal_existing(self, conn: _Conn) -> None:
        if self._vault.encrypted:
            pii.seal_existing(conn, self._vault)

    def _wrapped(self, owner: str) -> str | None:
        row = self._one("SELECT wrapped FROM pii_keys WHERE owner = %s", (owner,), "read a key")
        return None if row is None else str(row[0])

    def _tokens(self, numbers: Iterable[str]) -> list[str]:
        if self._index_key is None:
            self._index_key = self._read(
                lambda conn: pii.index_key(conn, self._vault), "read the index key"
            )
        return self._vault.tokens(self._index_key, numbers)

    def _case(self, case_id: str, doc: str, wrapped: str | None) -> Case:
        if SEALED not in doc:
            return _parse(Case, doc, f"case {case_id}")
        return self._vault.open_case(doc, wrapped, case_id)

    def _letter(self, row: tuple[Any, ...]) -> DeadLetter:
        *columns, key, wrapped = row
        return self._vault.open_letter(_dead_letter(tuple(columns)), wrapped, key)

    def personal_data_owners(self, numbers: Sequence[str]) -> list[str]:
        tokens = self._tokens(numbers)
        return self._read(lambda conn: pii.owners_of(conn, tokens), "search the personal index")

    def erase_personal_data(
        self, case: Case, events: Sequence[CaseEvent], *, expected_version: int
    ) -> None:
        self._save(case, events, expected_version, erase=True)

    def erase_dead_letter(self, key: str) -> bool:
        from zhenshen_core.storage.crypto import ERASED

        letter = self.dead_letter(key)
        if letter is None:
            return False
        erased = letter.model_copy(update={"raw": ERASED, "reason": ERASED}).model_dump_json()

        def write(cur: _Cursor) -> None:
            cur.execute("UPDATE dead_letters SET doc = %s WHERE key = %s", (erased, key))
            pii.drop_owner(cur, key)

        self._write(f"erase dead letter {key}", write, idempotent=True)
        return True

    def rewrap_keys(self, old: MasterKey) -> int:
        if not self._vault.encrypted:
            raise StorageError(f"{self.url}: no master key to rewrap the data keys with")
        return self._write(
            "rewrap the data keys",
            lambda cur: pii.rewrap_all(cur, self._vault, old),
            idempotent=True,
        )

    # --- the access log (zhenshen_core.storage.audit) ----------------------------------------

    def record_audit(self, record: AuditRecord) -> None:
        text, params = _audit_insert(record)
        # One statement, idempotent on the record's id: retried as is.
        self._read(lambda conn: conn.execute(text, params), "record an access")

    def audit(
        self,
        *,
        desk: str | None = None,
        case_id: str | None = None,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> list[AuditRecord]:
        check_audit_limit(limit)
        clauses: list[str] = []
        params: list[Any] = []
        for column, value in (("desk", desk), ("case_id", case_id)):
            if value is not None:
                clauses.append(f"{column} = %s")
                params.append(value)
        if since is not None:
            clauses.append("at >= %s")
            params.append(ensure_aware(since))
        text = f"SELECT {_AUDIT_COLUMNS} FROM audit_log"
        if clauses:
            text += " WHERE " + " AND ".join(clauses)
        text += " ORDER BY seq DESC LIMIT %s"
        rows = self._all(text, [*params, limit], "read the access log")
        return [_audit_record(row) for row in reversed(rows)]

    # --- helpers ---------------------------------------------------------------------------

    def _one(self, text: str, params: Sequence[Any], doing: str) -> tuple[Any, ...] | None:
        return self._read(lambda conn: conn.execute(text.encode(), params).fetchone(), doing)

    def _all(self, text: str, params: Sequence[Any], doing: str) -> list[tuple[Any, ...]]:
        return self._read(lambda conn: conn.execute(text.encode(), params).fetchall(), doing)

    def _read(self, run: Callable[[_Conn], T], doing: str) -> T:
        """Run a read, or one idempotent statement in autocommit, again on a new connection
        after a lost one (server restart, failover, idle timeout): see :meth:`_attempts`."""
        return self._attempts(doing or "read", lambda _tx: run(self._connection()), idempotent=True)


# The case of a ref if there is one, else the case of the id (see find_received).
_FIND_RECEIVED = (
    f"SELECT cases.id, cases.doc, {pii.WRAPPED} FROM cases WHERE cases.id = coalesce("
    "(SELECT r.case_id FROM external_refs r WHERE r.channel = %s AND r.external_id = %s), %s)"
)
_LETTER_COLUMNS = "doc, at, seen, last_seen"
_LETTER_WRAPPED = "d.key, (SELECT k.wrapped FROM pii_keys k WHERE k.owner = d.key)"
_AUDIT_COLUMNS = "id, at, actor, role, action, desk, case_id, outcome, remote, detail"


def _audit_insert(record: AuditRecord) -> tuple[bytes, tuple[Any, ...]]:
    """The statement and parameters that add one access-log record (idempotent on its id)."""
    detail = _json_for_jsonb(record.detail, f"access-log record {record.id}")
    return (
        f"INSERT INTO audit_log ({_AUDIT_COLUMNS})"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO NOTHING".encode(),
        (
            record.id,
            record.at,
            record.actor,
            record.role,
            record.action,
            record.desk,
            record.case_id,
            record.outcome,
            record.remote,
            detail,
        ),
    )


def _audit_record(row: tuple[Any, ...]) -> AuditRecord:
    record_id, at, actor, role, action, desk, case_id, outcome, remote, detail = row
    return AuditRecord(
        id=record_id,
        at=at.astimezone(SHANGHAI),
        actor=actor,
        role=role,
        action=action,
        desk=desk,
        case_id=case_id,
        outcome=outcome,
        remote=remote,
        detail=json.loads(detail),
    )


# A clock (aliased k) not held back by an open sweep incident at the instant given.
_NOT_HELD = (
    "NOT EXISTS (SELECT 1 FROM sweep_incidents i WHERE i.case_id = k.case_id"
    " AND i.clock = k.name AND NOT i.resolved AND i.next_retry_at > %s)"
)

_NOTICE_COLUMNS = "(key, case_id, status, created_at, next_attempt_at, delivered_at, doc)"
_UPSERT_NOTICE = (
    f"INSERT INTO outbox {_NOTICE_COLUMNS} VALUES (%s, %s, %s, %s, %s, %s, %s)"
    " ON CONFLICT (key) DO UPDATE SET status = excluded.status,"
    " next_attempt_at = excluded.next_attempt_at, delivered_at = excluded.delivered_at,"
    " doc = excluded.doc"
)


def _notice_row(notice: OutboxNotice) -> tuple[Any, ...]:
    return (
        notice.key,
        notice.case_id,
        notice.status,
        notice.created_at,
        notice.next_attempt_at,
        notice.delivered_at,
        _json_for_jsonb(notice.model_dump(mode="json"), f"outbox notice {notice.key}"),
    )


def _insert_notices(cur: psycopg.Cursor[Any], notices: Sequence[OutboxNotice]) -> None:
    """Notices written with their change; a key already kept stays as it is."""
    if notices:
        cur.executemany(
            f"INSERT INTO outbox {_NOTICE_COLUMNS} VALUES (%s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (key) DO NOTHING",
            [_notice_row(n) for n in notices],
        )


# What of a batch is stored already: (channel, external_id, case_id) for a ref, (NULL, NULL,
# id) for an id.
_LOOK_UP = (
    b"SELECT r.channel, r.external_id, r.case_id FROM external_refs r"
    b" JOIN unnest(%s::text[], %s::text[]) AS k(channel, external_id)"
    b" USING (channel, external_id)"
    b" UNION ALL SELECT NULL, NULL, id FROM cases WHERE id = ANY(%s)"
)
# One case looked up and written in one statement (see _ingest_alone): the stored case of its
# (first) ref, else of its id, answered; every row written only when there is none — the case
# by its values, every other table from arrays, one literal per column (see _columns), each of
# which may be empty. The foreign keys are checked at the end of the statement, when the case
# row is there.
_NONE_STORED = b" WHERE (SELECT id FROM known) IS NULL"
_INGEST_ALONE = (
    b"WITH known AS MATERIALIZED (SELECT coalesce("
    b"(SELECT case_id FROM external_refs WHERE channel = %s AND external_id = %s),"
    b" (SELECT id FROM cases WHERE id = %s)) AS id),"
    b" refs AS (INSERT INTO external_refs (channel, external_id, case_id)"
    b" SELECT * FROM unnest(%s::text[], %s::text[], %s::text[])" + _NONE_STORED + b"),"
    b" new_case AS (INSERT INTO cases (id, doc, status, domain, lead_department, departments,"
    b" enterprise_uscc, channel, received_at, version)"
    b" SELECT %s::text, %s::jsonb, %s::text, %s::text, %s::text, %s::text[], %s::text,"
    b" %s::text, %s::timestamptz, %s::int" + _NONE_STORED + b"),"
    b" history AS (INSERT INTO events (case_id, seq, at, type, actor, doc)"
    b" SELECT * FROM unnest(%s::text[], %s::int[], %s::timestamptz[], %s::text[], %s::text[],"
    b" %s::json[])" + _NONE_STORED + b"),"
    b" running AS (INSERT INTO clocks (case_id, name, next_alert_at, due_at, case_version)"
    b" SELECT * FROM unnest(%s::text[], %s::text[], %s::timestamptz[], %s::timestamptz[],"
    b" %s::int[])" + _NONE_STORED + b"),"
    b" data_key AS (INSERT INTO pii_keys (owner, wrapped)"
    b" SELECT * FROM unnest(%s::text[], %s::text[])" + _NONE_STORED + b"),"
    b" tokens AS (INSERT INTO pii_index (token, owner)"
    b" SELECT * FROM unnest(%s::text[], %s::text[])" + _NONE_STORED + b"),"
    b" notices AS (INSERT INTO outbox " + _NOTICE_COLUMNS.encode() + b""
    b" SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::timestamptz[],"
    b" %s::timestamptz[], %s::timestamptz[], %s::jsonb[])" + _NONE_STORED + b""
    b" ON CONFLICT (key) DO NOTHING),"
    b" audit AS (INSERT INTO audit_log (" + _AUDIT_COLUMNS.encode() + b")"
    b" SELECT * FROM unnest(%s::text[], %s::timestamptz[], %s::text[], %s::text[], %s::text[],"
    b" %s::text[], %s::text[], %s::text[], %s::text[], %s::jsonb[])" + _NONE_STORED + b""
    b" ON CONFLICT (id) DO NOTHING)"
    b" SELECT id FROM known"
)


def _columns(rows: Sequence[Sequence[Any]], width: int) -> list[str]:
    """``rows`` as one array literal per column (``width`` empty arrays for no rows).

    Written here rather than passed as lists: psycopg's array dumper costs about 3 µs a list
    in Python (most of the statement's client time), a literal made with ``str.replace`` a
    tenth of it, and the server reads it with the same input functions as COPY's text."""
    if not rows:
        return ["{}"] * width
    return ["{" + ",".join(map(_array_item, column)) + "}" for column in zip(*rows, strict=True)]


def _one_case(
    row: _IngestRow,
    tokens: Sequence[str],
    notices: Sequence[OutboxNotice],
    audit_rows: Sequence[tuple[Any, ...]],
    *,
    look_up: bool = True,
) -> list[Any]:
    """The parameters of ``_INGEST_ALONE`` for ``row``. Its refs go sorted, so that two nodes
    writing overlapping work orders take the unique-index locks in one order and queue
    instead of deadlocking.

    ``look_up=False``: the caller has looked the case up already and says it is new, so the
    statement writes it unconditionally — a work order another node committed since then
    stops it on the unique key (and the transaction is retried) instead of leaving it
    unwritten while the caller reports it created."""
    channel, external_id = row.keys[0] if row.keys and look_up else (None, None)
    return [
        channel,
        external_id,
        row.id if look_up else None,
        *_columns(sorted((*k, row.id) for k in row.keys), 3),
        *row.case_row,
        *_columns(row.event_rows, 6),
        *_columns(row.clock_rows, 5),
        *_columns([(row.id, row.wrapped)] if row.wrapped else [], 2),
        *_columns([(t, row.id) for t in tokens], 2),
        *_columns([_notice_row(n) for n in notices], 7),
        *_columns(audit_rows, 10),
    ]


def _array_item(value: Any) -> str:
    """One element of an array literal: NULL, or the value's text form quoted."""
    if value is None:
        return "NULL"
    text = _copy_instant(value) if isinstance(value, datetime) else str(value)
    if "\\" in text:
        text = text.replace("\\", "\\\\")
    return '"' + text.replace('"', '\\"') + '"'


def _commit_with(
    cur: psycopg.Cursor[Any], tx: _Transaction, result: Any, query: bytes, params: Sequence[Any]
) -> None:
    """Run ``query`` and COMMIT, in one pipeline: one round trip. The COMMIT is on its way as
    soon as the pipeline is sent, so ``tx`` says so first (a lost answer is then settled by
    asking the server, as for a COMMIT sent alone)."""
    tx.result = result
    tx.committing = True
    with cur.connection.pipeline():
        cur.execute(query, params)
        cur.execute(b"COMMIT")


def _dead_letter(row: tuple[Any, ...]) -> DeadLetter:
    """The newest document of a dead letter, with when it was first and last met and how often."""
    doc, first, seen, last = row
    return _parse(DeadLetter, doc, "a dead letter").model_copy(
        update={
            "at": first.astimezone(SHANGHAI),
            "seen": seen,
            "last_seen": None if last is None else last.astimezone(SHANGHAI),
        }
    )


@dataclass
class _Transaction:
    """What one attempt of a write got to know: its transaction id and backend, its result,
    and whether its COMMIT had been sent (after which a lost connection leaves the outcome to
    be asked for)."""

    xid: int | None = None
    pid: int | None = None
    result: Any = None
    committing: bool = False


@dataclass(frozen=True)
class _IngestRow:
    """A case and the rows it is stored as; each kind of row is built on first use."""

    case: Case
    events: tuple[CaseEvent, ...]
    id: str
    keys: tuple[tuple[str, str], ...]
    doc: str  # the case document as written: personal values sealed
    event_texts: tuple[str, ...]
    wrapped: str | None  # a data key made for this write, wrapped; None: none made
    numbers: frozenset[str]  # what the blind index finds the case by

    @classmethod
    def of(
        cls, case: Case, events: Sequence[CaseEvent], vault: Vault, key: bytes | None = None
    ) -> _IngestRow:
        sealing = vault.sealing(case.id, key)
        doc, texts = vault.seal_case(sealing, case, events)
        made = sealing.new and sealing.key is not None
        return cls(
            case,
            tuple(events),
            case.id,
            tuple(external_keys(case)),
            _json_text(doc),
            tuple(texts),
            vault.wrap(sealing.key, case.id) if made and sealing.key else None,
            frozenset(sealing.numbers),
        )

    @cached_property
    def case_row(self) -> tuple[Any, ...]:
        case = self.case
        doc = self.doc
        if "\\u0000" in doc and _NUL_ESCAPE.search(doc):
            raise StorageError(
                f"case {case.id}: text contains a NUL character (U+0000), which PostgreSQL's "
                "jsonb cannot store; remove it from the source (zhenshen ingest turns such "
                "records into dead letters)"
            )
        return (
            case.id,
            doc,
            case.status.value,
            case.domain,
            case.lead_department,
            list(dict.fromkeys(d.id for d in case.departments)),
            case.enterprise_uscc,
            case.channel.value,
            case.received_at,
            case.version,
        )

    @cached_property
    def event_rows(self) -> tuple[tuple[Any, ...], ...]:
        return tuple(
            (e.case_id, e.seq, ensure_aware(e.at), e.type, e.actor, text)
            for e, text in zip(self.events, self.event_texts, strict=True)
        )

    @cached_property
    def clock_rows(self) -> tuple[tuple[Any, ...], ...]:
        return tuple(
            (
                self.id,
                c.name,
                None if c.next_alert_at is None else ensure_aware(c.next_alert_at),
                ensure_aware(c.due_at),
                self.case.version,
            )
            for c in _running(self.case)
        )


_COPY_CHUNK = 64


def _copy(cur: psycopg.Cursor[Any], target: str, rows: Iterable[Sequence[Any]]) -> None:
    """``COPY target FROM STDIN`` in text format, written in chunks as ``rows`` are produced."""
    statement = f"COPY {target} FROM STDIN"
    with cur.copy(statement.encode(), writer=CopyWriter(cur)) as cp:
        lines: list[str] = []
        for row in rows:
            lines.append("\t".join(map(_copy_field, row)) + "\n")
            if len(lines) >= _COPY_CHUNK:
                cp.write("".join(lines))
                lines.clear()
        if lines:
            cp.write("".join(lines))


def _copy_field(value: Any) -> str:
    """One value in COPY's text format (``\\N`` for NULL, backslash escapes)."""
    # One dict look-up by exact type: this runs for every column of every row of a batch.
    format_value = _COPY_FORMATS.get(type(value))
    if format_value is not None:
        return format_value(value)
    if isinstance(value, str):
        return _copy_escape(value)
    if isinstance(value, datetime):
        return _copy_instant(value)
    raise TypeError(f"no COPY form for {type(value).__name__}")


def _copy_instant(value: datetime) -> str:
    return (value if value.tzinfo is not None else ensure_aware(value)).isoformat()


def _copy_array(items: list[Any]) -> str:
    """An array in COPY's text format: the array literal of the one-case statement, escaped."""
    return _copy_escape("{" + ",".join(map(_array_item, items)) + "}")


def _copy_escape(text: str) -> str:
    # JSON text never holds raw tabs or newlines, so the common case is one or no replace.
    if "\\" in text:
        text = text.replace("\\", "\\\\")
    if "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


_COPY_FORMATS: Mapping[type, Callable[[Any], str]] = MappingProxyType(
    {
        type(None): lambda _: "\\N",
        str: _copy_escape,
        int: str,
        bool: lambda v: "t" if v else "f",
        datetime: _copy_instant,
        list: _copy_array,
    }
)


def _running(case: Case) -> list[Clock]:
    """Running clocks, alerting or not: ``due_before`` needs them all, the sweep the alerting."""
    return [c for c in case.clocks.values() if c.running]


def _json_text(data: Any) -> str:
    """JSON text for a ``jsonb`` column, written by orjson (a decided case in a tenth of the
    standard library's time, and the server parses it the same); what orjson refuses (an
    integer beyond 64 bits) is written by the standard library."""
    try:
        return orjson.dumps(data).decode()
    except orjson.JSONEncodeError:
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _json_for_jsonb(data: Any, where: str) -> str:
    text = _json_text(data)
    if "\\u0000" in text and _NUL_ESCAPE.search(text):
        raise StorageError(f"{where}: text contains a NUL character (U+0000), which jsonb refuses")
    return text


def _where(q: CaseQuery) -> tuple[list[str], list[Any]]:
    """SQL conditions with the semantics of :func:`zhenshen_core.storage.backend.matches`."""
    clauses: list[str] = []
    params: list[Any] = []
    if q.status is not None:
        clauses.append("status = ANY(%s)")
        params.append([s.value for s in q.status])
    if q.domain is not None:
        clauses.append("domain = %s")
        params.append(q.domain)
    if q.department is not None:
        clauses.append("departments @> ARRAY[%s]::text[]")
        params.append(q.department)
    if q.enterprise is not None:
        clauses.append("enterprise_uscc = %s")
        params.append(query_enterprise(q))
    if q.channel is not None:
        clauses.append("channel = %s")
        params.append(q.channel)
    if q.received_from is not None:
        clauses.append("received_at >= %s")
        params.append(q.received_from)
    if q.received_before is not None:
        clauses.append("received_at < %s")
        params.append(q.received_before)
    if q.due_before is not None:
        clauses.append(
            "EXISTS (SELECT 1 FROM clocks k WHERE k.case_id = cases.id AND k.due_at < %s)"
        )
        params.append(q.due_before)
    return clauses, params


def _due(row: tuple[Any, ...]) -> DueClock:
    case_id, name, next_alert_at, due_at, version = row
    return DueClock(
        case_id=case_id,
        clock=name,
        next_alert_at=next_alert_at,
        due_at=due_at,
        case_version=version,
    )


def _parse(model: type[M], text: str, what: str) -> M:
    try:
        return model.model_validate_json(text)
    except ValidationError as exc:
        raise StorageError(f"stored {what} no longer validates: {exc}") from exc


_DIGEST_SQL = """
    SELECT c.id, c.doc->>'external_id', c.doc->>'title', c.status, c.domain, c.doc->>'tier',
           c.lead_department, c.received_at, coalesce(c.doc->'tags' ? %s, false),
           c.doc->'feedback'->-1->>'satisfaction', c.doc->'feedback'->-1->>'at',
           CASE WHEN c.status = 'closed' THEN
             (SELECT max(e.at) FROM events e WHERE e.case_id = c.id AND e.type = 'close')
           END
    FROM cases c ORDER BY c.received_at, c.id
"""
_DIGEST_CLOCKS_SQL = """
    SELECT c.id, k.key, k.value->>'due_at', k.value->>'stopped_at'
    FROM cases c, jsonb_each(c.doc->'clocks') k
"""
_DIGEST_RETURNS_SQL = """
    SELECT c.id, r->>'from_department', r->>'at'
    FROM cases c, jsonb_array_elements(c.doc->'returns') r
"""
