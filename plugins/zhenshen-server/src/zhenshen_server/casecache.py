"""A case's response kept in memory, for as long as the store says the case has not changed.

``GET /v1/desks/{desk}/cases/{id}`` is the request a desk's screens repeat most. Read from the
store, it costs a worker-thread hop, a query, parsing the stored case, dumping it again,
masking it and writing the JSON: about 0.7 ms of CPU, most of a GET. The body sent is the same
every time until the case changes, for every caller who sees it masked the same way. So a
worker keeps, per case, the bodies it has sent (one per audience: the desk's staff, everyone
else) and what decides who may see the case (:class:`Reach`), and answers a GET from them on
the event loop.

Kept only where the store says when a case changes (:class:`~zhenshen_server.changes.
StoreChanges`, on PostgreSQL): an update or a deletion of the case's row, by any worker, node or
script, drops it, and a body is sent from memory only after a round trip that proves every
change committed before the request arrived was heard. A new case needs no notice: nothing
can have kept it. Never kept: what a caller with ``pii`` reads (unmasked, and audited each
time), nor anything read while a change was on its way (every fill notes the count of changes
heard before its read, and is dropped when that count has moved). At most ``size`` cases are
kept, the least recently read dropped first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field, replace

from zhenshen_core import Desk
from zhenshen_server.changes import CASES_CHANNEL, StoreChanges

#: Cases kept per worker: a body is a few kilobytes, two audiences at most.
DEFAULT_SIZE = 4096


@dataclass(frozen=True)
class Reach:
    """What decides which callers see a case: the desk that received it, its departments and
    who submitted it (``None``: not read yet; ``""``: nobody, a case without history)."""

    desk: str
    departments: frozenset[str]
    submitted_by: str | None = None


@dataclass
class _Kept:
    desk: Desk  # the desk (and so the mask policy) the bodies were made under
    reach: Reach
    bodies: dict[str, bytes] = field(default_factory=dict)  # audience -> response body


class CaseCache:
    """One worker's kept case bodies; see the module. ``changes`` None: nothing is kept."""

    def __init__(self, changes: StoreChanges | None, size: int = DEFAULT_SIZE) -> None:
        self.changes = changes
        self.size = size
        self._lock = threading.Lock()
        self._kept: OrderedDict[str, _Kept] = OrderedDict()
        self._heard = 0  # changes and failures heard: a fill from before one is dropped
        if changes is not None:
            changes.subscribe(CASES_CHANNEL, self._changed, self._clear)

    @property
    def on(self) -> bool:
        return self.changes is not None and self.changes.listening

    def heard(self) -> int:
        """The count a fill notes before it reads the store."""
        with self._lock:
            return self._heard

    def _changed(self, case_id: str) -> None:
        with self._lock:
            self._heard += 1
            if case_id:
                self._kept.pop(case_id, None)
            else:  # a TRUNCATE: every case
                self._kept.clear()

    def _clear(self) -> None:
        self._changed("")

    def get(self, case_id: str, desk: Desk, audience: str) -> tuple[Reach, bytes | None] | None:
        """What is kept of the case for ``desk``: its reach, and the body sent to ``audience``
        (None: none yet); the caller must have proved memory current first
        (``changes.current()``)."""
        with self._lock:
            kept = self._kept.get(case_id)
            if kept is None or kept.desk is not desk:  # a reloaded desk masks anew
                return None
            self._kept.move_to_end(case_id)
            return kept.reach, kept.bodies.get(audience)

    def keep(
        self, case_id: str, desk: Desk, reach: Reach, audience: str, body: bytes, heard: int
    ) -> None:
        """Keep ``body``, read from the store after :meth:`heard` said ``heard``."""
        if not self.on:
            return
        with self._lock:
            if self._heard != heard:
                return
            kept = self._kept.get(case_id)
            if kept is None or kept.desk is not desk:
                kept = self._kept[case_id] = _Kept(desk, reach)
            elif kept.reach.submitted_by is None and reach.submitted_by is not None:
                kept.reach = replace(kept.reach, submitted_by=reach.submitted_by)
            kept.bodies[audience] = body
            self._kept.move_to_end(case_id)
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)
