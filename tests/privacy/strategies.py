"""Hypothesis strategies: valid personal numbers written the ways people write them, their
invalid look-alikes, and Chinese text to put them in."""

from __future__ import annotations

from datetime import date

from hypothesis import assume
from hypothesis import strategies as st
from stdnum import luhn
from stdnum.cn import ric

from zhenshen_core.privacy._checks import PROVINCES, is_id_number, is_uscc

FULL_WIDTH = str.maketrans({chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)})
DIGIT = st.sampled_from("0123456789")

#: Han characters and Chinese punctuation: nothing a number or an address could continue.
HAN_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5),
        st.sampled_from("，。：；！？、《》“”"),
    ),
    max_size=30,
)


def digits(n: int) -> st.SearchStrategy[str]:
    return st.text(alphabet="0123456789", min_size=n, max_size=n)


@st.composite
def mobiles(draw: st.DrawFn) -> tuple[str, str]:
    """(as written, normalised)."""
    value = "1" + draw(st.sampled_from("3456789")) + draw(digits(9))
    sep = draw(st.sampled_from(["", " ", "-", "\u3000", "－"]))
    written = f"{value[:3]}{sep}{value[3:7]}{sep}{value[7:]}"
    prefix = draw(st.sampled_from(["", "+86", "+86 ", "+86-", "0086", "0086 ", "(+86)", "（+86）"]))
    written = prefix + written
    if draw(st.booleans()):
        written = written.translate(FULL_WIDTH)
    return written, value


def id_body(draw: st.DrawFn) -> str:
    province = draw(st.sampled_from(sorted(PROVINCES)))
    if draw(st.integers(0, 9)) == 0:  # a foreigner's permanent residence card (2023)
        region = "9" + province + draw(digits(3))
    else:
        region = province + draw(digits(4))
    born = draw(st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31)))
    return region + f"{born:%Y%m%d}" + draw(digits(3))


def _write_id(draw: st.DrawFn, number: str) -> str:
    if draw(st.booleans()):
        number = number[:-1] + number[-1].lower()
    sep = draw(st.sampled_from(["", "", " ", "-"]))
    written = f"{number[:6]}{sep}{number[6:14]}{sep}{number[14:]}"
    return written.translate(FULL_WIDTH) if draw(st.booleans()) else written


@st.composite
def id_numbers(draw: st.DrawFn) -> tuple[str, str]:
    body = id_body(draw)
    number = body + ric.calc_check_digit(body + "0")
    return _write_id(draw, number), number


@st.composite
def bad_id_numbers(draw: st.DrawFn) -> str:
    """A well-formed ID number with a wrong check character, that no other check accepts."""
    body = id_body(draw)
    right = ric.calc_check_digit(body + "0")
    wrong = draw(st.sampled_from("0123456789X").filter(lambda c: c != right))
    number = body + wrong
    assume(not (number.isdigit() and (luhn.is_valid(number) or is_uscc(number))))
    return _write_id(draw, number)


def _card_body(draw: st.DrawFn, length: int) -> str:
    return draw(st.sampled_from("3456")) + draw(digits(length - 2))


def _write_card(draw: st.DrawFn, number: str) -> str:
    if draw(st.booleans()):
        sep = draw(st.sampled_from([" ", "-"]))
        number = sep.join(number[i : i + 4] for i in range(0, len(number), 4))
    return number.translate(FULL_WIDTH) if draw(st.booleans()) else number


@st.composite
def bank_cards(draw: st.DrawFn) -> tuple[str, str]:
    length = draw(st.integers(13, 19))
    body = _card_body(draw, length)
    number = body + luhn.calc_check_digit(body)
    assume(not (length == 18 and (is_id_number(number) or is_uscc(number))))
    return _write_card(draw, number), number


@st.composite
def bad_bank_cards(draw: st.DrawFn) -> str:
    length = draw(st.integers(13, 19))
    body = _card_body(draw, length)
    right = luhn.calc_check_digit(body)
    number = body + draw(DIGIT.filter(lambda c: c != right))
    return _write_card(draw, number)


@st.composite
def emails(draw: st.DrawFn) -> tuple[str, str]:
    alnum = "abcdefghijklmnopqrstuvwxyz0123456789"
    local = draw(st.text(alphabet=alnum, min_size=1, max_size=3)) + draw(
        st.text(alphabet=alnum + "._+-", max_size=12)
    )
    local += draw(st.text(alphabet=alnum, min_size=1, max_size=3))
    label = st.text(alphabet=alnum, min_size=1, max_size=10)
    labels = draw(st.lists(label, min_size=1, max_size=3))
    tld = draw(st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=6))
    domain = ".".join([*labels, tld])
    written_domain = domain.upper() if draw(st.booleans()) else domain
    at = draw(st.sampled_from("@＠"))
    return f"{local}{at}{written_domain}", f"{local}@{domain}"


@st.composite
def landlines(draw: st.DrawFn) -> tuple[str, str]:
    kind = draw(st.integers(0, 2))
    if kind == 0:
        area = "010"
    elif kind == 1:
        area = "02" + draw(DIGIT)
    else:
        area = "0" + draw(st.sampled_from("3456789")) + draw(digits(2))
    size = 8 if len(area) == 3 else draw(st.sampled_from([7, 8]))
    local = draw(st.sampled_from("23456789")) + draw(digits(size - 1))
    sep = draw(st.sampled_from(["", "-", " "]))
    split = draw(st.sampled_from(["", " "]))
    written_local = f"{local[:-4]}{split}{local[-4:]}"
    written = f"({area}){written_local}" if draw(st.booleans()) else f"{area}{sep}{written_local}"
    value = f"{area}-{local}"
    if draw(st.booleans()):
        extension = draw(st.text(alphabet="0123456789", min_size=1, max_size=4))
        written += draw(st.sampled_from(["-", "转", "分机"])) + extension
        value += f"-{extension}"
    return written, value
