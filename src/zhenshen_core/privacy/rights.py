"""A person's rights over their data (PIPL): erasure (art. 47), retention, access (art. 45).

These run over any :class:`~zhenshen_core.storage.CaseStore`. A person is found by a number
(a phone or ID number) through the store's keyed blind index, never by reading plain text.

Erasing a case fires the lifecycle's ``personal_data_erased`` event (it redacts the case and
leaves its status alone) and hands the result to ``store.erase_personal_data``, which saves it
and destroys the case's data key in one transaction: the copies of the personal values in the
append-only history are sealed with that key, so they are unreadable from then on, and the
history still replays (they read as ``[已删除]``). The case stays, with its status, clocks,
departments and dates, so reports and statistics still count it.

Each of these is recorded in the store's access log (``store.record_audit``) with its actor:
``erase_personal_data`` per case or dead letter erased, ``export_personal_data`` before an
export is read (an export that cannot be logged is not made). No record holds the numbers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from zhenshen_core.errors import CaseNotFoundError
from zhenshen_core.model.case import Case, ensure_aware
from zhenshen_core.model.enums import CaseStatus
from zhenshen_core.model.lifecycle import PERSONAL_DATA_ERASED, Lifecycle, dump_case
from zhenshen_core.privacy._checks import is_id_number
from zhenshen_core.privacy._detect import detect_personal_data
from zhenshen_core.privacy._fields import redact_document
from zhenshen_core.privacy._kinds import PersonalDataKind
from zhenshen_core.storage.audit import AuditRecord
from zhenshen_core.storage.crypto import normalise_number
from zhenshen_core.storage.protocol import CaseQuery, CaseStore

__all__ = [
    "ErasureReport",
    "PersonalDataRequestError",
    "erase_cases",
    "erase_person",
    "export_person",
    "parse_age",
    "person_numbers",
    "retention_candidates",
]


class PersonalDataRequestError(ValueError):
    """A request names no usable number or age (a usage error: exit 2)."""

    exit_code = 2


@dataclass
class ErasureReport:
    """What an erasure did: the cases and dead letters whose personal data is gone."""

    cases: list[str] = field(default_factory=list)
    dead_letters: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"cases": self.cases, "dead_letters": self.dead_letters}


def person_numbers(*, phone: str | None = None, id_number: str | None = None) -> list[str]:
    """The normalised numbers a request names, checked: a phone must read as a mobile or
    landline number, an ID number must carry a valid check character. The message never
    repeats the number."""
    numbers: list[str] = []
    if phone is not None:
        kinds = {s.kind for s in detect_personal_data(phone)}
        if not kinds & {PersonalDataKind.MOBILE, PersonalDataKind.LANDLINE}:
            raise PersonalDataRequestError(
                "--phone is not a mobile or landline number (11 digits starting with 1, or an "
                "area code and a local number)"
            )
        numbers.append(normalise_number(phone))
    if id_number is not None:
        value = normalise_number(id_number)
        if not is_id_number(value):
            raise PersonalDataRequestError(
                "--id-number is not a resident ID number (18 characters with a valid check "
                "character)"
            )
        numbers.append(value)
    return numbers


def erase_cases(
    store: CaseStore,
    case_ids: Iterable[str],
    *,
    actor: str,
    at: datetime,
    reason: str = "",
    lifecycle: Lifecycle | None = None,
) -> list[str]:
    """Erase the personal data of each case (see the module text); returns the ids erased.
    An unknown id raises :class:`CaseNotFoundError` before anything is erased."""
    machine = lifecycle or Lifecycle()
    cases = [store.get(case_id) for case_id in case_ids]
    done = []
    for case in cases:
        new, event = machine.fire(
            case, PERSONAL_DATA_ERASED, actor=actor, at=at, payload={"reason": reason}
        )
        store.erase_personal_data(new, [event], expected_version=case.version)
        store.record_audit(
            AuditRecord(
                actor=actor,
                action="erase_personal_data",
                case_id=case.id,
                detail={"event_seq": event.seq},
            )
        )
        done.append(case.id)
    return done


def erase_person(
    store: CaseStore,
    numbers: Sequence[str],
    *,
    actor: str,
    at: datetime,
    reason: str = "",
    lifecycle: Lifecycle | None = None,
) -> ErasureReport:
    """Erase every case and dead letter whose personal data holds one of ``numbers``."""
    report = ErasureReport()
    cases, letters = _split(store, store.personal_data_owners(numbers))
    report.cases = erase_cases(store, cases, actor=actor, at=at, reason=reason, lifecycle=lifecycle)
    for key in letters:
        if store.erase_dead_letter(key):
            store.record_audit(
                AuditRecord(actor=actor, action="erase_personal_data", detail={"dead_letter": key})
            )
            report.dead_letters.append(key)
    return report


def holds_personal_data(case: Case) -> bool:
    """Whether the case still has personal data to erase."""
    names = [case.requester.name] if case.requester and case.requester.name else []
    doc = dump_case(case)
    return bool(redact_document(doc, names) != doc)


def retention_candidates(
    store: CaseStore,
    older_than: timedelta,
    *,
    now: datetime,
    statuses: Sequence[CaseStatus] | None = None,
) -> list[Case]:
    """Cases received more than ``older_than`` before ``now`` (in ``statuses`` when given)
    that still hold personal data."""
    query = CaseQuery(
        received_before=ensure_aware(now) - older_than,
        status=list(statuses) if statuses else None,
    )
    return [case for case in store.query(query) if holds_personal_data(case)]


_AGE = re.compile(r"\s*(\d{1,4})\s*([ymwd])\s*", re.IGNORECASE)
_DAYS = {"y": 365, "m": 30, "w": 7, "d": 1}


def parse_age(text: str) -> timedelta:
    """``3y``, ``18m``, ``6w``, ``90d``: a year counts 365 days, a month 30 (a retention
    period is a policy, not a legal deadline: a day either way does not matter, and the
    cut-off is printed)."""
    match = _AGE.fullmatch(text)
    if match is None or int(match.group(1)) == 0:
        raise PersonalDataRequestError(
            f"--older-than {text!r} is not an age; write a number and y, m, w or d (3y, 18m, 90d)"
        )
    return timedelta(days=int(match.group(1)) * _DAYS[match.group(2).lower()])


def export_person(store: CaseStore, numbers: Sequence[str], *, actor: str) -> dict[str, Any]:
    """Everything the store holds about the person with ``numbers`` (PIPL art. 45): each case
    with its history, and each dead letter, unmasked — this is the person's own data. The
    read is logged (``export_personal_data``, with what it covers) before anything is read."""
    cases, letters = _split(store, store.personal_data_owners(numbers))
    store.record_audit(
        AuditRecord(
            actor=actor,
            action="export_personal_data",
            detail={"cases": cases, "dead_letters": letters},
        )
    )
    out: dict[str, Any] = {"cases": [], "dead_letters": []}
    for case_id in cases:
        case = store.get(case_id)
        out["cases"].append(
            {
                "case": dump_case(case),
                "events": [
                    e.model_dump(mode="json", context={"unmasked": True})
                    for e in store.events(case_id)
                ],
            }
        )
    for key in letters:
        letter = store.dead_letter(key)
        if letter is not None:
            out["dead_letters"].append({"key": key, **letter.model_dump(mode="json")})
    return out


def _split(store: CaseStore, owners: Sequence[str]) -> tuple[list[str], list[str]]:
    """Owners that are cases, and owners that are dead letters."""
    cases, letters = [], []
    for owner in owners:
        try:
            store.get(owner)
        except CaseNotFoundError:
            if store.dead_letter(owner) is not None:
                letters.append(owner)
            continue
        cases.append(owner)
    return cases, letters
