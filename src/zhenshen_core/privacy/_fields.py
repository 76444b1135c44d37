"""Which values of a stored document hold personal data: one walk, two uses.

Encryption at rest seals these values and erasure redacts them, so both must agree on what they
are; this walk is that one definition. A value is personal when it is

* a field of a ``requester`` mapping that names the person (``name``, ``phone`` and every key
  ``FIELD_KINDS`` knows) — whatever it holds;
* a field ``FIELD_KINDS`` knows anywhere else (``phone``, ``id_number``, ``contact_name`` …);
* any other string in which the detector finds personal data (a phone number in the content,
  the requester's name in a note).

Left alone, like the masker leaves them: keys, booleans, identifiers (``UNMASKED_KEYS``) and
strings that are instants (ISO dates, never personal, and their type must survive erasure).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from zhenshen_core.privacy._detect import detect_personal_data
from zhenshen_core.privacy._document import FIELD_KINDS, UNMASKED_KEYS
from zhenshen_core.privacy._kinds import PersonalDataSpan
from zhenshen_core.privacy._names import usable_names

__all__ = ["ERASED", "REQUESTER_FIELDS", "redact_document", "walk_personal"]

#: What erasure leaves where personal data was (and what a sealed value whose data key was
#: destroyed reads as).
ERASED = "[已删除]"

#: The fields of a requester that identify the person.
REQUESTER_FIELDS = frozenset(("name", *FIELD_KINDS))

#: Keys whose values are codes, identifiers, instants or structures of them, in every document
#: a store keeps (case, event, dead letter): never walked.
NEVER_PERSONAL = frozenset(
    (
        "appeal_type", "at", "chair", "channel", "clocks", "departments", "domain",
        "external_refs", "from_status", "pack", "received_at", "role", "rule_ids", "severity",
        "status", "tier", "to_status", "version",
    )
)  # fmt: skip

_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ][0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?)?")

#: Called for a whole personal field: (value) -> replacement.
OnField = Callable[[Any], Any]
#: Called for a string holding detected personal data: (text, spans) -> replacement.
OnText = Callable[[str, list[PersonalDataSpan]], Any]


def walk_personal(
    document: Any,
    on_field: OnField,
    on_text: OnText,
    names: Iterable[str] = (),
    *,
    skip: Callable[[Any], bool] | None = None,
) -> Any:
    """A copy of ``document`` with every personal value replaced by what the callbacks return.

    ``names`` are people whose names are looked for everywhere; a mapping with a ``requester``
    adds that requester's name below it. ``skip`` says a value is already handled (a sealed
    envelope, an erasure marker) and is kept as it is.
    """
    return _Walk(on_field, on_text, skip).node(document, tuple(usable_names(names)))


class _Walk:
    """The walk itself. Stored documents are JSON (dict, list, str, int, float, bool, None),
    so exact type tests are enough; a string met twice (the receive event repeats the case)
    is decided once."""

    __slots__ = ("on_field", "on_text", "seen", "skip")

    def __init__(self, on_field: OnField, on_text: OnText, skip: Callable[[Any], bool] | None):
        self.on_field, self.on_text, self.skip = on_field, on_text, skip
        self.seen: dict[tuple[str, tuple[str, ...]], Any] = {}

    def node(self, node: Any, names: tuple[str, ...]) -> Any:
        kind = type(node)
        if kind is str:
            return self.text(node, names)
        if kind is dict or (kind is not list and isinstance(node, Mapping)):
            requester = node.get("requester")
            if type(requester) is dict or isinstance(requester, Mapping):
                name = requester.get("name")
                if isinstance(name, str) and name and not (self.skip and self.skip(name)):
                    names = (*names, *usable_names([name]))
            return {key: self.member(key, value, names) for key, value in node.items()}
        if kind is list or kind is tuple:
            return [self.node(item, names) for item in node]
        return node

    def member(self, key: Any, value: Any, names: tuple[str, ...]) -> Any:
        if key in NEVER_PERSONAL:
            return value
        kind = type(value)
        if kind is not str and kind is not dict and kind is not list:
            if kind is int or key in FIELD_KINDS:
                return self.field(value) if key in FIELD_KINDS else value
            if value is None or kind is bool or kind is float:
                return value
        if key == "requester" and isinstance(value, Mapping):
            return {
                k: self.field(v) if k in REQUESTER_FIELDS else self.node(v, names)
                for k, v in value.items()
            }
        if key in UNMASKED_KEYS and kind is str:
            return value
        if key in FIELD_KINDS:
            return self.field(value)
        return self.node(value, names)

    def field(self, value: Any) -> Any:
        if value is None or isinstance(value, bool) or value == "":
            return value
        if isinstance(value, Mapping | list | tuple):
            return self.node(value, ())  # a structure under a personal key: walk it
        if self.skip is not None and self.skip(value):
            return value
        return self.on_field(value)

    def text(self, text: str, names: tuple[str, ...]) -> Any:
        key = (text, names)
        if key in self.seen:
            return self.seen[key]
        if (self.skip is not None and self.skip(text)) or _INSTANT.fullmatch(text):
            result: Any = text
        else:
            wanted = [n for n in names if n in text] if names else names
            spans = detect_personal_data(text, wanted) if wanted else detect_personal_data(text)
            result = self.on_text(text, spans) if spans else text
        self.seen[key] = result
        return result


def redact_document(document: Any, names: Iterable[str] = ()) -> Any:
    """A copy of ``document`` with its personal fields replaced by ``[已删除]`` and every
    piece of personal data found in its text cut out the same way (the rest of the text
    stays: what a request was about is not personal)."""

    def cut(text: str, spans: list[PersonalDataSpan]) -> str:
        parts, last = [], 0
        for span in spans:
            parts += [text[last : span.start], ERASED]
            last = span.end
        parts.append(text[last:])
        return "".join(parts)

    return walk_personal(document, lambda _: ERASED, cut, names, skip=_is_erased)


def _is_erased(value: Any) -> bool:
    return isinstance(value, str) and value == ERASED
