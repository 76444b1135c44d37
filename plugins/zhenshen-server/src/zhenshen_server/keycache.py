"""Verified API keys kept in memory, for as long as no key has changed in the store.

Reading a key's record on every request costs a store read in a worker thread (about a
quarter of a GET's CPU on PostgreSQL, the thread hop included). A key that verified is kept
here by its id, and a request that brings it again is answered on the event loop: its secret
is still hashed and compared with the stored hash every time; only the read is saved. Nothing
but verified keys is kept (an unknown, wrong or revoked key is looked up on every try).

A revocation must hold at once on every worker and every node, so the cache is kept only
where the store says when keys change: PostgreSQL. A trigger on the ``records`` table
(installed here, once per schema) sends a ``NOTIFY`` in the transaction that creates, changes
or deletes an API key record, whoever writes it (``zhenshen keys revoke``, a script, an
administrator's SQL), and each process ``LISTEN``s on a connection of its own. Any
notification empties the cache.

A notification reaches the listening connection a moment *after* the revoking transaction
has committed (measured: in 10-18% of tries it was not there yet when the revoking call
returned), so waiting for it is not enough. Before a request is answered from memory, an
empty query goes over the listening connection, sent after the request arrived: PostgreSQL
has queued the notification of every transaction committed before that, and sends them ahead
of the query's answer. The requests that arrive while one such round trip is out share the
next one, so under load a round trip serves many requests; it costs the worker a few
microseconds of CPU instead of a query, its result and a thread hop. When the listening
connection fails or takes over a second, requests read the store, as without a cache, and the
connection is made again in the background.

A key read from the store while a notification is on its way is not kept: every fill notes
the count of notifications seen before its read, and is dropped when that count has moved.

Every other store (SQLite serves one process; the in-memory store is for tests) gets no cache:
each request reads the store.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable

from zhenshen_core.storage.protocol import CaseStore
from zhenshen_server.keys import KIND, PREFIX, ApiKey, secret_matches, verify_key

LOG = logging.getLogger("zhenshen_server")

#: The notification channel of API key changes (its payload, the schema, is not read: a change
#: in another schema of the database only empties the cache once more than needed).
CHANNEL = "zhenshen_api_keys"
#: Seconds a request waits for the round trip that proves the cache current, then reads the
#: store instead; and seconds between attempts to connect a failed listener again.
PROBE_TIMEOUT = 1.0
RECONNECT_EVERY = 5.0

#: The URL schemes of the PostgreSQL store (zhenshen-postgres), with or without a driver
#: (``postgresql+psycopg://``): the one store several workers and nodes may share.
POSTGRES_SCHEMES = ("postgresql", "postgres")


def is_postgres(url: str) -> bool:
    """Whether ``url`` names the PostgreSQL store, read as that store reads its scheme."""
    return url.partition(":")[0].lower().split("+", 1)[0] in POSTGRES_SCHEMES


_TRIGGER_SQL = """
CREATE OR REPLACE FUNCTION {schema}.zhenshen_api_keys_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('{channel}', TG_TABLE_SCHEMA);
    RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER zhenshen_api_keys_written AFTER INSERT OR UPDATE ON {schema}.records
    FOR EACH ROW WHEN (NEW.kind = '{kind}')
    EXECUTE FUNCTION {schema}.zhenshen_api_keys_changed();
CREATE OR REPLACE TRIGGER zhenshen_api_keys_removed AFTER UPDATE OR DELETE ON {schema}.records
    FOR EACH ROW WHEN (OLD.kind = '{kind}')
    EXECUTE FUNCTION {schema}.zhenshen_api_keys_changed();
CREATE OR REPLACE TRIGGER zhenshen_api_keys_truncated AFTER TRUNCATE ON {schema}.records
    FOR EACH STATEMENT EXECUTE FUNCTION {schema}.zhenshen_api_keys_changed();
"""


class Listener:
    """A connection that ``LISTEN``s for key changes (the trigger installed first), driven
    without blocking: :meth:`probe` sends an empty query, :meth:`receive` reads what came."""

    def __init__(self, url: str) -> None:
        import psycopg
        from psycopg import sql
        from zhenshen_postgres.connection import parse_url

        parsed = parse_url(url)
        self.conn = psycopg.connect(parsed.conninfo, autocommit=True)
        try:
            schema = sql.Identifier(parsed.schema).as_string(self.conn)
            with self.conn.transaction():
                # Workers start together: one of them installs the trigger at a time.
                self.conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (CHANNEL,))
                self.conn.execute(_TRIGGER_SQL.format(schema=schema, channel=CHANNEL,
                                                      kind=KIND))
            self.conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(CHANNEL)))
        except Exception:
            self.conn.close()
            raise
        self.pgconn = self.conn.pgconn
        self.in_flight = False

    def fileno(self) -> int:
        return int(self.pgconn.socket)

    def probe(self) -> None:
        self.pgconn.send_query(b"")
        self.pgconn.flush()
        self.in_flight = True

    def receive(self) -> tuple[bool, bool]:
        """(a notification arrived, the probe's answer is complete); raises when the
        connection is gone."""
        pgconn = self.pgconn
        pgconn.consume_input()
        done = False
        while self.in_flight and not pgconn.is_busy():
            if pgconn.get_result() is None:
                self.in_flight = False
                done = True
        notified = False
        while pgconn.notifies() is not None:
            notified = True
        if pgconn.status != 0:  # CONNECTION_OK
            raise ConnectionError("the listening connection is closed")
        return notified, done

    def close(self) -> None:
        self.conn.close()


class KeyCache:
    """API key verification for one process; see the module."""

    def __init__(self, store: CaseStore, url: str) -> None:
        self.store = store
        self._url = url
        self._lock = threading.Lock()
        self._keys: dict[str, ApiKey] = {}
        self._seen = 0  # notifications and failures seen: a fill from before one is dropped
        self._listener: Listener | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waiting: list[asyncio.Future[bool]] = []  # need a probe sent after they came
        self._riding: list[asyncio.Future[bool]] = []  # the probe in flight answers these
        self._reconnect: asyncio.TimerHandle | None = None
        self._closed = False
        if is_postgres(url):
            self._listener = self._connect()

    def _connect(self) -> Listener | None:
        try:
            return Listener(self._url)
        except Exception as exc:  # the store itself may still answer: no cache meanwhile
            LOG.warning("API keys are read on every request: cannot listen for key changes "
                        "(%s)", type(exc).__name__)
            return None

    # --- on the event loop ---------------------------------------------------------------

    async def cached(self, token: str) -> ApiKey | None:
        """The key ``token`` is, when memory can answer (proved current by a round trip that
        began after this call); None: ask :meth:`verify`, which reads the store."""
        key_id, _, secret = token[len(PREFIX):].partition("_")
        with self._lock:
            if key_id not in self._keys:
                return None
        if not await self._current():
            return None
        with self._lock:
            key = self._keys.get(key_id)
        return key if key is not None and secret_matches(key, secret) else None

    async def _current(self) -> bool:
        loop = asyncio.get_running_loop()
        if self._loop is None and self._listener is not None:
            self._loop = loop
            loop.add_reader(self._listener.fileno(), self._readable)
        if self._loop is not loop or self._listener is None:
            return False
        future: asyncio.Future[bool] = loop.create_future()
        self._waiting.append(future)
        if not self._listener.in_flight:
            self._send()
        try:
            return await asyncio.wait_for(asyncio.shield(future), PROBE_TIMEOUT)
        except TimeoutError:
            self._fail("no answer within a second")
            return False

    def _send(self) -> None:
        assert self._listener is not None
        try:
            self._listener.probe()
        except Exception as exc:
            self._fail(type(exc).__name__)
            return
        self._riding, self._waiting = self._waiting, []

    def _readable(self) -> None:
        if self._listener is None:
            return
        try:
            notified, done = self._listener.receive()
        except Exception as exc:
            self._fail(type(exc).__name__)
            return
        if notified:
            self._forget()
        if done:
            self._settle(self._riding, True)
            self._riding = []
            if self._waiting:
                self._send()

    def _forget(self) -> None:
        with self._lock:
            self._seen += 1
            self._keys.clear()

    @staticmethod
    def _settle(futures: list[asyncio.Future[bool]], value: bool) -> None:
        for future in futures:
            if not future.done():
                future.set_result(value)

    def _fail(self, why: str) -> None:
        """The listener cannot vouch for the cache: empty it, read the store until a new
        listener is connected (in a thread, later)."""
        listener, self._listener = self._listener, None
        self._forget()
        self._settle(self._riding + self._waiting, False)
        self._riding, self._waiting = [], []
        if listener is None:
            return
        LOG.warning("API key cache off, keys read on every request: the listening "
                    "connection failed (%s)", why)
        if self._loop is not None:
            self._loop.remove_reader(listener.fileno())
        listener.close()
        if self._loop is not None and not self._closed:
            self._reconnect = self._loop.call_later(RECONNECT_EVERY, self._again)

    def _again(self) -> None:
        loop = self._loop
        if loop is None or self._closed:
            return

        def connected(task: asyncio.Future[Listener | None]) -> None:
            listener = task.result()
            if listener is None or self._closed:
                if listener is not None:
                    listener.close()
                if not self._closed:
                    self._reconnect = loop.call_later(RECONNECT_EVERY, self._again)
                return
            self._forget()  # key changes while nobody listened
            self._listener = listener
            loop.add_reader(listener.fileno(), self._readable)
            LOG.info("API key cache on again")

        connect: Callable[[], Listener | None] = self._connect
        loop.run_in_executor(None, connect).add_done_callback(connected)

    # --- in a worker thread --------------------------------------------------------------

    def verify(self, token: str) -> ApiKey | None:
        """The live key ``token`` is, read from the store (and kept when it verifies and no
        key changed meanwhile), or None."""
        with self._lock:
            seen = self._seen
        key = verify_key(self.store, token)
        if key is not None and self._listener is not None:
            with self._lock:
                if self._seen == seen:
                    self._keys[key.id] = key
        return key

    def close(self) -> None:
        self._closed = True
        if self._reconnect is not None:
            self._reconnect.cancel()
        listener, self._listener = self._listener, None
        if listener is not None:
            if self._loop is not None and not self._loop.is_closed():
                self._loop.remove_reader(listener.fileno())
            listener.close()
        self._settle(self._riding + self._waiting, False)
        with self._lock:
            self._keys.clear()
