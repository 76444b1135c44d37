"""Personal data at rest: sealed with a data key per case, the data keys wrapped by a master key.

Every backend stores documents as JSON (a case, its events, a dead letter). Before a document is
written, :class:`Vault` replaces each personal value in it (``privacy._fields`` says which) by a
*sealed* string::

    zs-pii:1:<base64 of nonce ‖ AES-256-GCM(data key, JSON of the value, aad = owner)>

and after it is read, puts the values back. Why this shape:

* **Per value, not per document.** The rest of the document stays plain JSON, so the columns,
  indexes and SQL digests every store keeps keep working, and a case whose key is destroyed
  still parses: its sealed values read as ``[已删除]`` and ``Lifecycle.replay`` rebuilds it.
* **One data key per owner** (a case id, or a dead letter's key), stored wrapped
  (``<master key id>:<base64 nonce ‖ AES-GCM(master, data key, aad = owner)>``) in the store's
  ``pii_keys`` table. Erasure deletes the row (crypto-shredding): every copy of the values in the
  append-only history becomes unreadable at once, without rewriting history. Rotation rewraps
  the rows and touches no document.
* **The owner is the associated data**, so a sealed value or a wrapped key copied to another
  case does not open there.
* **A blind index** finds a person's cases without plaintext: ``pii_index`` holds
  HMAC-SHA256(index key, normalised number) for each phone, ID, card number and e-mail address of
  an owner. The index key is random per store and kept wrapped like a data key (owner
  ``*index*``), so rotating the master key leaves the index valid.

A store with no master key (PostgreSQL with none configured) has a vault that seals nothing;
its index is keyed by a constant, which hides nothing but keeps erase and export working.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import secrets
from binascii import b2a_base64
from collections.abc import Iterable, Sequence
from json.encoder import encode_basestring as _quoted
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.hmac import HMAC

from zhenshen_core.errors import PersonalDataKeyError
from zhenshen_core.model.case import Case
from zhenshen_core.model.events import CaseEvent
from zhenshen_core.model.lifecycle import dump_case, load_case
from zhenshen_core.privacy._detect import detect_personal_data
from zhenshen_core.privacy._fields import ERASED, NEVER_PERSONAL, walk_personal
from zhenshen_core.privacy._kinds import PersonalDataKind, PersonalDataSpan
from zhenshen_core.privacy.keys import KEY_BYTES, MasterKey
from zhenshen_core.storage.protocol import DeadLetter

__all__ = [
    "ERASED",
    "INDEX_OWNER",
    "SEALED",
    "Vault",
    "normalise_number",
]

SEALED = "zs-pii:1:"
#: The owner under which a store keeps its wrapped blind-index key.
INDEX_OWNER = "*index*"
_NONCE = 12
_UNKEYED_INDEX = hashlib.sha256(b"zhenshen: no master key, index not secret").digest()
_NOT_ALNUM = re.compile(r"[^0-9A-Za-z@._+-]|(?<=\d)[-+]|[-+](?=\d)")


def normalise_number(value: str) -> str:
    """The form a number is indexed by: the detector's value, upper case, no separators
    (``+86 139-1234-5678`` → ``13912345678``; ``028-8512-3456`` → ``02885123456``)."""
    if value.isdigit() and value.isascii():
        # Digits alone: any number the detector finds in them spans them all (a number never
        # touches another digit), so the value is its own form. The usual phone field.
        return value
    text = value
    if _HAS_DIGIT.search(value):
        spans = [s for s in detect_personal_data(value) if s.kind is not PersonalDataKind.NAME]
        text = spans[0].value if len(spans) == 1 else value
    return _clean(text)


def _clean(value: str) -> str:
    return _NOT_ALNUM.sub("", value.translate(_FULL_WIDTH)).upper()


_HAS_DIGIT = re.compile(r"[0-9０-９]")


_FULL_WIDTH = {0xFF10 + i: 0x30 + i for i in range(10)}


def _b64(data: bytes) -> str:
    return b2a_base64(data, newline=False).decode("ascii")


class _Sealing:
    """Sealing one owner's documents: the data key is made on first need."""

    __slots__ = ("aad", "aead", "cache", "key", "new", "numbers", "owner", "vault")

    def __init__(self, vault: Vault, owner: str, key: bytes | None) -> None:
        self.vault, self.owner, self.key = vault, owner, key
        self.aad = owner.encode()
        self.aead = AESGCM(key) if key is not None else None
        self.new = False
        self.numbers: set[str] = set()
        self.cache: dict[Any, Any] = {}  # value -> what it is written as, for this owner

    def seal(self, value: Any) -> str:
        if self.aead is None:
            self.key = secrets.token_bytes(KEY_BYTES)
            self.aead = AESGCM(self.key)
            self.new = True
        nonce = secrets.token_bytes(_NONCE)
        # A string (nearly every sealed value) is written as JSON by the C escaper directly.
        plain = (_quoted(value) if type(value) is str else _dumps(value)).encode()
        return SEALED + _b64(nonce + self.aead.encrypt(nonce, plain, self.aad))

    def on_field(self, value: Any) -> Any:
        if isinstance(value, str) and _HAS_DIGIT.search(value):
            self.numbers.add(normalise_number(value))
        return self.seal(value) if self.vault.encrypted else value

    def on_text(self, text: str, spans: list[PersonalDataSpan]) -> Any:
        self.numbers.update(_clean(s.value) for s in spans if s.kind is not PersonalDataKind.NAME)
        return self.seal(text) if self.vault.encrypted else text


def _walked_keys(payload: dict[str, Any]) -> bool:
    """Whether the walk would look at anything in ``payload`` (most event payloads hold
    nothing, or only codes and clocks)."""
    return any(value and key not in NEVER_PERSONAL for key, value in payload.items())


_NONE = object()


def _is_sealed(value: Any) -> bool:
    return isinstance(value, str) and (value.startswith(SEALED) or value == ERASED)


class Vault:
    """Seals and opens the personal values of one store's documents (see the module text).

    ``master`` None: nothing is sealed (documents pass through), the index is unkeyed.
    """

    def __init__(self, master: MasterKey | None) -> None:
        self.master = master
        self._master_aead = AESGCM(master.secret) if master is not None else None
        # The blind-index HMAC with its key already absorbed, and that key: see ``tokens``.
        self._index_mac: tuple[bytes, HMAC] | None = None

    @property
    def encrypted(self) -> bool:
        return self.master is not None

    # --- data keys -------------------------------------------------------------------------

    def wrap(self, key: bytes, owner: str) -> str:
        assert self.master is not None and self._master_aead is not None
        nonce = secrets.token_bytes(_NONCE)
        sealed = self._master_aead.encrypt(nonce, key, owner.encode())
        return f"{self.master.key_id}:{_b64(nonce + sealed)}"

    def unwrap(self, wrapped: str, owner: str, master: MasterKey | None = None) -> bytes:
        """The data key of ``owner``; :class:`PersonalDataKeyError` when ``wrapped`` was made
        with another master key (named by its id) or does not open."""
        master = master or self.master
        if master is None:
            raise PersonalDataKeyError(
                f"the personal data of {owner} is encrypted, and no master key is configured "
                "(set ZHENSHEN_PII_KEY or ZHENSHEN_PII_KEY_FILE)"
            )
        key_id, _, body = wrapped.partition(":")
        if key_id != master.key_id:
            raise PersonalDataKeyError(
                f"the data key of {owner} was wrapped by master key {key_id}, but the key from "
                f"{master.source} is {master.key_id}; configure the right key, or rotate with "
                "`zhenshen privacy rotate-key`"
            )
        aead = self._master_aead if master is self.master else AESGCM(master.secret)
        assert aead is not None
        try:
            raw = base64.b64decode(body, validate=True)
            return aead.decrypt(raw[:_NONCE], raw[_NONCE:], owner.encode())
        except (InvalidTag, binascii.Error, ValueError):
            raise PersonalDataKeyError(
                f"the data key of {owner} does not open with master key {master.key_id}: "
                "the stored key is damaged or belongs to another owner"
            ) from None

    def rewrap(self, wrapped: str, owner: str, old: MasterKey) -> str | None:
        """``wrapped`` under this vault's master key, or None when it is already."""
        assert self.master is not None
        if wrapped.partition(":")[0] == self.master.key_id:
            return None
        return self.wrap(self.unwrap(wrapped, owner, old), owner)

    def key_of(self, wrapped: str | None, owner: str) -> bytes | None:
        return None if wrapped is None else self.unwrap(wrapped, owner)

    # --- documents -------------------------------------------------------------------------

    def sealing(self, owner: str, key: bytes | None) -> _Sealing:
        return _Sealing(self, owner, key)

    def seal_case(
        self, sealing: _Sealing, case: Case, events: Sequence[CaseEvent]
    ) -> tuple[dict[str, Any], list[str]]:
        """The case document and event texts as written, personal values sealed."""
        names = [case.requester.name] if case.requester and case.requester.name else []
        plain = dump_case(case)
        doc = walk_personal(
            plain, sealing.on_field, sealing.on_text, skip=_is_sealed, cache=sealing.cache
        )
        texts = []
        for event in events:
            # A payload is JSON already (the lifecycle dumps it so); one with nothing personal
            # is written as pydantic writes it, the fastest way there is.
            payload = event.payload
            draft = payload.get("case")
            if type(draft) is dict and draft.get("requester") == plain.get("requester"):
                sealed_draft = self._seal_like_case(sealing, draft, names, plain, doc)
                event = event.model_copy(update={"payload": {**payload, "case": sealed_draft}})
            elif _walked_keys(payload):
                if "requester" in payload:  # a requester of its own: its names are looked for
                    walked = walk_personal(
                        payload,
                        sealing.on_field,
                        sealing.on_text,
                        names,
                        skip=_is_sealed,
                        cache=sealing.cache,
                    )
                else:  # a decision event repeats the case's decision, a note event its note
                    walked = self._seal_like_case(sealing, payload, names, plain, doc)
                if walked != payload:
                    event = event.model_copy(update={"payload": walked})
            texts.append(event.model_dump_json())
        return doc, texts

    @staticmethod
    def _seal_like_case(
        sealing: _Sealing,
        draft: dict[str, Any],
        names: list[str],
        plain: dict[str, Any],
        sealed: dict[str, Any],
    ) -> dict[str, Any]:
        """A mapping whose keys are the case's (a receive event's copy of the case, with the
        case's requester; a payload without a requester), sealed: a value equal to the case
        document's under the same key is taken from the sealed document, which the walk of it
        would give again (same key, same requester's names, the owner's cache of sealed
        values), the rest walked with the requester's name. A receive event's copy shares most
        of the case (a case moves on by its status, version and clocks), a decide event's
        payload the decision, the largest part of a decided case. What the walk never looks at
        (empty values, codes, clocks) is kept without comparing."""
        out: dict[str, Any] = {}
        changed: dict[str, Any] = {}
        for k, v in draft.items():
            if not v or k in NEVER_PERSONAL:
                out[k] = v
            elif k == "requester" or plain.get(k, _NONE) == v:
                out[k] = sealed[k]
            else:
                out[k] = changed[k] = v  # a placeholder, keeping the key's place
        if changed:
            out.update(
                walk_personal(
                    changed,
                    sealing.on_field,
                    sealing.on_text,
                    names,
                    skip=_is_sealed,
                    cache=sealing.cache,
                )
            )
        return out

    def seal_letter(self, sealing: _Sealing, letter: DeadLetter) -> DeadLetter:
        """A dead letter with its record sealed whole (it is whatever arrived, names and all)
        and personal data in its reason sealed."""
        for span in detect_personal_data(letter.raw):
            if span.kind is not PersonalDataKind.NAME:
                sealing.numbers.add(normalise_number(span.value))
        if not self.encrypted:
            return letter
        reason = walk_personal(letter.reason, sealing.on_field, sealing.on_text)
        return letter.model_copy(update={"raw": sealing.seal(letter.raw), "reason": reason})

    def open(self, document: Any, key: bytes | None, owner: str) -> Any:
        """``document`` with its sealed values opened (or ``[已删除]`` where ``key`` is None:
        the data key was destroyed)."""
        aead = AESGCM(key) if key is not None else None
        return _open(document, aead, owner.encode())

    def open_case(self, text: str, wrapped: str | None, owner: str) -> Case:
        if SEALED not in text:
            return load_case(json.loads(text))
        return load_case(self.open(json.loads(text), self.key_of(wrapped, owner), owner))

    def open_event(self, text: str, key: bytes | None, owner: str) -> CaseEvent:
        if SEALED not in text:
            return CaseEvent.model_validate_json(text)
        return CaseEvent.model_validate(self.open(json.loads(text), key, owner))

    def open_text(self, text: str | None, wrapped: str | None, owner: str) -> str | None:
        if text is None or not text.startswith(SEALED):
            return text
        return str(self.open(text, self.key_of(wrapped, owner), owner))

    def open_letter(self, letter: DeadLetter, wrapped: str | None, owner: str) -> DeadLetter:
        """``letter`` as stored under key ``owner`` (its key before sealing), opened."""
        if not (letter.raw.startswith(SEALED) or SEALED in letter.reason):
            return letter
        opened = self.open([letter.raw, letter.reason], self.key_of(wrapped, owner), owner)
        return letter.model_copy(update={"raw": opened[0], "reason": opened[1]})

    # --- blind index -----------------------------------------------------------------------

    def index_key(self, wrapped: str | None) -> tuple[bytes, str | None]:
        """The store's index key, and its wrapped form when it had none yet (to be stored)."""
        if not self.encrypted:
            return _UNKEYED_INDEX, None
        if wrapped is not None:
            return self.unwrap(wrapped, INDEX_OWNER), None
        key = secrets.token_bytes(KEY_BYTES)
        return key, self.wrap(key, INDEX_OWNER)

    def tokens(self, index_key: bytes, numbers: Iterable[str]) -> list[str]:
        """The blind-index tokens of normalised numbers: HMAC-SHA256(index key, number), its
        first 16 bytes as 32 hex digits.

        HMAC hashes its key's two padded blocks before the message; keyed once and copied for
        each number, a token costs one copy and the message (a case's two numbers: 1.9 µs
        instead of ``hmac.digest``'s 4.2). The keyed HMAC is kept with its key, and rebuilt
        when another key is given (a store reads its index key once; a copy leaves the original
        untouched, so threads may share it). The tokens are those ``hmac.digest`` gives: an
        index written before stays valid."""
        prepared = self._index_mac
        if prepared is None or prepared[0] != index_key:
            prepared = self._index_mac = (index_key, HMAC(index_key, SHA256()))
        keyed = prepared[1]
        found = set()
        for number in numbers:
            if number:
                mac = keyed.copy()
                mac.update(number.encode())
                found.add(mac.finalize()[:16].hex())
        return sorted(found)


def _open(node: Any, aead: AESGCM | None, owner: bytes) -> Any:
    if isinstance(node, str):
        if not node.startswith(SEALED):
            return node
        if aead is None:
            return ERASED
        try:
            raw = base64.b64decode(node[len(SEALED) :], validate=True)
            return json.loads(aead.decrypt(raw[:_NONCE], raw[_NONCE:], owner))
        except (InvalidTag, binascii.Error, ValueError):
            raise PersonalDataKeyError(
                f"a sealed value of {owner.decode()} does not open with its data key: "
                "it was damaged or copied from another owner"
            ) from None
    if isinstance(node, dict):
        return {k: _open(v, aead, owner) for k, v in node.items()}
    if isinstance(node, list):
        return [_open(v, aead, owner) for v in node]
    return node


def _dumps(data: Any) -> str:
    return _ENCODER.encode(data)


#: One encoder for every sealed value: ``json.dumps`` with options builds a new one a call.
#: It holds its options only, so sharing it is safe.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
