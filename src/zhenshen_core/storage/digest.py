"""A case's digest: the few facts a report counts, read without building the whole case.

A desk report over 50,000 cases must not parse and validate 50,000 case documents (about a
millisecond each). So a store may answer :func:`case_digests` itself with one query: status,
domain, tier, lead department, whether the case went to joint review, the latest rating, the
returns (退单), the clocks' due and stop instants and when the case was closed (the SQLite
store keeps them in a ``digest`` column each write rewrites; PostgreSQL projects them from its
``jsonb`` documents). A store without that method is still served: its cases are read through
``query`` and digested here, which is exactly the answer a fast store must give
(``tests/storage`` compares the two).

A store provides the fast path by implementing ``case_digests(tag)`` (and, for the report's
default "as of" instant, ``latest_event_at()``) with the semantics of :func:`digest_of`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeGuard

from zhenshen_core.model.case import Case
from zhenshen_core.model.enums import CaseStatus
from zhenshen_core.storage.protocol import offers


@dataclass(frozen=True, slots=True)
class ClockDigest:
    name: str
    due_at: datetime
    stopped_at: datetime | None


@dataclass(frozen=True, slots=True)
class CaseDigest:
    """What a report counts of one case (codes, not labels; instants aware)."""

    id: str
    external_id: str | None
    title: str
    status: str
    domain: str | None
    tier: str | None
    lead: str | None
    received_at: datetime
    tagged: bool
    """whether the case carries the tag asked for (the joint-review tag)"""
    satisfaction: str | None
    """the latest rating (好差评 code), None when never rated"""
    rated_at: datetime | None
    returns: tuple[tuple[str, datetime], ...]
    """退单: (department that handed the case back, when)"""
    clocks: tuple[ClockDigest, ...]
    closed_at: datetime | None
    """when the case was closed (办结), None unless it is closed"""


def digest_of(case: Case, *, tag: str, closed_at: datetime | None) -> CaseDigest:
    """The reference digest of a case (what every store's fast path must return)."""
    latest = case.feedback[-1] if case.feedback else None
    return CaseDigest(
        id=case.id,
        external_id=case.external_id,
        title=case.title,
        status=case.status.value,
        domain=case.domain,
        tier=case.tier.value if case.tier else None,
        lead=case.lead_department,
        received_at=case.received_at,
        tagged=tag in case.tags,
        satisfaction=latest.satisfaction.value if latest else None,
        rated_at=latest.at if latest else None,
        returns=tuple((r.from_department, r.at) for r in case.returns),
        clocks=tuple(
            ClockDigest(name, clock.due_at, clock.stopped_at) for name, clock in case.clocks.items()
        ),
        closed_at=closed_at if case.status is CaseStatus.CLOSED else None,
    )


class ProjectsDigests(Protocol):
    """A store that projects what a report counts in its own query language, so that a report
    over many cases loads no case (:func:`case_digests` and :func:`latest_event_at` read every case
    through ``query`` without them: the answer these must equal)."""

    def case_digests(self, tag: str) -> Iterator[CaseDigest]:
        """A digest of every case, ordered by (received_at, id)."""

    def latest_event_at(self) -> datetime | None:
        """The instant of the newest event (None for an empty store)."""


def projects_digests(store: object) -> TypeGuard[ProjectsDigests]:
    return offers(store, ProjectsDigests)


def case_digests(store: Any, *, tag: str) -> Iterator[CaseDigest]:
    """Every case of ``store`` as a digest, ordered by (received_at, id): the store's own
    query where it has one, else each case read and digested."""
    if projects_digests(store):
        yield from store.case_digests(tag)
        return
    for case in store.query():
        closed_at = None
        if case.status is CaseStatus.CLOSED:
            closes = [e.at for e in store.events(case.id) if e.type == "close"]
            closed_at = max(closes) if closes else None
        yield digest_of(case, tag=tag, closed_at=closed_at)


def latest_event_at(store: Any) -> datetime | None:
    """The instant of the newest event in the store (None for an empty store)."""
    if projects_digests(store):
        return store.latest_event_at()
    latest: datetime | None = None
    for case in store.query():
        for event in store.events(case.id):
            if latest is None or event.at > latest:
                latest = event.at
    return latest


def parse_instant(text: str | None) -> datetime | None:
    """An ISO instant as the stores keep them in documents (always with an offset)."""
    return datetime.fromisoformat(text) if text else None
