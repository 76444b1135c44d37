"""``sqlite:///path.db``: the embedded default store (stdlib :mod:`sqlite3`, no server).

Design choices, and why:

* **The case document is JSON text**, the same storage form every backend keeps
  (:func:`~zhenshen_core.model.dump_case`), so a new case field needs no migration. What queries
  filter on is copied into columns (status, domain, lead department, enterprise USCC, channel,
  received_at, version) and side tables (``case_departments``, ``clocks``), rewritten from the
  document on every save so they cannot drift from it.
* **Instants are integer microseconds since the epoch (UTC)**: exact, zone-free, and they
  order like time does, which ISO strings with mixed offsets would not.
* **One ``BEGIN IMMEDIATE`` transaction per save / ingest / batch**: the write lock is taken
  up front, so two writers serialise instead of failing half-way, and a process killed mid-batch
  leaves the last committed state (WAL journal; ``synchronous=NORMAL`` is durable against
  process crashes, which is what the crash test checks).
* **The schema is versioned from the first release**: ``schema_migrations`` records the
  numbered steps in :data:`MIGRATIONS` that have run; opening a store applies the missing ones.
* **Readers never wait for writers.** Opening a store whose schema is current is reads only (the
  migration's write transaction starts only when a step is missing), and reads run outside any
  transaction, so in WAL mode a ``cases list`` or a report reads the last committed state while
  another process holds the write lock. ``?mode=ro`` opens the file read-only (SQLite's own
  ``mode=ro``): no migration, every write refused. A writer waits up to the busy timeout
  (``?timeout=SECONDS``, default 30), then fails with :class:`StoreUnavailableError` naming the
  process that holds the lock where Linux's ``/proc/locks`` shows it (:mod:`.sqlite_locks`).
* ``events`` is append-only, enforced by triggers, not only by this code.
* **What a report counts is kept in a ``digest`` column** (a short JSON array, migration 2):
  a report over 50,000 cases reads it instead of parsing 50,000 documents (SQLite keeps JSON
  as text, so every ``json_extract`` parses the whole document again). Every write rewrites it
  from the case, like the other columns; a row without one is digested in SQL from its document.

Why one module of this size: the schema, its migrations and the SQL that reads and writes it
must change together (a column added in a migration is written by ``save`` and read by a
query); the helpers every backend shares are in :mod:`zhenshen_core.storage.backend`.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote

from zhenshen_core.errors import (
    CaseNotFoundError,
    ConcurrencyError,
    StorageError,
    StoreUnavailableError,
    StoreURLError,
)
from zhenshen_core.model.case import Case
from zhenshen_core.model.enums import CaseStatus
from zhenshen_core.model.events import CaseEvent
from zhenshen_core.privacy.keys import MasterKey, resolve_master_key
from zhenshen_core.storage import sqlite_pii as pii
from zhenshen_core.storage.audit import AuditRecord, check_audit_limit
from zhenshen_core.storage.backend import (
    check_new,
    check_update,
    dead_letter_key,
    external_keys,
    from_micros,
    kept_with_created,
    query_enterprise,
    to_micros,
)
from zhenshen_core.storage.crypto import INDEX_OWNER, SEALED, Vault
from zhenshen_core.storage.digest import CaseDigest, ClockDigest, parse_instant
from zhenshen_core.storage.outbox import OutboxNotice, SweepIncident
from zhenshen_core.storage.protocol import (
    CaseQuery,
    DeadLetter,
    DueClock,
    IngestResult,
    Record,
)

MEMORY = ":memory:"


@dataclass(frozen=True)
class Migration:
    """One numbered schema step; steps never change once released, new ones are appended.
    A step is SQL, or a function of the cursor for data SQLite cannot compute (a hash)."""

    version: int
    name: str
    statements: tuple[str | Callable[[sqlite3.Cursor], None], ...]


def _key_dead_letters(cur: sqlite3.Cursor) -> None:
    """Migration 3's data step: give every dead letter its key, and fold the copies earlier
    versions kept of one record (one per re-run) into the first, counted."""
    rows = cur.execute(
        "SELECT id, channel, source, line, raw, reason, at FROM dead_letters ORDER BY id"
    ).fetchall()
    first: dict[str, list[Any]] = {}  # key -> [id, seen, last_seen, reason]
    copies: list[int] = []
    for row_id, channel, source, line, raw, reason, at in rows:
        key = dead_letter_key(channel, source, line, raw)
        kept = first.get(key)
        if kept is None:
            first[key] = [row_id, 1, None, reason]
            continue
        kept[1] += 1
        kept[2], kept[3] = at, reason
        copies.append(row_id)
    cur.executemany(
        "UPDATE dead_letters SET key = ?, seen = ?, last_seen = ?, reason = ? WHERE id = ?",
        [(key, seen, last, reason, row_id) for key, (row_id, seen, last, reason) in first.items()],
    )
    cur.executemany("DELETE FROM dead_letters WHERE id = ?", [(i,) for i in copies])


def digest_sql(table: str) -> str:
    """A case's report digest computed from its document and history, in SQL: what migration 2
    fills in for cases stored before it, and the answer for a row without a digest. The JSON
    array is the one :func:`report_digest` writes (instants as the document has them)."""
    return f"""json_array(
        json_extract({table}.doc, '$.external_id'), json_extract({table}.doc, '$.title'),
        json_extract({table}.doc, '$.tier'), json_extract({table}.doc, '$.tags'),
        json_extract({table}.doc, '$.feedback[#-1].satisfaction'),
        json_extract({table}.doc, '$.feedback[#-1].at'),
        (SELECT json_group_array(json_array(json_extract(r.value, '$.from_department'),
                                            json_extract(r.value, '$.at')))
           FROM json_each({table}.doc, '$.returns') r),
        (SELECT json_group_array(json_array(k.key, json_extract(k.value, '$.due_at'),
                                            json_extract(k.value, '$.stopped_at')))
           FROM json_each({table}.doc, '$.clocks') k),
        CASE WHEN {table}.status = 'closed' THEN
          (SELECT max(e.at) FROM events e WHERE e.case_id = {table}.id AND e.type = 'close')
        END)"""


def _seal_existing(cur: sqlite3.Cursor) -> None:
    """Migration 6's data step; it needs the store's master key, so the store runs
    :func:`sqlite_pii.seal_existing` in its place (see ``SQLiteStore._migrate``)."""
    raise AssertionError("run by SQLiteStore._migrate with the store's vault")


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "initial schema",
        (
            """CREATE TABLE cases (
                id TEXT PRIMARY KEY,
                doc TEXT NOT NULL,
                version INTEGER NOT NULL CHECK (version >= 1),
                status TEXT NOT NULL,
                domain TEXT,
                lead_department TEXT,
                enterprise_uscc TEXT,
                channel TEXT NOT NULL,
                received_at INTEGER NOT NULL
            )""",
            "CREATE INDEX cases_received ON cases (received_at, id)",
            "CREATE INDEX cases_status ON cases (status, received_at)",
            "CREATE INDEX cases_domain ON cases (domain, received_at)",
            "CREATE INDEX cases_lead ON cases (lead_department)",
            "CREATE INDEX cases_enterprise ON cases (enterprise_uscc)",
            "CREATE INDEX cases_channel ON cases (channel, received_at)",
            """CREATE TABLE case_departments (
                case_id TEXT NOT NULL REFERENCES cases (id),
                department TEXT NOT NULL,
                role TEXT NOT NULL,
                PRIMARY KEY (case_id, department)
            ) WITHOUT ROWID""",
            "CREATE INDEX case_departments_department ON case_departments (department, case_id)",
            """CREATE TABLE events (
                case_id TEXT NOT NULL REFERENCES cases (id),
                seq INTEGER NOT NULL CHECK (seq >= 1),
                at INTEGER NOT NULL,
                type TEXT NOT NULL,
                doc TEXT NOT NULL,
                PRIMARY KEY (case_id, seq)
            ) WITHOUT ROWID""",
            """CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
               BEGIN SELECT RAISE(ABORT, 'events are append-only'); END""",
            """CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
               BEGIN SELECT RAISE(ABORT, 'events are append-only'); END""",
            """CREATE TABLE external_refs (
                channel TEXT NOT NULL,
                external_id TEXT NOT NULL,
                case_id TEXT NOT NULL REFERENCES cases (id),
                PRIMARY KEY (channel, external_id)
            ) WITHOUT ROWID""",
            "CREATE INDEX external_refs_case ON external_refs (case_id)",
            """CREATE TABLE clocks (
                case_id TEXT NOT NULL REFERENCES cases (id),
                name TEXT NOT NULL,
                due_at INTEGER NOT NULL,
                next_alert_at INTEGER,
                stopped INTEGER NOT NULL CHECK (stopped IN (0, 1)),
                PRIMARY KEY (case_id, name)
            ) WITHOUT ROWID""",
            """CREATE INDEX clocks_next_alert ON clocks (next_alert_at, case_id, name)
               WHERE stopped = 0 AND next_alert_at IS NOT NULL""",
            "CREATE INDEX clocks_due ON clocks (due_at) WHERE stopped = 0",
            """CREATE TABLE dead_letters (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                channel TEXT NOT NULL,
                source TEXT NOT NULL,
                line INTEGER,
                raw TEXT NOT NULL,
                reason TEXT NOT NULL,
                at TEXT NOT NULL
            )""",
            """CREATE TABLE records (
                kind TEXT NOT NULL,
                id TEXT NOT NULL,
                data TEXT NOT NULL,
                PRIMARY KEY (kind, id)
            ) WITHOUT ROWID""",
        ),
    ),
    Migration(
        2,
        "report digests",
        (
            # What a report counts of a case, kept beside its document so that a report over
            # many cases never parses documents (storage/digest.py).
            "ALTER TABLE cases ADD COLUMN digest TEXT",
            f"UPDATE cases SET digest = {digest_sql('cases')}",
        ),
    ),
    Migration(
        3,
        "dead letters kept once, counted",
        (
            # A dead letter's identity (storage.backend.dead_letter_key); a re-run of the same
            # file counts it again instead of adding it again.
            "ALTER TABLE dead_letters ADD COLUMN key TEXT",
            "ALTER TABLE dead_letters ADD COLUMN seen INTEGER NOT NULL DEFAULT 1",
            "ALTER TABLE dead_letters ADD COLUMN last_seen TEXT",
            _key_dead_letters,
            "CREATE UNIQUE INDEX dead_letters_key ON dead_letters (key)",
        ),
    ),
    Migration(
        4,
        "notification outbox, sweep incidents",
        (
            # The outbox (storage.outbox): notices written with the change they are about,
            # delivered from here at least once. The document is the whole notice; the
            # columns are what delivery and listing select on.
            """CREATE TABLE outbox (
                key TEXT PRIMARY KEY,
                case_id TEXT NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
                created_at INTEGER NOT NULL,
                next_attempt_at INTEGER NOT NULL,
                delivered_at INTEGER,
                doc TEXT NOT NULL
            ) WITHOUT ROWID""",
            """CREATE INDEX outbox_pending ON outbox (next_attempt_at, created_at, key)
               WHERE status = 'pending'""",
            "CREATE INDEX outbox_created ON outbox (status, created_at, key)",
            # A due clock the sweep failed on, held back until next_retry_at while open.
            """CREATE TABLE sweep_incidents (
                case_id TEXT NOT NULL,
                clock TEXT NOT NULL,
                next_retry_at INTEGER NOT NULL,
                resolved INTEGER NOT NULL CHECK (resolved IN (0, 1)),
                doc TEXT NOT NULL,
                PRIMARY KEY (case_id, clock)
            ) WITHOUT ROWID""",
        ),
    ),
    Migration(
        5,
        "access log",
        (
            # storage/audit.py: append-only, enforced here as the events table is; `seq` is the
            # order records were written in, `at` integer microseconds like every instant.
            """CREATE TABLE audit_log (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                id TEXT NOT NULL UNIQUE,
                at INTEGER NOT NULL,
                actor TEXT NOT NULL,
                role TEXT,
                action TEXT NOT NULL,
                desk TEXT,
                case_id TEXT,
                outcome TEXT NOT NULL,
                remote TEXT,
                detail TEXT NOT NULL
            )""",
            "CREATE INDEX audit_log_case ON audit_log (case_id, seq)",
            "CREATE INDEX audit_log_desk ON audit_log (desk, seq)",
            "CREATE INDEX audit_log_at ON audit_log (at)",
            """CREATE TRIGGER audit_log_append_only_update BEFORE UPDATE ON audit_log
               BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END""",
            """CREATE TRIGGER audit_log_append_only_delete BEFORE DELETE ON audit_log
               BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END""",
        ),
    ),
    Migration(
        6,
        "personal data encrypted at rest",
        # Wrapped data keys and the blind index (storage/sqlite_pii.py); then what was stored in
        # plain text before is sealed.
        (*pii.MIGRATION_6, _seal_existing),
    ),
)

SCHEMA_VERSION = MIGRATIONS[-1].version


DEFAULT_TIMEOUT = 30.0


@dataclass(frozen=True)
class SQLiteURL:
    """A ``sqlite:`` URL read: the database path and the store's query parameters."""

    path: str
    read_only: bool = False
    timeout: float = DEFAULT_TIMEOUT
    pii_key_file: str | None = None


def parse_sqlite_url(url: str) -> str:
    """The database path of a ``sqlite:`` URL (SQLAlchemy's spelling, which users know).

    ``sqlite:///relative/path.db`` → ``relative/path.db``; ``sqlite:////abs/path.db`` →
    ``/abs/path.db``; ``sqlite://:memory:`` (or ``sqlite:///:memory:``) → an in-memory database.
    The query parameters are :func:`read_sqlite_url`'s.
    """
    return read_sqlite_url(url).path


def read_sqlite_url(url: str) -> SQLiteURL:
    """The path and parameters of a ``sqlite:`` URL: ``?mode=ro`` opens the file read-only,
    ``?timeout=SECONDS`` is how long a writer waits for another process's write lock,
    ``?pii_key_file=PATH`` names the master key that protects personal data."""
    prefix = "sqlite://"
    if not url.lower().startswith(prefix):
        raise StoreURLError(
            f"not a SQLite URL: {url!r}; use sqlite:///relative/path.db or sqlite:////abs/path.db"
        )
    rest, _, query = url[len(prefix) :].partition("?")
    if rest in (MEMORY, "/" + MEMORY):
        path = MEMORY
    elif not rest.startswith("/") or len(rest) < 2:
        raise StoreURLError(
            f"SQLite URL {url!r} has no database path; use sqlite:///relative/path.db, "
            "sqlite:////abs/path.db or sqlite://:memory:"
        )
    else:
        path = rest[1:]
    options = dict(parse_qsl(query, keep_blank_values=True)) if query else {}
    unknown = sorted(set(options) - {"mode", "timeout", "pii_key_file"})
    if unknown:
        raise StoreURLError(
            f"SQLite URL {url!r}: unknown parameter {unknown[0]!r}; "
            "the parameters are mode=ro, timeout=SECONDS and pii_key_file=PATH"
        )
    mode = options.get("mode")
    if mode not in (None, "ro"):
        raise StoreURLError(f"SQLite URL {url!r}: mode must be ro (read-only), got {mode!r}")
    if mode == "ro" and path == MEMORY:
        raise StoreURLError(f"SQLite URL {url!r}: an in-memory database cannot be read-only")
    timeout = DEFAULT_TIMEOUT
    if "timeout" in options:
        try:
            timeout = float(options["timeout"])
        except ValueError:
            timeout = -1.0
        if not 0 <= timeout <= 86_400:
            raise StoreURLError(
                f"SQLite URL {url!r}: timeout must be a number of seconds from 0 to 86400, "
                f"got {options['timeout']!r}"
            )
    return SQLiteURL(
        path, read_only=mode == "ro", timeout=timeout, pii_key_file=options.get("pii_key_file")
    )


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


class SQLiteStore:
    """A :class:`~zhenshen_core.storage.CaseStore` in one SQLite file (or in memory).

    One connection guarded by a lock, so a store object may be shared by threads; separate
    processes (or separate store objects) coordinate through SQLite's own locking, and the
    version check turns a lost race into :class:`ConcurrencyError`. ``timeout`` is how long a
    write waits for another process's write lock (seconds); ``read_only`` opens the file
    read-only: nothing is migrated and every write is refused.

    Personal data is sealed with ``pii_key`` (a :class:`MasterKey`); without one, the key of
    ``pii_key_file``, ``ZHENSHEN_PII_KEY`` / ``ZHENSHEN_PII_KEY_FILE``, or else the key file
    beside the database (generated on first use); an in-memory database without any uses a
    key that lives as long as it does.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        read_only: bool = False,
        pii_key: MasterKey | None = None,
        pii_key_file: str | None = None,
    ) -> None:
        self.path = str(path)
        self.url = url or ("sqlite://:memory:" if self.path == MEMORY else f"sqlite:///{self.path}")
        self.read_only = read_only
        self._timeout = timeout
        self._lock = threading.RLock()
        self._index_key: bytes | None = None
        self._conn = self._connect(timeout)
        try:
            self._vault = Vault(pii_key or self._master_key(pii_key_file))
        except BaseException:
            self._conn.close()
            raise
        try:
            self._migrate()
        except BaseException:
            self._conn.close()
            raise

    @classmethod
    def from_url(cls, url: str) -> SQLiteStore:
        parsed = read_sqlite_url(url)
        return cls(
            parsed.path,
            url=url,
            timeout=parsed.timeout,
            read_only=parsed.read_only,
            pii_key_file=parsed.pii_key_file,
        )

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- connection and schema -----------------------------------------------------------

    def _connect(self, timeout: float) -> sqlite3.Connection:
        if self.path != MEMORY:
            target = Path(self.path)
            if target.is_dir():
                raise StoreURLError(f"cannot open SQLite database {self.path!r}: it is a directory")
            parent = target.parent
            if not parent.is_dir():
                raise StoreURLError(
                    f"cannot open SQLite database {self.path!r}: directory {str(parent)!r} "
                    "does not exist"
                )
            if self.read_only and not target.is_file():
                raise StoreURLError(
                    f"cannot open SQLite database {self.path!r} read-only: no such file"
                )
        conn: sqlite3.Connection | None = None
        try:
            if self.read_only:
                conn = sqlite3.connect(
                    f"file:{quote(str(Path(self.path).resolve()))}?mode=ro",
                    uri=True,
                    timeout=timeout,
                    isolation_level=None,
                    check_same_thread=False,
                )
                return conn
            conn = sqlite3.connect(
                self.path, timeout=timeout, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA foreign_keys = ON")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if self.path != MEMORY and str(mode).lower() != "wal":
                raise StorageError(
                    f"cannot open SQLite database {self.path!r}: WAL journal mode refused "
                    f"(got {mode!r}); is the file on a network or read-only file system?"
                )
            conn.execute("PRAGMA synchronous = NORMAL")
            # Deleted and overwritten content is zeroed, not left in free pages: a destroyed
            # data key, or plain text sealed by migration 6, must not be found in the file.
            conn.execute("PRAGMA secure_delete = ON")
        except sqlite3.Error as exc:
            if conn is not None:
                conn.close()
            raise StorageError(
                f"cannot open SQLite database {self.path!r}: {exc} "
                "(check that the file is a SQLite database and its directory is writable)"
            ) from None
        return conn

    def _applied(self) -> set[int]:
        """The migrations recorded, read without a transaction (so without waiting for a
        writer): opening a store whose schema is current must not take the write lock."""
        with self._read() as cur:
            exists = cur.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
            ).fetchone()
            if exists is None:
                return set()
            return {row[0] for row in cur.execute("SELECT version FROM schema_migrations")}

    def _check_not_newer(self, applied: set[int]) -> None:
        newer = [v for v in applied if v > SCHEMA_VERSION]
        if newer:
            raise StorageError(
                f"SQLite database {self.path!r} has schema version {max(newer)}, newer than "
                f"this zhenshen_core supports ({SCHEMA_VERSION}); upgrade zhenshen_core"
            )

    def _migrate(self) -> None:
        applied = self._applied()
        self._check_not_newer(applied)
        missing = [m.version for m in MIGRATIONS if m.version not in applied]
        if not missing:
            return
        if self.read_only:
            raise StorageError(
                f"SQLite database {self.path!r} opened read-only lacks schema migration(s) "
                f"{', '.join(map(str, missing))}; open it once without mode=ro to migrate it"
            )
        with self._tx() as cur:
            cur.execute(
                """CREATE TABLE IF NOT EXISTS schema_migrations (
                    version INTEGER PRIMARY KEY,
                    name TEXT NOT NULL,
                    applied_at TEXT NOT NULL
                )"""
            )
            # Again inside the write lock: another process may have migrated meanwhile.
            applied = {row[0] for row in cur.execute("SELECT version FROM schema_migrations")}
            self._check_not_newer(applied)
            for migration in MIGRATIONS:
                if migration.version in applied:
                    continue
                for statement in migration.statements:
                    if statement is _seal_existing:
                        pii.seal_existing(cur, self._vault)
                    elif callable(statement):
                        statement(cur)
                    else:
                        cur.execute(statement)
                cur.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    (migration.version, migration.name, datetime.now(UTC).isoformat()),
                )
        if 6 in missing:
            self._scrub()

    def schema_version(self) -> int:
        with self._read() as cur:
            row = cur.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
        return int(row[0] or 0)

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Cursor]:
        """One write transaction; any error rolls everything back and surfaces as StorageError."""
        if self.read_only:
            raise StorageError(f"SQLite database {self.path!r} is opened read-only (mode=ro)")
        with self._lock:
            try:
                cur = self._conn.cursor()
                cur.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise self._error(exc) from None
            try:
                yield cur
                cur.execute("COMMIT")
            except BaseException as exc:
                with suppress(sqlite3.Error):  # the original error is the one to report
                    if self._conn.in_transaction:
                        self._conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise self._error(exc) from None
                raise

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Cursor]:
        with self._lock:
            try:
                yield self._conn.cursor()
            except sqlite3.Error as exc:
                raise self._error(exc) from None

    def _error(self, exc: sqlite3.Error) -> StorageError:
        code = getattr(exc, "sqlite_errorcode", None)  # extended: BUSY_RECOVERY is BUSY too
        if isinstance(code, int) and code & 0xFF == sqlite3.SQLITE_BUSY:
            from zhenshen_core.storage.sqlite_locks import describe_lock_holders

            holder = (
                describe_lock_holders(self.path)
                if self.path != MEMORY
                else "another connection holds the write lock"
            )
            return StoreUnavailableError(
                f"SQLite database {self.path!r} is locked: {holder}; waited {self._timeout:g} s "
                "(timeout= in the store URL); nothing was written, try again"
            )
        return StorageError(f"SQLite database {self.path!r}: {exc}")

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
        results: list[IngestResult] = []
        with self._tx() as cur:
            batch = _NewRows()
            for case, events in items:
                known = _known_id(cur, case)
                if known is not None:
                    results.append(IngestResult(case_id=known, created=False))
                    continue
                doc, texts, shown = self._seal(cur, case, events, None, batch=batch)
                cur.execute(
                    """INSERT INTO cases (id, doc, version, status, domain, lead_department,
                                          enterprise_uscc, channel, received_at, digest)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                    (case.id, doc, *_case_columns(case), report_digest(shown, _closed_at(events))),
                )
                _insert_events(cur, events, texts)
                # _known_id just found none of these refs, so plain inserts cannot conflict
                cur.executemany(
                    "INSERT INTO external_refs (channel, external_id, case_id) VALUES (?, ?, ?)",
                    [(channel, ext, case.id) for channel, ext in external_keys(case)],
                )
                _write_index_rows(cur, case)
                results.append(IngestResult(case_id=case.id, created=True))
            notices, records = kept_with_created(results, outbox, audit)
            _insert_notices(cur, notices)
            for record in records:
                _insert_audit(cur, record)
            pii.write_new(cur, batch.keys, batch.index)
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
        with self._tx() as cur:
            row = cur.execute(
                "SELECT version, json_extract(digest, '$[8]') FROM cases WHERE id = ?",
                (case.id,),
            ).fetchone()
            if row is None:
                raise CaseNotFoundError(case.id)
            if row[0] != expected_version:
                raise ConcurrencyError(case.id, expected_version, row[0])
            closed_at = _closed_at(events)
            doc, texts, shown = self._seal(cur, case, events, pii.wrapped_key(cur, case.id))
            digest = report_digest(shown, closed_at if closed_at is not None else row[1])
            cur.execute(
                """UPDATE cases SET doc = ?, version = ?, status = ?, domain = ?,
                                    lead_department = ?, enterprise_uscc = ?, channel = ?,
                                    received_at = ?, digest = ?
                   WHERE id = ? AND version = ?""",
                (doc, *_case_columns(case), digest, case.id, expected_version),
            )
            _insert_events(cur, events, texts)
            _write_refs(cur, case)
            cur.execute("DELETE FROM case_departments WHERE case_id = ?", (case.id,))
            cur.execute("DELETE FROM clocks WHERE case_id = ?", (case.id,))
            _write_index_rows(cur, case)
            if erase:
                pii.drop_owner(cur, case.id)
            _insert_notices(cur, outbox)

    def add_dead_letter(self, letter: DeadLetter) -> None:
        key = letter.key
        with self._tx() as cur:
            letter = self._seal_letter(cur, letter, key)
            cur.execute(
                """INSERT INTO dead_letters (key, channel, source, line, raw, reason, at, seen)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (key) DO UPDATE SET seen = seen + excluded.seen,
                       last_seen = excluded.at, reason = excluded.reason""",
                (
                    key,
                    letter.channel,
                    letter.source,
                    letter.line,
                    letter.raw,
                    letter.reason,
                    letter.at.isoformat(),
                    letter.seen,
                ),
            )

    # --- dead letters re-driven (issue 18) --------------------------------------------------

    def remove_dead_letter(self, key: str) -> bool:
        with self._tx() as cur:
            found = cur.execute("DELETE FROM dead_letters WHERE key = ?", (key,)).rowcount > 0
            pii.drop_owner(cur, key)  # its data key and index rows go with it
            return found

    def put_record(self, record: Record) -> None:
        with self._tx() as cur:
            cur.execute(
                "INSERT OR REPLACE INTO records (kind, id, data) VALUES (?, ?, ?)",
                (record.kind, record.id, _dumps(record.data)),
            )

    # --- reads -----------------------------------------------------------------------------

    def get(self, case_id: str) -> Case:
        with self._read() as cur:
            row = cur.execute(
                f"SELECT c.id, c.doc, {_WRAPPED} FROM cases c WHERE c.id = ?", (case_id,)
            ).fetchone()
        if row is None:
            raise CaseNotFoundError(case_id)
        return self._vault.open_case(row[1], row[2], row[0])

    def find_external(self, channel: str, external_id: str) -> Case | None:
        with self._read() as cur:
            row = cur.execute(
                f"""SELECT c.id, c.doc, {_WRAPPED} FROM external_refs r
                    JOIN cases c ON c.id = r.case_id
                    WHERE r.channel = ? AND r.external_id = ?""",
                (str(channel), external_id),
            ).fetchone()
        return None if row is None else self._vault.open_case(row[1], row[2], row[0])

    def query(self, query: CaseQuery | None = None) -> Iterator[Case]:
        q = query or CaseQuery()
        where, params = _where(q)
        sql = (
            f"SELECT c.id, c.doc, {_WRAPPED} FROM cases c {where}"
            " ORDER BY c.received_at, c.id LIMIT ? OFFSET ?"
        )
        params += [q.limit if q.limit is not None else -1, q.offset]
        with self._read() as cur:
            rows = cur.execute(sql, params).fetchall()
        return (self._vault.open_case(doc, wrapped, cid) for cid, doc, wrapped in rows)

    def count(self, query: CaseQuery | None = None) -> int:
        where, params = _where(query or CaseQuery())
        with self._read() as cur:
            row = cur.execute(f"SELECT COUNT(*) FROM cases c {where}", params).fetchone()
        return int(row[0])

    def events(self, case_id: str) -> list[CaseEvent]:
        with self._read() as cur:
            docs = [
                row[0]
                for row in cur.execute(
                    "SELECT doc FROM events WHERE case_id = ? ORDER BY seq", (case_id,)
                )
            ]
            if (
                not docs
                and cur.execute("SELECT 1 FROM cases WHERE id = ?", (case_id,)).fetchone() is None
            ):
                raise CaseNotFoundError(case_id)
            wrapped = pii.wrapped_key(cur, case_id) if any(SEALED in d for d in docs) else None
        key = self._vault.key_of(wrapped, case_id)
        return [self._vault.open_event(doc, key, case_id) for doc in docs]

    def due_clocks(self, now: datetime, *, limit: int = 1000) -> list[DueClock]:
        with self._read() as cur:
            rows = cur.execute(DUE_CLOCKS_SQL, (to_micros(now), to_micros(now), limit)).fetchall()
        return [
            DueClock(
                case_id=case_id,
                clock=name,
                next_alert_at=from_micros(alert),
                due_at=from_micros(due),
                case_version=version,
            )
            for case_id, name, alert, due, version in rows
        ]

    def case_digests(self, tag: str) -> Iterator[CaseDigest]:
        """:func:`zhenshen_core.storage.digest.case_digests` from the ``digest`` column every
        write keeps (a short JSON array): one query over the cases table, no document parsed.
        A row without one (written by something other than this store) is digested in SQL."""
        with self._read() as cur:
            rows = cur.execute(DIGEST_SQL).fetchall()
        for case_id, status, domain, lead, received, digest in rows:
            external_id, title, tier, tags, satisfaction, rated_at, returns, clocks, closed_at = (
                json.loads(digest)
            )
            if title and title.startswith(SEALED):
                title = self._open_text(case_id, title)
            yield CaseDigest(
                id=case_id,
                external_id=external_id,
                title=title or "",
                status=status,
                domain=domain,
                tier=tier,
                lead=lead,
                received_at=from_micros(received),
                tagged=tag in (tags or ()),
                satisfaction=satisfaction,
                rated_at=parse_instant(rated_at),
                returns=tuple((dept, datetime.fromisoformat(at)) for dept, at in returns),
                clocks=tuple(
                    ClockDigest(name, datetime.fromisoformat(due), parse_instant(stopped))
                    for name, due, stopped in clocks
                ),
                closed_at=from_micros(closed_at) if closed_at is not None else None,
            )

    def latest_event_at(self) -> datetime | None:
        with self._read() as cur:
            row = cur.execute("SELECT max(at) FROM events").fetchone()
        return None if row is None or row[0] is None else from_micros(row[0])

    def dead_letters(self) -> list[DeadLetter]:
        with self._read() as cur:
            rows = cur.execute(
                f"SELECT {_LETTER_COLUMNS}, {_LETTER_WRAPPED} FROM dead_letters d ORDER BY id"
            ).fetchall()
        return [self._open_letter(row) for row in rows]

    def dead_letter(self, key: str) -> DeadLetter | None:
        with self._read() as cur:
            row = cur.execute(
                f"SELECT {_LETTER_COLUMNS}, {_LETTER_WRAPPED} FROM dead_letters d WHERE key = ?",
                (key,),
            ).fetchone()
        return None if row is None else self._open_letter(row)

    def records(self, kind: str) -> list[Record]:
        with self._read() as cur:
            rows = cur.execute(
                "SELECT id, data FROM records WHERE kind = ? ORDER BY id", (kind,)
            ).fetchall()
        return [Record(kind=kind, id=rid, data=json.loads(data)) for rid, data in rows]

    # --- the access log (storage/audit.py) ---------------------------------------------------

    def record_audit(self, record: AuditRecord) -> None:
        with self._tx() as cur:
            _insert_audit(cur, record)

    def audit(
        self,
        *,
        desk: str | None = None,
        case_id: str | None = None,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> list[AuditRecord]:
        check_audit_limit(limit)
        terms: list[str] = []
        params: list[Any] = []
        for column, value in (("desk", desk), ("case_id", case_id)):
            if value is not None:
                terms.append(f"{column} = ?")
                params.append(value)
        if since is not None:
            terms.append("at >= ?")
            params.append(to_micros(since))
        where = f"WHERE {' AND '.join(terms)}" if terms else ""
        sql = f"SELECT seq, {_AUDIT_COLUMNS} FROM audit_log {where} ORDER BY seq DESC LIMIT ?"
        with self._read() as cur:
            rows = cur.execute(sql, [*params, -1 if limit is None else limit]).fetchall()
        return [_audit_record(row[1:]) for row in reversed(rows)]

    # --- outbox and sweep incidents (migration 4) ----------------------------------------

    def outbox_due(self, now: datetime, *, limit: int = 100) -> list[OutboxNotice]:
        with self._read() as cur:
            rows = cur.execute(
                "SELECT doc FROM outbox WHERE status = 'pending' AND next_attempt_at <= ?"
                " ORDER BY created_at, key LIMIT ?",
                (to_micros(now), limit),
            ).fetchall()
        return [OutboxNotice.model_validate_json(doc) for (doc,) in rows]

    def outbox_notices(
        self, status: str | None = None, *, limit: int | None = None
    ) -> list[OutboxNotice]:
        where, params = ("WHERE status = ?", [status]) if status is not None else ("", [])
        with self._read() as cur:
            rows = cur.execute(
                f"SELECT doc FROM outbox {where} ORDER BY created_at, key LIMIT ?",
                [*params, -1 if limit is None else limit],
            ).fetchall()
        return [OutboxNotice.model_validate_json(doc) for (doc,) in rows]

    def outbox_put(self, notice: OutboxNotice) -> None:
        self.outbox_put_many([notice])

    def outbox_put_many(self, notices: Sequence[OutboxNotice]) -> None:
        if not notices:
            return
        with self._tx() as cur:
            cur.executemany(
                "INSERT OR REPLACE INTO outbox (key, case_id, status, created_at,"
                " next_attempt_at, delivered_at, doc) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [_notice_row(n) for n in notices],
            )

    def outbox_purge(self, delivered_before: datetime) -> int:
        with self._tx() as cur:
            cur.execute(
                "DELETE FROM outbox WHERE status = 'delivered' AND delivered_at < ?",
                (to_micros(delivered_before),),
            )
            return int(cur.rowcount)

    def put_incident(self, incident: SweepIncident) -> None:
        with self._tx() as cur:
            cur.execute(
                "INSERT OR REPLACE INTO sweep_incidents (case_id, clock, next_retry_at, resolved,"
                " doc) VALUES (?, ?, ?, ?, ?)",
                (
                    incident.case_id,
                    incident.clock,
                    to_micros(incident.next_retry_at),
                    0 if incident.open else 1,
                    incident.model_dump_json(),
                ),
            )

    def incidents(self, *, open_only: bool = True) -> list[SweepIncident]:
        where = "WHERE resolved = 0" if open_only else ""
        with self._read() as cur:
            rows = cur.execute(
                f"SELECT doc FROM sweep_incidents {where} ORDER BY case_id, clock"
            ).fetchall()
        return [SweepIncident.model_validate_json(doc) for (doc,) in rows]

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # --- personal data (storage/crypto.py, storage/sqlite_pii.py) ---------------------------

    def _master_key(self, key_file: str | None) -> MasterKey | None:
        if self.path == MEMORY:
            found = resolve_master_key(key_file=key_file)
            return found or MasterKey.generate("a key for this in-memory database")
        return resolve_master_key(key_file=key_file, beside=self.path, create=not self.read_only)

    def _seal(
        self,
        cur: sqlite3.Cursor,
        case: Case,
        events: Sequence[CaseEvent],
        wrapped: str | None,
        *,
        batch: _NewRows | None = None,
    ) -> tuple[str, list[str], Case]:
        """The case document and event texts to write, sealed, with the case's key and index
        rows written (or, for a new case of a batch, added to ``batch`` to be written in one
        statement each); and the case as the report digest may show it (sealed title)."""
        sealing = self._vault.sealing(case.id, self._vault.key_of(wrapped, case.id))
        doc, texts = self._vault.seal_case(sealing, case, events)
        made = sealing.new and sealing.key is not None
        if batch is not None:
            if made and sealing.key is not None:
                batch.keys.append((case.id, self._vault.wrap(sealing.key, case.id)))
            batch.index += [(t, case.id) for t in self._tokens(cur, sealing.numbers)]
        else:
            if made and sealing.key is not None:
                pii.store_key(cur, case.id, self._vault.wrap(sealing.key, case.id))
            if sealing.numbers or wrapped is not None:
                pii.write_index(cur, case.id, self._tokens(cur, sealing.numbers))
        title = doc["title"]
        shown = case if title == case.title else case.model_copy(update={"title": title})
        return _dumps(doc), texts, shown

    def _seal_letter(self, cur: sqlite3.Cursor, letter: DeadLetter, key: str) -> DeadLetter:
        sealing = self._vault.sealing(key, self._vault.key_of(pii.wrapped_key(cur, key), key))
        sealed = self._vault.seal_letter(sealing, letter)
        if sealing.new and sealing.key is not None:
            pii.store_key(cur, key, self._vault.wrap(sealing.key, key))
        if sealing.numbers:
            pii.write_index(cur, key, self._tokens(cur, sealing.numbers))
        return sealed

    def _tokens(self, cur: sqlite3.Cursor, numbers: Iterable[str]) -> list[str]:
        if self._index_key is None:
            self._index_key = pii.index_key(cur, self._vault)
        return self._vault.tokens(self._index_key, numbers)

    def _open_text(self, owner: str, text: str) -> str:
        with self._read() as cur:
            wrapped = pii.wrapped_key(cur, owner)
        return self._vault.open_text(text, wrapped, owner) or ""

    def _open_letter(self, row: tuple[Any, ...]) -> DeadLetter:
        *columns, key, wrapped = row
        return self._vault.open_letter(_dead_letter(tuple(columns)), wrapped, key)

    def personal_data_owners(self, numbers: Sequence[str]) -> list[str]:
        """Case ids and dead-letter keys whose personal data holds one of ``numbers`` (in
        :func:`~zhenshen_core.storage.crypto.normalise_number` form), by the blind index."""
        with self._read() as cur:  # a read: it works on a read-only store too
            if self._index_key is None and self._vault.encrypted:
                wrapped = pii.wrapped_key(cur, INDEX_OWNER)
                if wrapped is None:
                    return []  # nothing was ever indexed
                self._index_key = self._vault.index_key(wrapped)[0]
            return pii.owners_of(cur, self._tokens(cur, numbers))

    def erase_personal_data(
        self, case: Case, events: Sequence[CaseEvent], *, expected_version: int
    ) -> None:
        """``save`` the redacted case and its erasure event, and destroy the case's data key
        and index rows in the same transaction; then make sure no freed page keeps them."""
        self._save(case, events, expected_version, erase=True)
        self._scrub()

    def erase_dead_letter(self, key: str) -> bool:
        with self._tx() as cur:
            found = pii.erase_letter(cur, key)
        self._scrub()
        return found

    def rewrap_keys(self, old: MasterKey) -> int:
        """Rewrap every data key made under ``old`` with this store's master key."""
        if not self._vault.encrypted:
            raise StorageError(f"{self.url}: no master key to rewrap the data keys with")
        with self._tx() as cur:
            count = pii.rewrap_all(cur, self._vault, old)
        self._scrub()
        return count

    def _scrub(self) -> None:
        """The WAL folded into the database and emptied: the frames written before a key was
        destroyed (or plain text sealed) go, and ``secure_delete`` zeroed what was freed."""
        if self.path == MEMORY:
            return
        with self._lock:
            try:
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error as exc:
                raise self._error(exc) from None


DIGEST_SQL = f"""
    SELECT c.id, c.status, c.domain, c.lead_department, c.received_at,
           coalesce(c.digest, {digest_sql("c")})
    FROM cases c ORDER BY c.received_at, c.id
"""

DUE_CLOCKS_SQL = """
    SELECT k.case_id, k.name, k.next_alert_at, k.due_at, c.version
    FROM clocks k JOIN cases c ON c.id = k.case_id
    WHERE k.stopped = 0 AND k.next_alert_at IS NOT NULL AND k.next_alert_at <= ?
      AND NOT EXISTS (SELECT 1 FROM sweep_incidents i WHERE i.case_id = k.case_id
                      AND i.clock = k.name AND i.resolved = 0 AND i.next_retry_at > ?)
    ORDER BY k.next_alert_at, k.case_id, k.name
    LIMIT ?
"""


@dataclass
class _NewRows:
    """The personal-data rows of the new cases of one batch (written once, at its end)."""

    keys: list[tuple[str, str]] = field(default_factory=list)
    index: list[tuple[str, str]] = field(default_factory=list)


_LETTER_COLUMNS = "channel, source, line, raw, reason, at, seen, last_seen"
_LETTER_WRAPPED = "d.key, (SELECT k.wrapped FROM pii_keys k WHERE k.owner = d.key)"
_WRAPPED = "(SELECT k.wrapped FROM pii_keys k WHERE k.owner = c.id)"
_AUDIT_COLUMNS = "id, at, actor, role, action, desk, case_id, outcome, remote, detail"


def _audit_record(row: tuple[Any, ...]) -> AuditRecord:
    record_id, at, actor, role, action, desk, case_id, outcome, remote, detail = row
    return AuditRecord(
        id=record_id,
        at=from_micros(at),
        actor=actor,
        role=role,
        action=action,
        desk=desk,
        case_id=case_id,
        outcome=outcome,
        remote=remote,
        detail=json.loads(detail),
    )


def _dead_letter(row: tuple[Any, ...]) -> DeadLetter:
    channel, source, line, raw, reason, at, seen, last_seen = row
    return DeadLetter(
        channel=channel,
        source=source,
        line=line,
        raw=raw,
        reason=reason,
        at=datetime.fromisoformat(at),
        seen=seen,
        last_seen=None if last_seen is None else datetime.fromisoformat(last_seen),
    )


def _case_columns(case: Case) -> tuple[Any, ...]:
    """The columns after ``doc`` (which the vault seals)."""
    return (
        case.version,
        case.status.value,
        case.domain,
        case.lead_department,
        case.enterprise_uscc,
        case.channel.value,
        to_micros(case.received_at),
    )


def report_digest(case: Case, closed_at: int | None) -> str:
    """The ``digest`` column: what a report counts of the case (see :func:`digest_sql`)."""
    latest = case.feedback[-1] if case.feedback else None
    return _dumps(
        [
            case.external_id,
            case.title,
            case.tier.value if case.tier else None,
            list(case.tags),
            latest.satisfaction.value if latest else None,
            latest.at.isoformat() if latest else None,
            [[r.from_department, r.at.isoformat()] for r in case.returns],
            [
                [name, c.due_at.isoformat(), c.stopped_at.isoformat() if c.stopped_at else None]
                for name, c in case.clocks.items()
            ],
            closed_at if case.status is CaseStatus.CLOSED else None,
        ]
    )


def _closed_at(events: Sequence[CaseEvent]) -> int | None:
    closes = [to_micros(e.at) for e in events if e.type == "close"]
    return max(closes) if closes else None


def _insert_events(cur: sqlite3.Cursor, events: Sequence[CaseEvent], texts: Sequence[str]) -> None:
    cur.executemany(
        "INSERT INTO events (case_id, seq, at, type, doc) VALUES (?, ?, ?, ?, ?)",
        [
            (e.case_id, e.seq, to_micros(e.at), e.type, text)
            for e, text in zip(events, texts, strict=True)
        ],
    )


def _notice_row(notice: OutboxNotice) -> tuple[Any, ...]:
    return (
        notice.key,
        notice.case_id,
        notice.status,
        to_micros(notice.created_at),
        to_micros(notice.next_attempt_at),
        None if notice.delivered_at is None else to_micros(notice.delivered_at),
        notice.model_dump_json(),
    )


def _insert_notices(cur: sqlite3.Cursor, notices: Sequence[OutboxNotice]) -> None:
    """Notices written with their change; a key already kept stays as it is (written before)."""
    cur.executemany(
        "INSERT INTO outbox (key, case_id, status, created_at, next_attempt_at, delivered_at,"
        " doc) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING",
        [_notice_row(n) for n in notices],
    )


def _write_refs(cur: sqlite3.Cursor, case: Case) -> None:
    """Add refs a save introduced, refusing one that already names another case."""
    for channel, external_id in external_keys(case):
        cur.execute(
            """INSERT INTO external_refs (channel, external_id, case_id) VALUES (?, ?, ?)
               ON CONFLICT (channel, external_id) DO NOTHING""",
            (channel, external_id, case.id),
        )
        owner = cur.execute(
            "SELECT case_id FROM external_refs WHERE channel = ? AND external_id = ?",
            (channel, external_id),
        ).fetchone()[0]
        if owner != case.id:
            raise StorageError(
                f"case {case.id}: external ref {channel}:{external_id} already belongs to "
                f"case {owner}"
            )


def _write_index_rows(cur: sqlite3.Cursor, case: Case) -> None:
    """The side tables queries use, derived from the document (callers cleared old rows)."""
    departments = {d.id: d.role.value for d in case.departments}
    cur.executemany(
        "INSERT INTO case_departments (case_id, department, role) VALUES (?, ?, ?)",
        [(case.id, dept, role) for dept, role in departments.items()],
    )
    cur.executemany(
        """INSERT INTO clocks (case_id, name, due_at, next_alert_at, stopped)
           VALUES (?, ?, ?, ?, ?)""",
        [
            (
                case.id,
                name,
                to_micros(clock.due_at),
                None if clock.next_alert_at is None else to_micros(clock.next_alert_at),
                0 if clock.running else 1,
            )
            for name, clock in case.clocks.items()
        ],
    )


def _known_id(cur: sqlite3.Cursor, case: Case) -> str | None:
    for channel, external_id in external_keys(case):
        row = cur.execute(
            "SELECT case_id FROM external_refs WHERE channel = ? AND external_id = ?",
            (channel, external_id),
        ).fetchone()
        if row is not None:
            return str(row[0])
    row = cur.execute("SELECT id FROM cases WHERE id = ?", (case.id,)).fetchone()
    return None if row is None else str(row[0])


def _where(q: CaseQuery) -> tuple[str, list[Any]]:
    terms: list[str] = []
    params: list[Any] = []
    if q.status is not None:
        terms.append(f"c.status IN ({', '.join('?' * len(q.status))})")
        params.extend(s.value for s in q.status)
    if q.domain is not None:
        terms.append("c.domain = ?")
        params.append(q.domain)
    if q.department is not None:
        terms.append("c.id IN (SELECT case_id FROM case_departments WHERE department = ?)")
        params.append(q.department)
    if q.enterprise is not None:
        terms.append("c.enterprise_uscc = ?")
        params.append(query_enterprise(q))
    if q.channel is not None:
        terms.append("c.channel = ?")
        params.append(str(q.channel))
    if q.received_from is not None:
        terms.append("c.received_at >= ?")
        params.append(to_micros(q.received_from))
    if q.received_before is not None:
        terms.append("c.received_at < ?")
        params.append(to_micros(q.received_before))
    if q.due_before is not None:
        terms.append("c.id IN (SELECT case_id FROM clocks WHERE stopped = 0 AND due_at < ?)")
        params.append(to_micros(q.due_before))
    return ("WHERE " + " AND ".join(terms) if terms else ""), params


def _insert_audit(cur: sqlite3.Cursor, record: AuditRecord) -> None:
    """One access-log record, in the caller's transaction; idempotent on its id."""
    cur.execute(
        f"INSERT INTO audit_log ({_AUDIT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (id) DO NOTHING",
        (
            record.id,
            to_micros(record.at),
            record.actor,
            record.role,
            record.action,
            record.desk,
            record.case_id,
            record.outcome,
            record.remote,
            _dumps(record.detail),
        ),
    )
