"""One pass over a text that reports every piece of personal data in it, in text order.

The work is split so that the common case is cheap: a work order without seven digits in a row
(separators allowed) and without an at sign cannot hold a number or an e-mail address, and one
prefilter search in C answers that; only the rest goes through the combined pattern, whose
matches are then checked (ID check character, Luhn, USCC) in Python. Names are plain substring
searches. See ``_patterns`` for the shapes, ``_checks`` for the checks and their reasons.

Spans never overlap. Precedence, in this order:

1. the leftmost match wins;
2. at one position the first shape in the order e-mail, ID number, mobile, landline, grouped
   bank card, digit run is tried, and a match whose check fails is skipped whole — its
   characters are not searched again, so no part of a rejected number is ever reported;
3. names are looked for last and only outside the numbers and e-mail addresses found (a
   landline's 转 or 分机 is Han text).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from zhenshen_core.privacy._checks import is_bank_card, is_id_number, is_uscc
from zhenshen_core.privacy._kinds import PersonalDataKind, PersonalDataSpan
from zhenshen_core.privacy._names import name_occurrences, usable_names
from zhenshen_core.privacy._patterns import COMBINED, COMPACT, PREFILTER

__all__ = ["detect_among", "detect_personal_data"]


def detect_personal_data(text: str, names: Iterable[str] = ()) -> list[PersonalDataSpan]:
    """Every phone number, ID number, bank card, e-mail address and occurrence of one of
    ``names`` in ``text``, as non-overlapping spans in text order.

    ``names`` are the people whose names are looked for (the requester's, usually); names that
    do not look like Chinese names are ignored (see ``_names``).
    """
    return detect_among(text, usable_names(names) if names else ())


def detect_among(text: str, usable: Sequence[str]) -> list[PersonalDataSpan]:
    """:func:`detect_personal_data` for names that already went through ``usable_names``
    (longest first): a caller that checks many strings for the same names (the walk that
    seals a document) validates them once instead of once a string."""
    spans = _numbers_and_emails(text) if PREFILTER.search(text) else []
    occurrences = name_occurrences(text, usable) if usable else []
    return _with_names(spans, occurrences) if occurrences else spans


def _numbers_and_emails(text: str) -> list[PersonalDataSpan]:
    spans = []
    for match in COMBINED.finditer(text):
        found = _classify(match)
        if found is not None:
            spans.append(PersonalDataSpan(match.start(), match.end(), found[0], found[1]))
    return spans


def _classify(match: re.Match[str]) -> tuple[PersonalDataKind, str] | None:
    shape = match.lastgroup
    raw = match.group()
    if shape == "email":
        local, _, domain = raw.replace("＠", "@").partition("@")
        return PersonalDataKind.EMAIL, f"{local}@{domain.lower()}"
    compact = raw.translate(COMPACT)
    if shape == "mobile":
        return PersonalDataKind.MOBILE, compact[-11:]
    if shape == "landline":
        return PersonalDataKind.LANDLINE, _landline_value(match)
    if shape == "id":
        compact = compact.upper()
        if is_id_number(compact):
            return PersonalDataKind.ID_NUMBER, compact
        if compact.isdigit() and len(compact) == len(raw) and not is_uscc(compact):
            return (PersonalDataKind.BANK_CARD, compact) if is_bank_card(compact) else None
        return None
    # A grouped card or a digit run (which is never 18 digits: the ID shape takes those).
    return (PersonalDataKind.BANK_CARD, compact) if is_bank_card(compact) else None


def _landline_value(match: re.Match[str]) -> str:
    area = "0" + match.group("ll_area").translate(COMPACT)
    value = f"{area}-{match.group('ll_local').translate(COMPACT)}"
    extension = match.group("ll_ext")
    return f"{value}-{extension.translate(COMPACT)}" if extension else value


def _with_names(
    spans: list[PersonalDataSpan], occurrences: list[tuple[int, int, str]]
) -> list[PersonalDataSpan]:
    """The spans and the name occurrences outside them, merged in text order (both lists
    are sorted and free of overlaps, so one sweep does it)."""
    merged: list[PersonalDataSpan] = []
    index = 0
    for start, end, name in occurrences:
        while index < len(spans) and spans[index].end <= start:
            merged.append(spans[index])
            index += 1
        if index < len(spans) and spans[index].start < end:
            continue  # overlaps a number or an e-mail address
        merged.append(PersonalDataSpan(start, end, PersonalDataKind.NAME, name))
    merged.extend(spans[index:])
    return merged
