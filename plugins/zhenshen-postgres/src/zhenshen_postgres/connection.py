"""The store's connection: its URL, its timeouts, and what a failure of it means.

Why these pieces, and why here (the SQL of the store is in ``store.py``):

* **The URL carries the timeouts**, so every node of a district and every command reads them
  from the one place operators already configure (``ZHENSHEN_STORE``, ``zhenshen.toml``).
  ``schema``, ``statement_timeout``, ``idle_in_transaction_timeout`` and ``retries`` are the
  store's; every other parameter goes to libpq. Unless the URL says otherwise the store sets
  libpq's ``connect_timeout`` and TCP keepalives, which find a peer that vanished (a host gone,
  a network cut).
* **A server that stops answering is noticed by the client.** The server enforces
  ``statement_timeout`` and ``idle_in_transaction_session_timeout`` itself, but a frozen
  server (SIGSTOP, a hung disk, a paused VM) enforces nothing, and its kernel still answers TCP
  keepalives. So every wait for the server, one round trip at a time, is bounded by
  ``statement_timeout`` plus :data:`STALL_GRACE` (:class:`GuardedConnection`, through psycopg's
  own wait timeout): a live server always answers first, with its own timeout error; a frozen
  one is given up, its connection closed, and :class:`Stalled` raised.
* **What a failure means** (:func:`classify`) decides what the store may do next: retry a
  transaction the server rolled back because of another one (deadlock, serialization
  failure), reconnect and retry after a lost connection or a server going away, and report a
  stall or a refusal (a constraint, a permission) at once.
* ``COPY`` on a connection that died must not try to end the copy on it: psycopg would log
  ``error ignored terminating <psycopg.Copy [BAD]>`` on stderr. :class:`CopyWriter` skips that
  step when the connection is gone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from time import monotonic
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import errors as pg_errors
from psycopg.abc import PQGen
from psycopg.copy import LibpqWriter
from psycopg.pq import ConnStatus

from zhenshen_core.errors import StoreURLError

SCHEMES = ("postgresql", "postgres")
DEFAULT_SCHEMA = "public"
DEFAULT_CONNECT_TIMEOUT = 10
DEFAULT_STATEMENT_TIMEOUT = 60.0
DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT = 60.0
DEFAULT_RETRIES = 5
#: How much longer than ``statement_timeout`` the client waits for an answer before it gives the
#: server up as stalled: a live server cancels the statement first and says so.
STALL_GRACE = 2.0
#: libpq settings the store adds unless the URL names them: a dead peer is found in about a
#: minute (30 s idle, then 3 probes 10 s apart; unacknowledged data gives up after 60 s).
KEEPALIVES = {
    "keepalives": "1",
    "keepalives_idle": "30",
    "keepalives_interval": "10",
    "keepalives_count": "3",
    "tcp_user_timeout": "60000",
}
_SCHEMA_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_STORE_PARAMETERS = (
    "schema",
    "statement_timeout",
    "idle_in_transaction_timeout",
    "retries",
    "pii_key_file",
)
_WAIT_INTERVAL = 0.1  # psycopg's own: how often a wait checks for Ctrl-C
RV = TypeVar("RV")


@dataclass(frozen=True)
class PostgresURL:
    """A store URL split into what libpq understands and what the store itself reads.

    Timeouts are in seconds; 0 turns a timeout off (and with ``statement_timeout=0`` the client
    waits for a stalled server for ever, as it did before these settings existed).
    """

    conninfo: str
    schema: str
    display: str
    connect_timeout: int = DEFAULT_CONNECT_TIMEOUT
    statement_timeout: float = DEFAULT_STATEMENT_TIMEOUT
    idle_in_transaction_timeout: float = DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT
    retries: int = DEFAULT_RETRIES
    options: str = ""  # the URL's own libpq ``options``, kept after the store's
    pii_key_file: str | None = None  # the master key of personal data (privacy.keys)

    @property
    def stall_after(self) -> float | None:
        """How long the client waits for one answer of the server (None: for ever)."""
        return self.statement_timeout + STALL_GRACE if self.statement_timeout else None

    def server_options(self) -> str:
        """libpq's ``options``: the server-side timeouts, then whatever the URL gave."""
        settings = [
            f"-c statement_timeout={round(self.statement_timeout * 1000)}",
            "-c idle_in_transaction_session_timeout="
            f"{round(self.idle_in_transaction_timeout * 1000)}",
        ]
        return " ".join([*settings, self.options]).strip()


def parse_url(url: str) -> PostgresURL:
    """Read ``postgresql://user@host:port/db?schema=NAME&statement_timeout=60&…``.

    ``postgres://`` and ``postgresql+psycopg://`` are accepted too. The password, if any, never
    appears in :attr:`PostgresURL.display`, which is what error messages and ``store.url`` show.
    """
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise StoreURLError(f"not a PostgreSQL URL: {url!r}: {exc}") from None
    scheme = parts.scheme.lower().split("+", 1)[0]
    if scheme not in SCHEMES:
        raise StoreURLError(
            f"not a PostgreSQL URL: {_mask(url)!r}; expected postgresql://user@host:port/database"
        )
    display = _mask(url)
    params = parse_qsl(parts.query, keep_blank_values=True)
    given: dict[str, str] = {}
    for key, value in params:
        if key in given and (key in _STORE_PARAMETERS or key in ("options", "connect_timeout")):
            raise StoreURLError(f"{display}: the {key} parameter is given more than once")
        given[key] = value
    schema = given.get("schema", DEFAULT_SCHEMA)
    if not _SCHEMA_RE.fullmatch(schema):
        raise StoreURLError(
            f"{display}: schema {schema!r} is not a plain identifier "
            "(letters, digits and _, not starting with a digit, at most 63 characters)"
        )
    statement = _seconds(given, "statement_timeout", DEFAULT_STATEMENT_TIMEOUT, display)
    idle = _seconds(
        given, "idle_in_transaction_timeout", DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT, display
    )
    connect = _seconds(given, "connect_timeout", DEFAULT_CONNECT_TIMEOUT, display, whole=True)
    retries = _seconds(given, "retries", DEFAULT_RETRIES, display, whole=True, most=20)
    libpq = [(k, v) for k, v in params if k not in (*_STORE_PARAMETERS, "options")]
    libpq += [(k, v) for k, v in KEEPALIVES.items() if k not in given]
    if "connect_timeout" not in given:
        libpq.append(("connect_timeout", str(DEFAULT_CONNECT_TIMEOUT)))
    conninfo = urlunsplit(("postgresql", parts.netloc, parts.path, urlencode(libpq), ""))
    return PostgresURL(
        conninfo=conninfo,
        schema=schema,
        display=display,
        connect_timeout=int(connect),
        statement_timeout=statement,
        idle_in_transaction_timeout=idle,
        retries=int(retries),
        options=given.get("options", ""),
        pii_key_file=given.get("pii_key_file"),
    )


def _seconds(
    given: dict[str, str],
    name: str,
    default: float,
    display: str,
    *,
    whole: bool = False,
    most: float = 86_400,
) -> float:
    if name not in given:
        return default
    text = given[name]
    try:
        value = float(int(text)) if whole else float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= most:
        kind = "a whole number" if whole else "a number of seconds"
        raise StoreURLError(f"{display}: {name} must be {kind} from 0 to {most:g}, got {text!r}")
    return value


def _mask(url: str) -> str:
    return re.sub(r"(//[^:/@]*:)[^@/]*@", r"\1***@", url)


# --- the connection ----------------------------------------------------------------------------


class Stalled(psycopg.OperationalError):
    """The server did not answer within the client's limit; the connection has been closed."""


class GuardedConnection(psycopg.Connection[tuple[Any, ...]]):
    """A connection whose every wait for the server is bounded by :attr:`stall_after`.

    psycopg runs each round trip (a query and its results, a block of ``COPY`` data, a
    ``COMMIT``) as one call of :meth:`wait`; bounding that call bounds how long the store can
    be blocked by a server that stopped answering. The connection is closed before
    :class:`Stalled` is raised: it is in an unknown state, and closing it makes psycopg skip
    the rollback it would otherwise wait for on the same dead socket.
    """

    stall_after: float | None = None

    def wait(
        self, gen: PQGen[RV], interval: float = _WAIT_INTERVAL, timeout: float | None = None
    ) -> RV:
        limit = self.stall_after
        if limit is None or (timeout is not None and timeout <= limit):
            return super().wait(gen, interval, timeout)
        started = monotonic()
        try:
            return super().wait(gen, interval, limit)
        except psycopg.OperationalError as exc:
            if exc.sqlstate is not None:
                raise  # the server answered, with an error
            waited = monotonic() - started
            if waited < limit:
                raise
            self.pgconn.finish()
            raise Stalled(
                f"the server did not answer for {waited:.0f} s (statement_timeout + "
                f"{STALL_GRACE:g} s); it may be stalled or unreachable"
            ) from None


def connect(url: PostgresURL, application_name: str = "zhenshen") -> GuardedConnection:
    """A new autocommit connection with the URL's timeouts on both sides."""
    conn = GuardedConnection.connect(
        url.conninfo,
        autocommit=True,
        application_name=application_name,
        options=url.server_options(),
    )
    conn.stall_after = url.stall_after
    return conn


def gone(conn: psycopg.Connection[Any] | None) -> bool:
    """True when nothing more can be sent on ``conn`` (closed, broken or given up as stalled)."""
    return conn is None or conn.closed or conn.pgconn.status == ConnStatus.BAD


class CopyWriter(LibpqWriter):
    """psycopg's ``COPY`` writer, except that it does not end a copy on a dead connection.

    When a ``COPY`` fails because its connection died, ending it (``CopyFail``) can only fail
    again, and psycopg reports that second failure on stderr as ``error ignored terminating
    <psycopg.Copy [BAD] …>`` beside the real error. There is nothing left to end, so skip it.
    """

    def finish(self, exc: BaseException | None = None) -> None:
        if exc is not None and gone(self.connection):
            return
        super().finish(exc)


# --- what a failure means ----------------------------------------------------------------------


class Failure(Enum):
    REFUSED = "refused"  # the server answered with an error: a constraint, a permission …
    CONFLICT = "conflict"  # rolled back for a concurrent transaction: run it again
    LOST = "lost"  # the connection or the server went away: reconnect and run it again
    STALLED = "stalled"  # no answer in time: report it, waiting again would block again


#: Rolled back by the server because of another transaction: deadlock detected, serialization
#: failure (the transaction is gone whole, so running it again is always safe).
_CONFLICT_STATES = frozenset({"40P01", "40001"})
#: The server is going away, starting, full, or closed an idle transaction: admin shutdown,
#: crash shutdown, cannot connect now, too many connections, idle-in-transaction timeout, idle
#: session timeout (and every connection exception, class 08).
_LOST_STATES = frozenset({"57P01", "57P02", "57P03", "53300", "25P03", "57P05"})
#: A timeout the server enforced: statement timeout (query canceled), lock timeout.
_TIMEOUT_STATES = frozenset({"57014", "55P03"})


def classify(exc: psycopg.Error) -> Failure:
    """What a psycopg error means for whoever wants to run the operation again."""
    if isinstance(exc, Stalled | pg_errors.ConnectionTimeout):
        return Failure.STALLED
    state = getattr(exc, "sqlstate", None)
    if state in _CONFLICT_STATES:
        return Failure.CONFLICT
    if state in _TIMEOUT_STATES:
        return Failure.STALLED
    if state in _LOST_STATES or (state is not None and state.startswith("08")):
        return Failure.LOST
    if state is None and isinstance(exc, psycopg.OperationalError):
        return Failure.LOST  # no answer at all: the connection failed
    return Failure.REFUSED


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
