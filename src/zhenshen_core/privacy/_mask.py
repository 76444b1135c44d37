"""Masking: one style for every kind, applied to a value or to every finding in a text.

Masking replaces characters one for one — a full-width digit or letter by ``＊``, anything
else by ``*`` — so a masked text has the length of the original, a span found in the original
is the same span in the masked text, and separators, brackets and the country code keep their
place (``+86 138 **** 5678``). Only a confidential requester's fields become a label (保密)
instead, in ``_document``.

``withheld`` values are people whose identity is withheld (a confidential requester): every
occurrence of them is hidden completely, whatever the policy says about their kind.
"""

from __future__ import annotations

from collections.abc import Iterable
from types import MappingProxyType

from zhenshen_core.privacy._address import district_prefix_length
from zhenshen_core.privacy._detect import detect_personal_data
from zhenshen_core.privacy._kinds import PersonalDataKind, PersonalDataSpan
from zhenshen_core.privacy._names import NAME_DOTS, surname_length, usable_names
from zhenshen_core.privacy._patterns import LANDLINE_FULL
from zhenshen_core.privacy._policy import MaskPolicy, Reveal

__all__ = ["DEFAULT_MASK_POLICY", "mask_spans", "mask_text", "mask_value", "withheld_keys"]

LANDLINE = PersonalDataKind.LANDLINE

#: The policy used when none is given (frozen, so it can be shared).
DEFAULT_MASK_POLICY = MaskPolicy()
_NOTHING = Reveal()
#: The fewest characters a rule leaves hidden; a value too short for that (a phone field
#: holding 8512 3456, a two-letter e-mail name) is hidden completely instead.
MIN_HIDDEN = MappingProxyType(
    {
        PersonalDataKind.MOBILE: 4,
        PersonalDataKind.LANDLINE: 3,
        PersonalDataKind.ID_NUMBER: 8,
        PersonalDataKind.BANK_CARD: 3,
        PersonalDataKind.EMAIL: 1,
    }
)


def mask_value(
    kind: PersonalDataKind | str,
    value: str,
    policy: MaskPolicy = DEFAULT_MASK_POLICY,
    *,
    withhold: bool = False,
) -> str:
    """``value`` masked as a ``kind`` under ``policy`` (``withhold``: hide all of it).

    ``value`` may be written any way the detector accepts (spaces, dashes, full-width digits,
    +86) or be something that is not a valid number at all (a phone field holding 8512 3456):
    the rule is then applied to its letters and digits. A kind the policy does not mask is
    returned as it is, unless withheld.
    """
    kind = _kind(kind)
    if not withhold and kind not in policy.kinds:
        return value
    chars = list(value)
    for index in _hidden_positions(kind, value, policy, withhold):
        chars[index] = "＊" if "\uff01" <= chars[index] <= "\uff5e" else "*"
    return "".join(chars)


def mask_text(
    text: str,
    policy: MaskPolicy = DEFAULT_MASK_POLICY,
    names: Iterable[str] = (),
    *,
    withheld: Iterable[str] = (),
) -> str:
    """``text`` with every finding of a masked kind masked (same length, see above).

    ``names``: people whose names are looked for. ``withheld``: names, phone numbers and other
    values of people whose identity is withheld; their occurrences are hidden completely.
    """
    people = [names] if isinstance(names, str) else list(names)
    hide = [withheld] if isinstance(withheld, str) else [value for value in withheld if value]
    hidden = withheld_keys(hide) if hide else frozenset()
    spans = detect_personal_data(text, people + hide if hide else people)
    return mask_spans(text, spans, policy, hidden)


def mask_spans(
    text: str,
    spans: Iterable[PersonalDataSpan],
    policy: MaskPolicy,
    hidden: frozenset[str] = frozenset(),
) -> str:
    """``text`` with the given findings masked (for callers that detected already)."""
    parts: list[str] = []
    last = 0
    for span in spans:
        withhold = span.value in hidden
        if not withhold and span.kind not in policy.kinds:
            continue
        parts.append(text[last : span.start])
        parts.append(mask_value(span.kind, text[span.start : span.end], policy, withhold=withhold))
        last = span.end
    if not parts:
        return text
    parts.append(text[last:])
    return "".join(parts)


def withheld_keys(values: Iterable[str]) -> frozenset[str]:
    """What a finding's normalised value is compared with to know it is withheld: each value
    as written (a name) and the normalised form of every number or e-mail address in it."""
    keys: set[str] = set()
    for value in values:
        keys.add(value.strip())
        keys.update(span.value for span in detect_personal_data(value))
    return frozenset(keys)


def _kind(kind: PersonalDataKind | str) -> PersonalDataKind:
    try:
        return PersonalDataKind(kind)
    except ValueError:
        known = ", ".join(member.value for member in PersonalDataKind)
        raise ValueError(
            f"unknown kind of personal data {kind!r}; choose one of: {known}"
        ) from None


def _hidden_positions(
    kind: PersonalDataKind, value: str, policy: MaskPolicy, withhold: bool
) -> list[int]:
    if kind is PersonalDataKind.LANDLINE:
        return _landline_hidden(value, policy, withhold)
    if kind is PersonalDataKind.EMAIL:
        return _email_hidden(value, policy.email, withhold)
    if kind is PersonalDataKind.NAME:
        return _name_hidden(value, policy.name_surname and not withhold)
    if kind is PersonalDataKind.ADDRESS:
        keep = 0 if withhold or policy.address == "none" else district_prefix_length(value)
        return [i for i, ch in enumerate(value) if i >= keep and not ch.isspace()]
    positions = [i for i, ch in enumerate(value) if ch.isalnum()]
    if kind is PersonalDataKind.MOBILE:
        positions = positions[-11:]  # a country code in front stays
        reveal = policy.mobile
    elif kind is PersonalDataKind.ID_NUMBER:
        reveal = policy.id_number
    else:
        reveal = policy.bank_card
    return _middle(positions, _NOTHING if withhold else reveal, MIN_HIDDEN[kind])


def _middle(positions: list[int], reveal: Reveal, fewest: int) -> list[int]:
    """The positions a reveal rule hides: all but ``start`` and ``end`` of them, or all of
    them when that would leave fewer than ``fewest`` hidden."""
    if len(positions) - reveal.start - reveal.end < fewest:
        return positions
    return positions[reveal.start : len(positions) - reveal.end]


def _landline_hidden(value: str, policy: MaskPolicy, withhold: bool) -> list[int]:
    match = LANDLINE_FULL.fullmatch(value)
    if match is None:
        digits = [i for i, ch in enumerate(value) if ch.isalnum()]
        return _middle(digits, _NOTHING if withhold else policy.landline, MIN_HIDDEN[LANDLINE])

    def digits_in(group: str) -> list[int]:
        start, end = match.span(group)
        return [i for i in range(start, end) if value[i].isdigit()] if start >= 0 else []

    local = digits_in("ll_local")
    reveal = _NOTHING if withhold else policy.landline
    hidden = _middle(local, reveal, MIN_HIDDEN[LANDLINE]) + digits_in("ll_ext")
    if withhold or not policy.landline_area_code:
        # The area code with its leading 0 (the digits between the country code and the local
        # number; a +86/0086 in front stays, as it does for mobiles).
        area_end = match.start("ll_area")
        zero = [area_end - 1] if area_end > 0 and value[area_end - 1] in "0０" else []
        hidden = zero + digits_in("ll_area") + hidden
    return sorted(hidden)


def _email_hidden(value: str, reveal: Reveal, withhold: bool) -> list[int]:
    at = max(value.find("@"), value.find("＠"))
    local = range(at) if at > 0 else range(len(value))
    positions = [i for i in local if not value[i].isspace()]
    return _middle(positions, _NOTHING if withhold else reveal, MIN_HIDDEN[PersonalDataKind.EMAIL])


def _name_hidden(value: str, keep_surname: bool) -> list[int]:
    letters = [i for i, ch in enumerate(value) if not ch.isspace() and ch not in NAME_DOTS]
    if not keep_surname:
        return letters
    stripped = value.strip()
    # A Latin or otherwise unusual name keeps its first letter.
    keep = surname_length(stripped) if usable_names([stripped]) else 1
    return letters[keep:] if len(letters) > keep else letters
