"""Which values of a stored document hold personal data: one walk, two uses.

Encryption at rest seals these values and erasure redacts them, so both must agree on what they
are; this walk is that one definition. A value is personal when it is

* a field of a ``requester`` mapping that names the person (``name``, ``phone`` and every key
  ``FIELD_KINDS`` knows) — whatever it holds;
* a field ``FIELD_KINDS`` knows anywhere else (``phone``, ``id_number``, ``contact_name`` …);
* any other string in which the detector finds personal data (a phone number in the content,
  the requester's name in a note).

Left alone, like the masker leaves them: keys, booleans, identifiers (``UNMASKED_KEYS``) and
codes (``NEVER_PERSONAL``) except below a free-form key (``FREE_FORM``: a case's facts), and
instants and digests (``_patterns.is_code``: never personal, and an instant's type must
survive erasure).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from zhenshen_core.privacy._detect import detect_among
from zhenshen_core.privacy._document import FIELD_KINDS, FREE_FORM, UNMASKED_KEYS
from zhenshen_core.privacy._kinds import PersonalDataSpan
from zhenshen_core.privacy._names import usable_names
from zhenshen_core.privacy._patterns import PREFILTER, is_code

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
        "appeal_type", "at", "chair", "channel", "clock", "clocks", "departments", "domain",
        "external_refs", "from_status", "generalisation_id", "into", "meeting_id", "pack",
        "received_at", "role", "rule_ids", "severity", "status", "task_id", "tier", "to_status",
        "version",
    )
)  # fmt: skip

#: Below a ``FREE_FORM`` key (a case's facts) no key is a code either.
_NO_KEYS: frozenset[str] = frozenset()

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
    cache: dict[Any, Any] | None = None,
) -> Any:
    """A copy of ``document`` with every personal value replaced by what the callbacks return.

    ``names`` are people whose names are looked for everywhere; a mapping with a ``requester``
    adds that requester's name below it. ``skip`` says a value is already handled (a sealed
    envelope, an erasure marker) and is kept as it is. ``cache``, shared by walks of one
    owner's documents (a case and its events repeat each other), keeps each value's outcome.
    """
    seen = {} if cache is None else cache
    given = tuple(names)
    usable = seen.get(("usable", given))
    if usable is None:
        usable = seen[("usable", given)] = tuple(usable_names(given)) if given else ()
    return _Walk(on_field, on_text, skip, seen).node(document, usable)


class _Walk:
    """The walk itself. Stored documents are JSON (dict, list, str, int, float, bool, None),
    so exact type tests are enough (this runs for every value of every document a store
    writes); a value met twice (the receive event repeats the case) is decided once."""

    __slots__ = ("on_field", "on_text", "seen", "skip")

    def __init__(
        self,
        on_field: OnField,
        on_text: OnText,
        skip: Callable[[Any], bool] | None,
        seen: dict[Any, Any],
    ) -> None:
        self.on_field, self.on_text, self.skip = on_field, on_text, skip
        self.seen = seen

    def node(self, node: Any, names: tuple[str, ...], free: bool = False) -> Any:
        """``free``: below a ``FREE_FORM`` key, where no key is a code or an identifier."""
        kind = type(node)
        if kind is str:
            return self.text(node, names)
        if kind is dict or (kind is not list and kind is not tuple and isinstance(node, Mapping)):
            requester = node.get("requester")
            if requester is not None and (
                type(requester) is dict or isinstance(requester, Mapping)
            ):
                names = self.requester_names(requester, names)
            member, text = self.member, self.text
            codes, identifiers = (_NO_KEYS, _NO_KEYS) if free else (NEVER_PERSONAL, UNMASKED_KEYS)
            walked: dict[Any, Any] = {}
            for key, value in node.items():
                if not value or key in codes:
                    # An empty value (None, "", [], {}, 0, False) holds nothing: most of a
                    # document.
                    walked[key] = value
                elif type(value) is str and key not in FIELD_KINDS:
                    # Most of the rest, decided here rather than in ``member``.
                    walked[key] = value if key in identifiers else text(value, names)
                else:
                    walked[key] = member(key, value, names, free or key in FREE_FORM)
            return walked
        if kind is list or kind is tuple:
            node_, text_ = self.node, self.text
            return [
                text_(item, names) if type(item) is str else node_(item, names, free)
                for item in node
            ]
        return node

    def requester_names(self, requester: Mapping[str, Any], names: tuple[str, ...]) -> Any:
        name = requester.get("name")
        if not isinstance(name, str) or not name or (self.skip and self.skip(name)):
            return names
        key = ("names", name, names)
        found = self.seen.get(key)
        if found is None:
            found = self.seen[key] = (*names, *usable_names([name]))
        return found

    def member(self, key: Any, value: Any, names: tuple[str, ...], free: bool = False) -> Any:
        kind = type(value)
        if kind is str:
            if key in UNMASKED_KEYS and not free:
                return value
            return self.field(value) if key in FIELD_KINDS else self.text(value, names)
        if kind is dict or kind is list:
            if key == "requester" and kind is dict:
                # Its flags (anonymous, confidential) and empty fields hold nothing.
                return {
                    k: v
                    if v is None or type(v) is bool
                    else (self.field(v) if k in REQUESTER_FIELDS else self.node(v, names))
                    for k, v in value.items()
                }
            return self.field(value) if key in FIELD_KINDS else self.node(value, names, free)
        if key in FIELD_KINDS and kind is not bool:
            return self.field(value)
        if kind is tuple or (kind not in _SCALARS and isinstance(value, Mapping)):
            return self.node(value, names, free)
        return value

    def field(self, value: Any) -> Any:
        kind = type(value)
        if value is None or kind is bool or value == "":
            return value
        if kind is dict or kind is list or kind is tuple or isinstance(value, Mapping):
            return self.node(value, ())  # a structure under a personal key: walk it
        key = (None, value)
        found = self.seen.get(key, _MISSING)
        if found is _MISSING:
            skip = self.skip is not None and self.skip(value)
            found = self.seen[key] = value if skip else self.on_field(value)
        return found

    def text(self, text: str, names: tuple[str, ...]) -> Any:
        if PREFILTER.search(text) is None and not (names and _may_name(text, names)):
            # The detector's own prefilter, in C: no seven digits, no at sign and none of the
            # names, so nothing personal (most strings of a document). Cheaper than the cache.
            return text
        key = (text, names)
        found = self.seen.get(key, _MISSING)
        if found is not _MISSING:
            return found
        if (self.skip is not None and self.skip(text)) or is_code(text):
            result: Any = text
        else:
            spans = detect_among(text, names)
            result = self.on_text(text, spans) if spans else text
        self.seen[key] = result
        return result


def _may_name(text: str, names: tuple[str, ...]) -> bool:
    """Whether one of ``names`` may be in ``text``: a plain substring test, except for a
    dotted name (its middle dot may be typed as another dot; the detector knows). A loop, not
    ``any`` over a generator: a third of the time for the usual one name, and this runs for
    most strings of every document a store writes."""
    for name in names:  # noqa: SIM110 (a loop, not any(generator): no frame per call)
        if name in text or not name.isalpha():
            return True
    return False


_MISSING = object()
_SCALARS = frozenset((int, float, bool, type(None)))


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
