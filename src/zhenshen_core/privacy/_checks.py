"""The checks a candidate number must pass: ID numbers, USCC codes, bank cards.

python-stdnum does the arithmetic (``stdnum.cn.ric`` for the ID check character,
``stdnum.cn.uscc`` for the enterprise code); Luhn is computed here, checked against
``stdnum.luhn`` by a property test, because it runs on every long digit run. What is ours is
which checks we rely on, and why.

* **ID numbers** (居民身份证号码, GB 11643-1999): 18 characters, the last a check character
  (digit or X) that must match; the birth date (characters 7-14) must be a real day from 1900
  to 2099; the first two digits must be a province-level code of GB/T 2260 (81, 82 and 83 are
  the residence permits of Hong Kong, Macao and Taiwan residents), or the number must start
  with 9 and a province code (the 2023 foreigners' permanent residence card, same check
  character). We do not call ``ric.validate``, which also looks the county up in stdnum's
  table by birth year: a number issued after a county was renamed (510116 双流区 for someone
  born in 1990) fails there, and a code missing from the table raises ``KeyError`` in stdnum
  2.2 — a real ID number missed is an ID number shown unmasked.
* **15-digit numbers** of the first-generation cards (no longer valid since 2013-01-01) have
  no check character, so nothing tells them from other 15-digit numbers: they are not
  reported as ID numbers (one that passes Luhn is reported as a bank card).
* **USCC** (统一社会信用代码): an enterprise's identity, not a person's. An 18-digit number
  that is a valid USCC and not a valid ID number is left alone (not even as a bank card); one
  that is valid as both is reported as an ID number, because a person's number shown is worse
  than an enterprise's code hidden. stdnum's USCC check is one mod-31 character, which about
  one 18-digit number in 31 passes by chance; requiring the region part to name a province
  keeps most 18-digit bank cards out of that exception.
"""

from __future__ import annotations

import datetime

PROVINCES = frozenset(
    (
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
        "83",
    )
)


def is_id_number(compact: str) -> bool:
    """``compact``: ASCII, no separators, upper-case X."""
    if len(compact) != 18 or not compact[:17].isdigit() or not compact[:17].isascii():
        return False
    if compact[:2] not in PROVINCES and not (compact[0] == "9" and compact[1:3] in PROVINCES):
        return False
    from stdnum.cn import ric

    if ric.calc_check_digit(compact) != compact[17]:
        return False
    try:
        born = datetime.date(int(compact[6:10]), int(compact[10:12]), int(compact[12:14]))
    except ValueError:
        return False
    return 1900 <= born.year <= 2099


def is_uscc(compact: str) -> bool:
    """stdnum checks the alphabet and the mod-31 check character; the region part (characters
    3-8) must also name a province, or be 10 (central registrations), as GB 32100 requires."""
    if compact[2:4] not in PROVINCES and compact[2:4] != "10":
        return False
    from stdnum.cn import uscc

    return bool(uscc.is_valid(compact))


def is_bank_card(digits: str) -> bool:
    """13-19 ASCII digits passing Luhn (ISO/IEC 7812; China UnionPay cards are 16-19)."""
    if not 13 <= len(digits) <= 19 or not digits.isdigit() or not digits.isascii():
        return False
    return luhn_checksum(digits) == 0


#: A digit doubled, its two digits added (the Luhn step), by the digit.
_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)


def luhn_checksum(digits: str) -> int:
    """``stdnum.luhn.checksum`` for decimal digits only, without its general alphabet's
    lookups: every long digit run of a work order is checked (a test keeps the two equal)."""
    values = [ord(ch) - 48 for ch in reversed(digits)]
    return (sum(values[::2]) + sum(_DOUBLED[v] for v in values[1::2])) % 10
