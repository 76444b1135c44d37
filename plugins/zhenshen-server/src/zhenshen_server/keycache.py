"""Verified API keys kept in memory, for as long as no key has changed in the store.

Reading a key's record on every request costs a store read in a worker thread (about a
quarter of a GET's CPU on PostgreSQL, the thread hop included). A key that verified is kept
here by its id, and a request that brings it again is answered on the event loop: its secret
is still hashed and compared with the stored hash every time; only the read is saved. Nothing
but verified keys is kept (an unknown, wrong or revoked key is looked up on every try).

A revocation must hold at once on every worker and every node, so the cache is kept only
where the store says when keys change (:class:`~zhenshen_server.changes.StoreChanges`, on
PostgreSQL): any change to an API key record empties it, and a key is answered from memory
only after a round trip that proves every change committed before the request was heard.

A key read from the store while a notification is on its way is not kept: every fill notes
the count of notifications seen before its read, and is dropped when that count has moved.

Every other store (SQLite serves one process; the in-memory store is for tests) gets no cache:
each request reads the store.
"""

from __future__ import annotations

import threading

from zhenshen_core.storage.protocol import CaseStore
from zhenshen_server.changes import KEYS_CHANNEL, StoreChanges
from zhenshen_server.keys import PREFIX, ApiKey, secret_matches, verify_key


class KeyCache:
    """API key verification for one process; see the module. ``changes`` None: no cache."""

    def __init__(self, store: CaseStore, changes: StoreChanges | None) -> None:
        self.store = store
        self.changes = changes
        self._lock = threading.Lock()
        self._keys: dict[str, ApiKey] = {}
        self._seen = 0  # notifications and failures seen: a fill from before one is dropped
        if changes is not None:
            changes.subscribe(KEYS_CHANNEL, lambda _schema: self._forget(), self._forget)

    # --- on the event loop ---------------------------------------------------------------

    async def cached(self, token: str) -> ApiKey | None:
        """The key ``token`` is, when memory can answer (proved current by a round trip that
        began after this call); None: ask :meth:`verify`, which reads the store."""
        key_id, _, secret = token[len(PREFIX):].partition("_")
        with self._lock:
            if key_id not in self._keys:
                return None
        if self.changes is None or not await self.changes.current():
            return None
        with self._lock:
            key = self._keys.get(key_id)
        return key if key is not None and secret_matches(key, secret) else None

    def _forget(self) -> None:
        with self._lock:
            self._seen += 1
            self._keys.clear()

    # --- in a worker thread --------------------------------------------------------------

    def verify(self, token: str) -> ApiKey | None:
        """The live key ``token`` is, read from the store (and kept when it verifies and no
        key changed meanwhile), or None."""
        with self._lock:
            seen = self._seen
        key = verify_key(self.store, token)
        if key is not None and self.changes is not None and self.changes.listening:
            with self._lock:
                if self._seen == seen:
                    self._keys[key.id] = key
        return key
