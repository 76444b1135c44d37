"""What other connections changed in a PostgreSQL store, and proof that a process has heard it.

A worker may answer from memory (a verified API key, a case's masked view) only while nothing
it kept has changed in the store, whoever changed it: another worker, another node, ``zhenshen
keys revoke``, an administrator's SQL. PostgreSQL says when: triggers (installed here, once per
schema) send a ``NOTIFY`` in the transaction that writes

* an API key record (channel ``zhenshen_api_keys``; any change empties the key cache);
* a case row, updated or deleted (channel ``zhenshen_cases``, the case id as payload; a new
  case is not announced: nothing can have kept it; a ``TRUNCATE`` sends an empty payload,
  which stands for every case);

and each process ``LISTEN``s on a connection of its own, driven from its event loop.

A notification reaches the listening connection a moment *after* the writing transaction has
committed (measured: in 10-18% of tries it was not there yet when the revoking call returned),
so waiting for it is not enough. Before a request is answered from memory, :meth:`current`
sends an empty query over the listening connection, after the request arrived: PostgreSQL has
queued the notification of every transaction committed before that, and sends them ahead of
the query's answer, and they are handed to the subscribers before the request goes on. The
requests that arrive while one such round trip is out share the next one, so under load a
round trip serves many requests; it costs the worker a few microseconds of CPU instead of a
query, its result and a thread hop. When the listening connection fails or takes over a
second, :meth:`current` says no (requests read the store) and every subscriber forgets what it
kept; the connection is made again in the background.

Every other store (SQLite serves one process; the in-memory store is for tests) has no
:class:`StoreChanges`: each request reads the store.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from zhenshen_server.keys import KIND

LOG = logging.getLogger("zhenshen_server")

#: The notification channels: API key records, and case rows (payload: the case id).
KEYS_CHANNEL = "zhenshen_api_keys"
CASES_CHANNEL = "zhenshen_cases"
#: Seconds a request waits for the round trip that proves memory current, then reads the
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
    PERFORM pg_notify('{keys}', TG_TABLE_SCHEMA);
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
CREATE OR REPLACE FUNCTION {schema}.zhenshen_case_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('{cases}', OLD.id);
    RETURN NULL;
END
$$;
CREATE OR REPLACE FUNCTION {schema}.zhenshen_cases_truncated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('{cases}', '');
    RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER zhenshen_case_changed AFTER UPDATE OR DELETE ON {schema}.cases
    FOR EACH ROW EXECUTE FUNCTION {schema}.zhenshen_case_changed();
CREATE OR REPLACE TRIGGER zhenshen_cases_truncated AFTER TRUNCATE ON {schema}.cases
    FOR EACH STATEMENT EXECUTE FUNCTION {schema}.zhenshen_cases_truncated();
"""


class Listener:
    """A connection that ``LISTEN``s on both channels (the triggers installed first), driven
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
                # Workers start together: one of them installs the triggers at a time.
                self.conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (KEYS_CHANNEL,))
                self.conn.execute(_TRIGGER_SQL.format(
                    schema=schema, keys=KEYS_CHANNEL, cases=CASES_CHANNEL, kind=KIND))
            for channel in (KEYS_CHANNEL, CASES_CHANNEL):
                self.conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
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

    def receive(self) -> tuple[list[tuple[str, str]], bool]:
        """(the notifications that arrived, as (channel, payload); the probe's answer is
        complete); raises when the connection is gone."""
        pgconn = self.pgconn
        pgconn.consume_input()
        done = False
        while self.in_flight and not pgconn.is_busy():
            if pgconn.get_result() is None:
                self.in_flight = False
                done = True
        notes = []
        while (note := pgconn.notifies()) is not None:
            notes.append((note.relname.decode(), note.extra.decode()))
        if pgconn.status != 0:  # CONNECTION_OK
            raise ConnectionError("the listening connection is closed")
        return notes, done

    def close(self) -> None:
        self.conn.close()


#: What a subscriber is told: a change on its channel (the payload), or that the listener was
#: lost and nothing kept can be vouched for any more.
OnChange = Callable[[str], None]
OnLost = Callable[[], None]


class StoreChanges:
    """One process's listener and its proofs of currency; see the module."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._listener: Listener | None = self._connect()
        self._subscribers: list[tuple[str, OnChange, OnLost]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waiting: list[asyncio.Future[bool]] = []  # need a probe sent after they came
        self._riding: list[asyncio.Future[bool]] = []  # the probe in flight answers these
        self._reconnect: asyncio.TimerHandle | None = None
        self._closed = False

    def _connect(self) -> Listener | None:
        try:
            return Listener(self._url)
        except Exception as exc:  # the store itself may still answer: no memory meanwhile
            LOG.warning("nothing is answered from memory: cannot listen for store changes "
                        "(%s)", type(exc).__name__)
            return None

    @property
    def listening(self) -> bool:
        return self._listener is not None

    def subscribe(self, channel: str, on_change: OnChange, on_lost: OnLost) -> None:
        """Call ``on_change(payload)`` for each notification on ``channel`` (on the event
        loop, before any request that waits for :meth:`current` goes on) and ``on_lost()``
        when the listener fails."""
        self._subscribers.append((channel, on_change, on_lost))

    # --- on the event loop ---------------------------------------------------------------

    async def current(self) -> bool:
        """True once every change committed before this call has been handed to the
        subscribers (a round trip begun after the call came back); False: the listener
        cannot say, read the store."""
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
            notes, done = self._listener.receive()
        except Exception as exc:
            self._fail(type(exc).__name__)
            return
        for channel, payload in notes:
            for wanted, on_change, _ in self._subscribers:
                if wanted == channel:
                    on_change(payload)
        if done:
            self._settle(self._riding, True)
            self._riding = []
            if self._waiting:
                self._send()

    def _lost(self) -> None:
        for _, _, on_lost in self._subscribers:
            on_lost()

    @staticmethod
    def _settle(futures: list[asyncio.Future[bool]], value: bool) -> None:
        for future in futures:
            if not future.done():
                future.set_result(value)

    def _fail(self, why: str) -> None:
        """The listener cannot vouch for memory: subscribers forget, requests read the store
        until a new listener is connected (in a thread, later)."""
        listener, self._listener = self._listener, None
        self._lost()
        self._settle(self._riding + self._waiting, False)
        self._riding, self._waiting = [], []
        if listener is None:
            return
        LOG.warning("answers from memory off, the store read on every request: the listening "
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
            self._lost()  # changes while nobody listened
            self._listener = listener
            loop.add_reader(listener.fileno(), self._readable)
            LOG.info("answers from memory on again")

        connect: Callable[[], Listener | None] = self._connect
        loop.run_in_executor(None, connect).add_done_callback(connected)

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
        self._lost()
