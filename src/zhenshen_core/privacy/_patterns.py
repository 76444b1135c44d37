"""The regular expressions of the detector: one prefilter, one combined pattern.

Everything here is linear in the length of the text. Every repetition is bounded (an e-mail's
local part at 64 characters, a domain at 8 labels of 63) except one digit run, which is
possessive (``{7,}+``: Python 3.11), so no input makes the engine backtrack more than a fixed
amount per starting position. The lookarounds are fixed-width.

Digits are ASCII or full-width (``０``-``９``); ``\\d`` is not used because it also matches
the digits of other scripts, which no Chinese number is written in.
"""

from __future__ import annotations

import re

_FULL_WIDTH_OFFSET = 0xFEE0  # "０" - "0"


def _digits(low: str = "0", high: str = "9") -> str:
    """A class of the ASCII and full-width digits from ``low`` to ``high``."""
    fw_low, fw_high = (chr(ord(c) + _FULL_WIDTH_OFFSET) for c in (low, high))
    return f"[{low}-{high}{fw_low}-{fw_high}]"


def _char(ascii_char: str) -> str:
    """One ASCII character or its full-width form."""
    return f"[{re.escape(ascii_char)}{chr(ord(ascii_char) + _FULL_WIDTH_OFFSET)}]"


D = _digits()
#: A number's first and last characters must not touch these: a number glued to Latin letters
#: or more digits is part of a code (a case id ZS…, a USCC, an order number), never a number.
ALNUM = "0-9０-９A-Za-zＡ-Ｚａ-ｚ"
#: One separator between digit groups: spaces (ASCII, no-break, ideographic) and dashes.
SEPARATORS = " \u00a0\u3000\\-\u2010\u2011\u2013\u2014\uff0d"
SEP = f"[{SEPARATORS}]"
_S = SEP + "?"
_BEFORE = f"(?<![{ALNUM}])"
_AFTER = f"(?![{ALNUM}])"
_CHECK = "[0-9０-９XxＸｘ]"
_PLUS86 = f"(?:[+＋]|{_char('0')}{{2}}){_char('8')}{_char('6')}"
_EMAIL_LOCAL = "A-Za-z0-9._%+\\-"

EMAIL = (
    f"(?<![{_EMAIL_LOCAL}])"
    f"(?P<email>[{_EMAIL_LOCAL}]{{1,64}}[@＠](?:[A-Za-z0-9\\-]{{1,63}}\\.){{1,8}}[A-Za-z]{{2,24}})"
    "(?![A-Za-z0-9\\-])"
)
#: 6-8-4 when grouped (region, birth date, sequence and check character), or 18 in a row.
ID_NUMBER = f"{_BEFORE}(?P<id>{D}{{6}}{_S}{D}{{8}}{_S}{D}{{3}}{_CHECK}){_AFTER}"
MOBILE = (
    f"{_BEFORE}(?P<mobile>"
    f"(?:{_PLUS86}{_S}|[(（](?:[+＋]|{_char('0')}{{2}})?{_char('8')}{_char('6')}[)）]{_S})?"
    f"{_char('1')}{_digits('3', '9')}{D}{_S}{D}{{4}}{_S}{D}{{4}}){_AFTER}"
)
#: Area codes: 010 and 02X have three digits, every other (0[3-9]XX) four, so the first
#: digits after the 0 decide the length; brackets around it come in pairs. Local numbers
#: have 7 or 8 digits and do not start with 0 (a 1 is taken: test numbers such as
#: 010-12345678 are written that way). With +86 the area code's 0 may be dropped.
_AREA = f"{_char('1')}{_char('0')}|{_char('2')}{D}|{_digits('3', '9')}{D}{{2}}"
_EXTENSION_SEP = f"(?:[\\-－]|转|分机|[Ee][Xx][Tt]\\.?{_S}|[#＃])"
LANDLINE_BODY = (
    f"(?:(?P<ll_intl>{_PLUS86}){_S})?(?P<ll_open>[(（])?(?(ll_intl){_char('0')}?|{_char('0')})"
    f"(?P<ll_area>{_AREA})(?(ll_open)[)）]){_S}"
    f"(?P<ll_local>{_digits('1', '9')}{D}{{2,3}}{_S}{D}{{4}})"
    f"(?:{_EXTENSION_SEP}(?P<ll_ext>{D}{{1,6}}))?"
)
LANDLINE = f"{_BEFORE}(?P<landline>{LANDLINE_BODY}){_AFTER}"
#: Groups of four with one separator between them; a grouped number that goes on after a
#: separator is part of a longer spaced sequence, not a card.
BANK_CARD_GROUPED = (
    f"{_BEFORE}(?<![{ALNUM}]{SEP})"
    f"(?P<card>{D}{{4}}(?:{SEP}{D}{{4}}){{2,3}}(?:{SEP}{D}{{1,3}})?)"
    f"{_AFTER}(?!{SEP}[{ALNUM}])"
)
#: Any other run of seven or more digits, taken whole (possessive) so that no part of a
#: longer run is ever reported; a bank card when it has 13-19 digits and passes Luhn.
DIGIT_RUN = f"{_BEFORE}(?P<run>{D}{{7,}}+[XxＸｘ]?){_AFTER}"

#: The characters any alternative can start with. Looked ahead for first, so that at the
#: positions of a Han text (nearly all of them) the engine fails once instead of trying six
#: alternatives and their lookbehinds (benchmarks/bench_pii.py measures the difference).
_FIRST = f"[0-9０-９{_EMAIL_LOCAL}+＋(（]"
#: The alternatives in precedence order: at one starting position the first that matches
#: wins, and a match whose check fails is skipped whole (its digits are not searched again).
COMBINED = re.compile(
    f"(?={_FIRST})(?:"
    + "|".join((EMAIL, ID_NUMBER, MOBILE, LANDLINE, BANK_CARD_GROUPED, DIGIT_RUN))
    + ")"
)

#: Every number the combined pattern can report has seven digits in a row, where each may be
#: preceded by one separator or bracket; every e-mail address has an at sign. Texts without
#: either (most work orders: dates and amounts have fewer digits) skip the combined pattern.
#: The pattern starts with a character class so that ``re`` scans for it in C.
PREFILTER = re.compile(f"[0-9０-９@＠](?:(?<=[@＠])|(?:[{SEPARATORS}()（）+＋]?{D}){{6}})")

#: A date or an instant as the models write them (``2026-03-02``,
#: ``2026-03-02T09:00:00.123456+08:00``): its digits pass the prefilter, yet it is never
#: personal data. Only the time's own fields may follow the date, so that nothing else (a
#: phone number after a date and a space) can pass for one.
INSTANT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"(?:[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,9})?)?(?:Z|[+-][0-9]{2}:?[0-9]{2})?)?"
)
#: A hex digest (a pack's sha256, a calendar's version): it has at least one of the letters
#: a-f, and every shape above must start and end away from letters and digits, while none
#: takes a-f inside it; so no number can be found in one.
DIGEST = re.compile("[0-9a-fA-F]*[a-fA-F][0-9a-fA-F]*")


def is_code(text: str) -> bool:
    """Whether ``text`` is an instant or a digest, in which the detector finds nothing (and,
    being ASCII, no name): the walks skip it after the prefilter let it through."""
    return text.isascii() and (INSTANT.fullmatch(text) or DIGEST.fullmatch(text)) is not None


LANDLINE_FULL = re.compile(LANDLINE_BODY)

#: Full-width digits and letters to ASCII, separators and brackets dropped: the compact form
#: checks and normalised values are computed on.
_COMPACT_MAP: dict[str, str | None] = {
    **{chr(c + _FULL_WIDTH_OFFSET): chr(c) for c in range(0x21, 0x7F)},
    **dict.fromkeys(SEPARATORS.replace("\\", "") + "()（）+＋", None),
}
COMPACT = str.maketrans(_COMPACT_MAP)
