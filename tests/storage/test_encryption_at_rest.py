"""Issue 16, item 3: personal data encrypted at rest in the SQLite file.

The first test is the issue's report as a new user met it: both numbers of a work order sat in
plain text in the database file.
"""

from __future__ import annotations

import hmac
import sqlite3
import stat
from pathlib import Path

import pytest

from zhenshen_core.errors import PersonalDataKeyError, StoreURLError
from zhenshen_core.model.case import Requester
from zhenshen_core.privacy.keys import (
    ENV_KEY,
    MasterKey,
    PersonalDataWarning,
    default_key_file,
    generate_key_file,
    parse_key,
)
from zhenshen_core.storage import SQLiteStore
from zhenshen_core.storage.crypto import Vault
from zhenshen_core.testing.storage_contract import make_case, received

PHONE, ID_NUMBER = "13912345678", "11010519491231002X"
CONTENT = f"电话{PHONE}，身份证号码{ID_NUMBER}"


def file_bytes(db: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(db.parent.glob(db.name + "*")))


def ingest_issue_case(store: SQLiteStore) -> str:
    case, events = received(make_case(1, content=CONTENT))
    store.ingest(case, events)
    return case.id


def test_the_issues_work_order_leaves_no_number_in_the_sqlite_file(tmp_path: Path) -> None:
    db = tmp_path / "desk.db"
    with SQLiteStore(db) as store:
        case_id = ingest_issue_case(store)
        assert store.get(case_id).content == CONTENT
    data = file_bytes(db)
    assert data.count(PHONE.encode()) == 0
    assert data.count(ID_NUMBER.encode()) == 0


def test_without_a_key_a_key_file_is_made_beside_the_database_once_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV_KEY)
    db = tmp_path / "desk.db"
    with pytest.warns(PersonalDataWarning, match="generated"):
        store = SQLiteStore(db)
    case_id = ingest_issue_case(store)
    store.close()
    key_file = default_key_file(db)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the second open finds the file: no warning
        with SQLiteStore(db) as again:
            assert again.get(case_id).content == CONTENT
    assert PHONE.encode() not in file_bytes(db)


def test_a_key_file_in_the_url_wins_and_a_wrong_key_is_named_not_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "desk.db"
    key = generate_key_file(tmp_path / "pii.key")
    with SQLiteStore.from_url(f"sqlite:///{db}?pii_key_file={tmp_path / 'pii.key'}") as store:
        case_id = ingest_issue_case(store)
    other = SQLiteStore(db)  # the environment's key: another one
    with pytest.raises(PersonalDataKeyError, match=f"wrapped by master key {key.key_id}"):
        other.get(case_id)
    other.close()
    with pytest.raises(StoreURLError, match="pii_key_file=PATH"):
        SQLiteStore.from_url(f"sqlite:///{db}?pii_key=x")


def test_a_malformed_key_is_refused_without_repeating_it(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(PersonalDataKeyError) as caught:
        parse_key("not-a-key-secret-text", ENV_KEY)
    assert "not-a-key-secret-text" not in str(caught.value)
    assert ENV_KEY in str(caught.value)
    assert "secret" not in repr(MasterKey.generate())


def test_migration_6_seals_what_older_versions_stored_in_plain_text(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    store = SQLiteStore(db)
    store._vault = Vault(None)  # writes as a version before migration 6 did: plain text
    case, events = received(
        make_case(2, content=CONTENT, requester=Requester(name="王小明", phone="13700001234"))
    )
    store.ingest(case, events)
    store.close()
    conn = sqlite3.connect(db)
    conn.executescript(
        "DROP TABLE pii_keys; DROP TABLE pii_index; DELETE FROM schema_migrations WHERE version = 6"
    )
    conn.close()
    assert PHONE.encode() in file_bytes(db)
    with SQLiteStore(db) as migrated:
        assert migrated.schema_version() == 6
        assert migrated.get(case.id) == case
        assert migrated.events(case.id) == events
        assert migrated.personal_data_owners([PHONE]) == [case.id]
    data = file_bytes(db)
    assert PHONE.encode() not in data and b"13700001234" not in data


def test_a_dotted_name_written_with_another_dot_is_sealed_in_the_text(tmp_path: Path) -> None:
    # The sealing walk used to look for the requester's name by plain substring, so a
    # transliterated name typed with another middle dot (• for ·) stayed in clear in the content.
    name, written = "买买提·艾力", "买买提•艾力"
    content = f"{written}反映小区门口占道经营"
    db = tmp_path / "desk.db"
    case, events = received(make_case(1, content=content, requester=Requester(name=name)))
    with SQLiteStore(db) as store:
        store.ingest(case, events)
        assert store.get(case.id).content == content
    assert file_bytes(db).count(written.encode()) == 0


def test_blind_index_tokens_stay_those_an_existing_index_was_written_with() -> None:
    # The tokens come from a keyed HMAC copied for each number; an index written before, with
    # hmac.digest(key, number, "sha256"), must still find its owners. Values computed that way.
    key = bytes(range(32))
    vault = Vault(None)
    assert vault.tokens(key, [PHONE, ID_NUMBER, "", PHONE]) == [
        "a66755453b106dcea0cfa264214ae59f",
        "baf81872a460f666ac8a9036fbd36813",
    ]
    other = bytes(32)  # another key to the same vault: the kept HMAC follows the key given
    assert vault.tokens(other, ["02885123456"]) == [
        hmac.digest(other, b"02885123456", "sha256").hex()[:32]
    ]
    assert vault.tokens(key, ["02885123456"]) == ["a2ed3df62bdda70c5f0eb3fa5f0d308e"]
    assert vault.tokens(key, []) == []
