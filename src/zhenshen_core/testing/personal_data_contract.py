"""The personal-data contract: encryption at rest, erasure and access requests, on any store.

A backend subclasses :class:`PersonalDataContract` beside its :class:`StoreContract`::

    class TestMyStorePersonalData(PersonalDataContract):
        def make_store(self, tmp_path): ...          # a fresh store, a master key configured
        def stored_text(self, store): ...            # every byte it keeps, as text
        def reopen(self, store, tmp_path, key): ...  # the same data under another master key

``stored_text`` is what a database dump or a copy of the file would show: the tests look for
the raw numbers in it, before and after an erasure. ``reopen`` may skip (a store whose data
does not outlive the object).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from zhenshen_core.errors import PersonalDataKeyError
from zhenshen_core.model.case import Case, Requester
from zhenshen_core.model.lifecycle import PERSONAL_DATA_ERASED, Lifecycle
from zhenshen_core.privacy.keys import MasterKey
from zhenshen_core.privacy.rights import (
    erase_cases,
    erase_person,
    export_person,
    person_numbers,
)
from zhenshen_core.storage.crypto import ERASED
from zhenshen_core.storage.protocol import CaseStore, DeadLetter
from zhenshen_core.testing._contract_base import ContractBase
from zhenshen_core.testing.storage_contract import BASE_TIME, fire, make_case, received

__all__ = ["NUMBERS", "PersonalDataContract"]

PHONE = "13912345678"
ID_NUMBER = "11010519491231002X"
OWN_PHONE = "13700001234"
CARD = "6222021234567890128"
#: The raw values the tests look for in the stored bytes.
NUMBERS = (PHONE, ID_NUMBER, OWN_PHONE, CARD)
CONTENT = f"电话{PHONE}，身份证号码{ID_NUMBER}"
ACTOR = "contract-test"


def _advance(
    store: CaseStore, case: Case, event: str, payload: dict[str, Any] | None = None
) -> Case:
    new, record = fire(case, event, payload)
    store.save(new, [record], expected_version=case.version)
    return new


class PersonalDataContract(ContractBase):
    """Example tests every backend must pass for personal data (issue 16)."""

    def stored_text(self, store: CaseStore) -> str:
        """Everything the store keeps, as text (its files' bytes, a dump of its tables): the
        tests search it for raw numbers. A backend's suite must say how to read it."""
        raise NotImplementedError(
            f"subclass {type(self).__name__} and implement stored_text(store)"
        )

    def reopen(self, store: CaseStore, tmp_path: Path, key: MasterKey) -> CaseStore:
        pytest.skip("this store's data does not outlive the store object")

    def _person(self, store: CaseStore, n: int = 1) -> tuple[str, list[str]]:
        draft = make_case(n, content=CONTENT, requester=Requester(name="王小明", phone=OWN_PHONE))
        case, events = received(draft)
        store.ingest(case, events)
        case = _advance(store, case, "accept")
        _advance(store, case, "note", {"text": f"王小明补充银行卡号{CARD}"})
        other, other_events = received(make_case(n + 100, content="无个人信息"))
        store.ingest(other, other_events)
        return case.id, [other.id]

    def _found(self, text: str) -> list[str]:
        return [n for n in NUMBERS if n in text]

    # encryption at rest ----------------------------------------------------------------------

    def test_personal_values_read_back_whole_and_are_never_stored_in_clear(
        self, store: CaseStore
    ) -> None:
        case_id, _ = self._person(store)
        case = store.get(case_id)
        assert case.content == CONTENT
        assert case.requester == Requester(name="王小明", phone=OWN_PHONE)
        assert case.notes == [f"王小明补充银行卡号{CARD}"]
        events = store.events(case_id)
        assert events[0].payload["case"]["requester"]["phone"] == OWN_PHONE
        assert Lifecycle().replay(events) == case
        assert self._found(self.stored_text(store)) == []
        assert "王小明" not in self.stored_text(store)

    def test_a_number_written_after_a_date_is_sealed_too(self, store: CaseStore) -> None:
        """Instants are skipped as never personal; a text that starts like one is not one."""
        title = f"2024-03-01 {PHONE}"
        case, events = received(make_case(1, title=title, content="来电"))
        store.ingest(case, events)
        assert store.get(case.id).title == title
        assert self._found(self.stored_text(store)) == []

    def test_facts_are_free_form_whatever_their_keys_are_called(self, store: CaseStore) -> None:
        """A fact's key is whatever a channel mapped: one named like a code or an identifier
        (``status``, ``at``, ``id``) may hold a number, and is sealed like any other."""
        facts = {"status": PHONE, "contact": {"role": OWN_PHONE, "id": CARD}}
        case, events = received(make_case(1, facts=facts))
        store.ingest(case, events)
        assert store.get(case.id).facts == facts
        assert self._found(self.stored_text(store)) == []

    def test_a_dead_letter_is_stored_sealed_and_read_back_whole(self, store: CaseStore) -> None:
        letter = DeadLetter(
            channel="jsonl",
            source="in.jsonl",
            line=1,
            raw=f'{{"phone": "{PHONE}"',
            reason="line 1: not JSON",
            at=BASE_TIME,
        )
        store.add_dead_letter(letter)
        store.add_dead_letter(letter.model_copy(update={"reason": "again"}))
        assert store.dead_letters() == [
            letter.model_copy(update={"seen": 2, "last_seen": BASE_TIME, "reason": "again"})
        ]
        assert self._found(self.stored_text(store)) == []

    def test_a_person_is_found_by_number_through_the_index(self, store: CaseStore) -> None:
        case_id, others = self._person(store)
        letter = DeadLetter(
            channel="csv", source="a.csv", line=4, raw=f"x,{PHONE}", reason="r", at=BASE_TIME
        )
        store.add_dead_letter(letter)
        for number in (PHONE, "+86 139-1234-5678", OWN_PHONE):
            found = store.personal_data_owners(person_numbers(phone=number))
            assert case_id in found and not set(others) & set(found)
        assert letter.key in store.personal_data_owners(person_numbers(phone=PHONE))
        assert store.personal_data_owners(person_numbers(id_number=ID_NUMBER)) == [case_id]
        assert store.personal_data_owners(person_numbers(phone="13900000000")) == []

    def test_a_removed_dead_letter_leaves_no_key_and_no_index_row(self, store: CaseStore) -> None:
        letter = DeadLetter(
            channel="csv", source="a.csv", line=4, raw=f"x,{PHONE}", reason="r", at=BASE_TIME
        )
        store.add_dead_letter(letter)
        assert store.remove_dead_letter(letter.key)  # retried into a case, say
        assert letter.key not in store.personal_data_owners(person_numbers(phone=PHONE))
        assert self._found(self.stored_text(store)) == []

    # erasure ---------------------------------------------------------------------------------

    def test_erase_destroys_the_data_keeps_the_case_and_its_history_replays(
        self, store: CaseStore
    ) -> None:
        case_id, _ = self._person(store)
        before = store.get(case_id)
        total = store.count()
        erased = erase_cases(store, [case_id], actor=ACTOR, at=BASE_TIME + timedelta(days=1))
        assert erased == [case_id]
        case = store.get(case_id)
        assert case.status is before.status and case.version == before.version + 1
        assert case.requester is not None and case.requester.name == ERASED
        assert case.requester.phone == ERASED
        assert case.content == f"电话{ERASED}，身份证号码{ERASED}"
        assert case.notes == [f"{ERASED}补充银行卡号{ERASED}"]
        assert case.title == before.title and case.enterprise == before.enterprise
        events = store.events(case_id)
        assert events[-1].type == PERSONAL_DATA_ERASED
        replayed = Lifecycle().replay(events)
        assert (replayed.status, replayed.version) == (case.status, case.version)
        assert replayed.requester == case.requester
        # the history's copies of a text holding personal data were sealed whole: they read
        # as the marker, where the current case keeps the rest of the text
        assert (replayed.content, replayed.notes) == (ERASED, [ERASED])
        assert store.count() == total  # still counted
        assert store.personal_data_owners(person_numbers(phone=PHONE)) == []
        text = self.stored_text(store)
        assert self._found(text) == [] and "王小明" not in text

    def test_erase_by_number_takes_cases_and_dead_letters(self, store: CaseStore) -> None:
        case_id, others = self._person(store)
        letter = DeadLetter(
            channel="csv", source="a.csv", line=4, raw=f"x,{PHONE}", reason="r", at=BASE_TIME
        )
        store.add_dead_letter(letter)
        report = erase_person(
            store, person_numbers(phone=PHONE), actor=ACTOR, at=BASE_TIME + timedelta(days=1)
        )
        assert report.cases == [case_id] and report.dead_letters == [letter.key]
        logged = [(r.action, r.case_id, r.detail) for r in store.audit()]
        assert logged == [
            ("erase_personal_data", case_id, {"event_seq": 4}),
            ("erase_personal_data", None, {"dead_letter": letter.key}),
        ]
        kept = store.dead_letter(letter.key)
        assert kept is not None and kept.raw == ERASED
        assert store.get(others[0]).content == "无个人信息"
        assert self._found(self.stored_text(store)) == []

    # access requests -------------------------------------------------------------------------

    def test_export_lists_every_case_event_and_dead_letter_of_the_person(
        self, store: CaseStore
    ) -> None:
        case_id, _ = self._person(store)
        letter = DeadLetter(
            channel="csv", source="a.csv", line=4, raw=f"x,{PHONE}", reason="r", at=BASE_TIME
        )
        store.add_dead_letter(letter)
        found = export_person(store, person_numbers(phone=PHONE), actor=ACTOR)
        assert [c["case"]["id"] for c in found["cases"]] == [case_id]
        assert found["cases"][0]["case"]["requester"]["phone"] == OWN_PHONE  # unmasked
        assert [e["type"] for e in found["cases"][0]["events"]] == ["receive", "accept", "note"]
        assert [d["key"] for d in found["dead_letters"]] == [letter.key]
        assert found["dead_letters"][0]["raw"] == letter.raw
        logged = store.audit()
        assert [(r.action, r.actor) for r in logged] == [("export_personal_data", ACTOR)]
        assert logged[0].detail == {"cases": [case_id], "dead_letters": [letter.key]}
        assert self._found(logged[0].model_dump_json()) == []

    # key rotation ----------------------------------------------------------------------------

    def test_rotation_rewraps_the_keys_under_the_new_master_key(
        self, store: CaseStore, tmp_path: Path
    ) -> None:
        case_id, _ = self._person(store)
        new = MasterKey.generate("the new key")
        rotated = self.reopen(store, tmp_path, new)
        try:
            with pytest.raises(PersonalDataKeyError, match="wrapped by master key"):
                rotated.get(case_id)
            old = self.old_key()
            assert rotated.rewrap_keys(old) >= 1
            assert rotated.get(case_id).content == CONTENT
            assert rotated.rewrap_keys(old) == 0  # nothing left under the old key
        finally:
            rotated.close()

    def old_key(self) -> MasterKey:
        """The master key :meth:`make_store` configured (the test environment's)."""
        from zhenshen_core.privacy.keys import resolve_master_key

        key = resolve_master_key()
        assert key is not None, "the contract needs ZHENSHEN_PII_KEY set"
        return key
