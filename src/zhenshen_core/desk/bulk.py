"""The desk's receive pipeline for bulk intake (:func:`zhenshen_core.intake.ingest_records`).

``Desk.ingest`` hands this adapter to the intake pipeline so that every case of a batch goes
through what ``Desk.receive`` does for one: decided before its batch is written, announced
(notifications, rule actions, cross-case rules) after it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from zhenshen_core.desk.core import Announcement
from zhenshen_core.desk.decisions import Prepared
from zhenshen_core.model.case import Case
from zhenshen_core.model.events import CaseEvent
from zhenshen_core.storage.outbox import OutboxNotice
from zhenshen_core.storage.protocol import CaseStore


class Receiver(Protocol):
    """The part of :class:`~zhenshen_core.desk.Desk` that receiving a case goes through."""

    @property
    def store(self) -> CaseStore: ...

    def _stored(self, case: Case) -> Case | None: ...

    def _prepare(self, case: Case, received: CaseEvent, *, actor: str) -> Prepared: ...

    def _received(self, prepared: Prepared, received: CaseEvent) -> list[Announcement]: ...

    def _notices(self, case_id: str, announce: Sequence[Announcement]) -> list[OutboxNotice]: ...

    def _announce(
        self,
        prepared: Prepared,
        announce: Sequence[Announcement] | None = None,
        notices: Sequence[OutboxNotice] = (),
    ) -> Case: ...

    def _decide_if_undecided(self, case: Case) -> Case: ...


class DeskIntake:
    """An :class:`~zhenshen_core.intake.IntakePipeline` over a desk.

    ``prepare`` decides a case before its batch is written; ``outbox`` gives the notices
    written with it (in the batch's transaction); ``stored`` sends what ``receive`` sends
    after its write; ``known`` handles a work order the store already had.
    """

    def __init__(self, desk: Receiver, actor: str) -> None:
        self.desk = desk
        self.actor = actor
        self._pending: dict[str, Prepared] = {}
        self._stored: dict[str, Case] = {}
        self._told: dict[str, tuple[list[Announcement], list[OutboxNotice]]] = {}

    def prepare(self, case: Case, events: Sequence[CaseEvent]) -> tuple[Case, list[CaseEvent]]:
        stored = self.desk._stored(case)
        if stored is not None:  # a repeat delivery: the store will say so; nothing to decide
            self._stored[stored.id] = stored
            return case, list(events)
        prepared = self.desk._prepare(case, events[0], actor=self.actor)
        self._pending[case.id] = prepared
        return prepared.case, prepared.events

    def outbox(self, case: Case) -> list[OutboxNotice]:
        prepared = self._pending.get(case.id)
        if prepared is None:
            return []
        announce = self.desk._received(prepared, prepared.events[0])
        notices = self.desk._notices(case.id, announce)
        self._told[case.id] = (announce, notices)
        return notices

    def stored(self, case: Case) -> None:
        prepared = self._pending.pop(case.id, None)
        announce, notices = self._told.pop(case.id, (None, []))
        if prepared is not None:
            self.desk._announce(prepared, announce, notices)

    def known(self, case: Case, stored_id: str) -> None:
        self._pending.pop(case.id, None)
        self._told.pop(case.id, None)
        stored = self._stored.pop(stored_id, None) or self.desk.store.get(stored_id)
        self.desk._decide_if_undecided(stored)
