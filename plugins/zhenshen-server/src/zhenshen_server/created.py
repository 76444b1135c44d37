"""Whether this request's delivery created the case: 201 or 200, exactly, under concurrency.

``Desk.receive`` returns the stored case either way. Looking the work order up first cannot
tell two concurrent deliveries apart (both find nothing, one of them stores it), but the store
can: its ``ingest`` answers ``created``. The desks' store is wrapped once in :class:`IngestWatch`,
which passes every call through and notes that answer in a context variable, which each request
reads in its own context (a thread of the pool runs the route in a copy of the request's).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

_created: ContextVar[list[bool] | None] = ContextVar("zhenshen_server_created", default=None)


class IngestWatch:
    """The store as the desks see it: every method the store's own, ``ingest`` noted."""

    def __init__(self, store: Any) -> None:
        self._store = store

    def ingest(self, *args: Any, **kwargs: Any) -> Any:
        result = self._store.ingest(*args, **kwargs)
        noted = _created.get()
        if noted is not None:
            noted.append(bool(result.created))
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


@contextmanager
def watching() -> Iterator[list[bool]]:
    """Inside: the ``created`` answers of the store's ``ingest`` calls made here."""
    noted: list[bool] = []
    token = _created.set(noted)
    try:
        yield noted
    finally:
        _created.reset(token)
