"""Whether this request's delivery created the case: 201 or 200, exactly, under concurrency.

``Desk.receive`` returns the stored case either way. Looking the work order up first cannot
tell two concurrent deliveries apart (both find nothing, one of them stores it), but the store
can: its ``ingest`` answers ``created``. The desks' store is wrapped once in :class:`IngestWatch`,
which passes every call through and notes that answer in a context variable, which each request
reads in its own context (a thread of the pool runs the route in a copy of the request's).

The request's own audit record rides along: :func:`watching` may be given the record of a
successful receipt (made for the case id the store is handed), and ``ingest`` passes it to the
store's ``audit=``, so a new case and its record are one transaction, one commit. When the store
answers "already there", nothing was recorded and the route writes its record itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from zhenshen_core import AuditRecord


@dataclass
class Watch:
    """What the store said during one request: ``created`` per ``ingest``, and whether the
    request's audit record was stored with a case it created."""

    record: Callable[[str], AuditRecord] | None = None
    created: list[bool] = field(default_factory=list)
    audited: bool = False


_watch: ContextVar[Watch | None] = ContextVar("zhenshen_server_created", default=None)


class IngestWatch:
    """The store as the desks see it: every method the store's own, ``ingest`` noted."""

    def __init__(self, store: Any) -> None:
        self._store = store

    def ingest(self, case: Any, events: Any, **kwargs: Any) -> Any:
        watch = _watch.get()
        if watch is not None and watch.record is not None and "audit" not in kwargs:
            kwargs["audit"] = [watch.record(case.id)]
        result = self._store.ingest(case, events, **kwargs)
        if watch is not None:
            watch.created.append(bool(result.created))
            watch.audited = watch.audited or ("audit" in kwargs and bool(result.created))
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


@contextmanager
def watching(record: Callable[[str], AuditRecord] | None = None) -> Iterator[Watch]:
    """Inside: the ``created`` answers of the store's ``ingest`` calls made here; ``record``
    makes the audit record of a receipt, for the case id being stored."""
    watch = Watch(record)
    token = _watch.set(watch)
    try:
        yield watch
    finally:
        _watch.reset(token)
