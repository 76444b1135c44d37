"""Masking a JSON-like document: a case, an event, a page of cases, a dead letter.

Two things are masked. Known personal *fields*, by their key, whatever they hold (a phone
field with a number no detector would accept is still a phone number):

* inside a ``requester`` mapping (the model's ``Requester``): ``name`` and every key below;
* anywhere: ``phone``, ``mobile``, ``tel``, ``telephone``, ``id_number``, ``id_card``,
  ``email``, ``address`` and their ``contact_`` / ``requester_`` forms, and
  ``contact_name``, ``contact_person``, ``requester_name``.

And personal data *detected* in every other string value. A mapping with a ``requester`` is
one person's scope (a case): the requester's name is looked for in every string inside it,
and, when the requester is confidential or anonymous, their identity is withheld in it — the
requester's fields become the policy's label (保密) and every occurrence of their name or
numbers in the text is hidden completely.

Left alone: keys, numbers, booleans, and the values of ``id``, ``case_id``, ``external_id``,
``merged_into`` and ``uscc`` (case ids and a 12345 order number are not personal data and
must stay readable; a USCC is an enterprise's), except in a case's facts, where a key is
whatever a channel mapped. Nothing is changed in place: the result is a
new document.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any, Literal

from zhenshen_core.privacy._detect import detect_personal_data
from zhenshen_core.privacy._kinds import PersonalDataKind
from zhenshen_core.privacy._mask import (
    DEFAULT_MASK_POLICY,
    mask_spans,
    mask_value,
    withheld_keys,
)
from zhenshen_core.privacy._names import NAME_DOTS, usable_names
from zhenshen_core.privacy._patterns import PREFILTER, is_code
from zhenshen_core.privacy._policy import MaskPolicy

__all__ = ["AUDIENCES", "Audience", "mask_document"]


def _field_kinds() -> dict[str, PersonalDataKind]:
    kinds: dict[str, PersonalDataKind] = {}
    for kind, keys in (
        (PersonalDataKind.MOBILE, ("phone", "mobile", "tel", "telephone")),
        (PersonalDataKind.ID_NUMBER, ("id_number", "id_card")),
        (PersonalDataKind.EMAIL, ("email",)),
        (PersonalDataKind.ADDRESS, ("address",)),
    ):
        for key in keys:
            kinds[key] = kinds[f"contact_{key}"] = kinds[f"requester_{key}"] = kind
    for key in ("contact_name", "contact_person", "requester_name"):
        kinds[key] = PersonalDataKind.NAME
    return kinds


#: Personal fields by key, anywhere in a document (a ``requester``'s ``name`` too).
FIELD_KINDS: Mapping[str, PersonalDataKind] = MappingProxyType(_field_kinds())

#: Values never masked: identifiers of cases, orders and enterprises.
UNMASKED_KEYS = frozenset(("id", "case_id", "external_id", "merged_into", "uscc"))
#: Keys whose values are free-form (a case's facts, from whatever a channel mapped): below them
#: no key is taken for an identifier (a fact named ``id`` may hold a phone number); personal
#: field names (``phone`` …) still count.
FREE_FORM = frozenset(("facts",))
_REQUESTER_FLAGS = ("confidential", "anonymous")


#: Who reads: ``desk`` — the desk itself, which sees a confidential requester masked like
#: anyone else; ``department`` — everyone else (departments, the enterprise, other systems),
#: from whom a confidential or anonymous requester's identity is withheld (保密).
Audience = Literal["desk", "department"]
AUDIENCES: tuple[str, ...] = ("desk", "department")


class _Scope:
    """Whose names are looked for, and whose identity is withheld, below one mapping."""

    __slots__ = ("desk", "free", "hidden", "names", "quick", "usable", "withheld")

    def __init__(
        self, names: tuple[str, ...], withheld: tuple[str, ...], desk: bool, free: bool = False
    ) -> None:
        self.names = names
        self.withheld = withheld
        self.desk = desk
        self.free = free  # below a FREE_FORM key: no key is an identifier
        self.hidden = withheld_keys(withheld) if withheld else frozenset()
        # The names looked for in every string below, checked once here rather than per
        # string; ``quick``: the same names when a plain substring test finds each (no
        # middle dot, which may be written with another dot), for the fast path of ``_text``.
        self.usable = tuple(usable_names(names + withheld))
        dotted = any(dot in name for name in self.usable for dot in NAME_DOTS)
        self.quick = None if dotted else self.usable

    def freed(self) -> _Scope:
        return self if self.free else _Scope(self.names, self.withheld, self.desk, free=True)

    def entering(self, mapping: Mapping[str, Any]) -> _Scope:
        requester = mapping.get("requester")
        if not isinstance(requester, Mapping):
            return self
        if _is_withheld(requester) and not self.desk:
            identity = tuple(
                str(value)
                for key, value in requester.items()
                if (key == "name" or key in FIELD_KINDS) and _is_field_value(value)
            )
            return _Scope(self.names, self.withheld + identity, self.desk, self.free)
        name = requester.get("name")
        if isinstance(name, str) and name:
            return _Scope((*self.names, name), self.withheld, self.desk, self.free)
        return self


def mask_document(
    document: Any,
    policy: MaskPolicy = DEFAULT_MASK_POLICY,
    names: Iterable[str] = (),
    *,
    audience: Audience = "department",
) -> Any:
    """A copy of ``document`` (mappings, lists, tuples, strings and scalars, as JSON holds
    them) with personal fields and detected personal data masked; ``names``: people whose
    names are looked for everywhere in it. ``audience``: ``department`` (the default:
    everyone but the desk) sees a confidential requester as 保密, ``desk`` masked like any
    other."""
    if audience not in AUDIENCES:
        raise ValueError(f"unknown audience {audience!r}; choose one of: desk, department")
    scope = _Scope(tuple(usable_names(names)), (), audience == "desk")
    return _walk(document, policy, scope)


def _walk(node: Any, policy: MaskPolicy, scope: _Scope) -> Any:
    kind = type(node)  # exact types first: documents are JSON, and ABC checks are slow
    if kind is str:
        return _text(node, policy, scope)
    if node is None or kind is int or kind is bool or kind is float:
        return node
    if kind is dict or (kind is not list and isinstance(node, Mapping)):
        if node.get("requester") is not None:  # else ``entering`` keeps the scope
            scope = scope.entering(node)
        return {key: _member(key, value, policy, scope) for key, value in node.items()}
    if kind is list or kind is tuple:
        return [_walk(item, policy, scope) for item in node]
    if isinstance(node, str):
        return _text(node, policy, scope)
    return node


def _member(key: Any, value: Any, policy: MaskPolicy, scope: _Scope) -> Any:
    kind = type(value)
    # Most members of a case are strings and nulls: what the general path below does for
    # them, without its checks for mappings and lists (a GET masks about 100 members).
    if kind is str:
        if key in UNMASKED_KEYS and not scope.free:
            return value
        field = FIELD_KINDS.get(key) if type(key) is str else None
        if field is not None and value != "":
            return _field(field, value, policy, scope)
        return _text(value, policy, scope)
    if value is None or kind is bool or kind is float:
        return value
    if key == "requester" and isinstance(value, Mapping):
        return _requester(value, policy, scope)
    if kind is dict or kind is list:
        return _walk(value, policy, scope.freed() if key in FREE_FORM else scope)
    if key in UNMASKED_KEYS and not scope.free and not isinstance(value, Mapping | list | tuple):
        return value
    field = FIELD_KINDS.get(key) if type(key) is str else None
    if field is not None and _is_field_value(value):
        return _field(field, str(value), policy, scope)
    return _walk(value, policy, scope)


def _requester(requester: Mapping[str, Any], policy: MaskPolicy, scope: _Scope) -> Any:
    withheld = _is_withheld(requester) and not scope.desk
    masked: dict[Any, Any] = {}
    for key, value in requester.items():
        kind = PersonalDataKind.NAME if key == "name" else FIELD_KINDS.get(key)
        if kind is None or not _is_field_value(value):
            masked[key] = _member(key, value, policy, scope)
        elif withheld:
            masked[key] = policy.confidential_label
        else:
            masked[key] = _field(kind, str(value), policy, scope)
    return masked


def _is_withheld(requester: Mapping[str, Any]) -> bool:
    return any(requester.get(flag) is True for flag in _REQUESTER_FLAGS)


def _is_field_value(value: Any) -> bool:
    return (isinstance(value, str) and value != "") or (
        isinstance(value, int) and not isinstance(value, bool)
    )


def _field(kind: PersonalDataKind, value: str, policy: MaskPolicy, scope: _Scope) -> str:
    withhold = bool(scope.hidden) and (value.strip() in scope.hidden or _holds_hidden(value, scope))
    if kind is PersonalDataKind.MOBILE:
        # A phone field holds a mobile or a landline; the detector says which.
        found = detect_personal_data(value)
        if len(found) == 1 and found[0].kind is PersonalDataKind.LANDLINE:
            kind = PersonalDataKind.LANDLINE
    return mask_value(kind, value, policy, withhold=withhold)


def _holds_hidden(value: str, scope: _Scope) -> bool:
    return any(span.value in scope.hidden for span in detect_personal_data(value))


def _text(text: str, policy: MaskPolicy, scope: _Scope) -> str:
    quick = scope.quick
    if PREFILTER.search(text) is None and quick is not None:
        # No seven digits and no at sign: only a name can be in it (most strings of a case).
        for name in quick:
            if name in text:
                break
        else:
            return text
    elif is_code(text):
        return text
    return mask_spans(text, detect_personal_data(text, scope.usable), policy, scope.hidden)
