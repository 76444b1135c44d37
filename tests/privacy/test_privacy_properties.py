"""Properties of the detector and of masking, on generated numbers inside generated text."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from zhenshen_core.privacy import PersonalDataKind, detect_personal_data
from zhenshen_core.privacy._detect import _numbers_and_emails

from .strategies import (
    HAN_TEXT,
    bad_bank_cards,
    bad_id_numbers,
    bank_cards,
    emails,
    id_numbers,
    landlines,
    mobiles,
)

VALID = st.one_of(
    mobiles().map(lambda w: (PersonalDataKind.MOBILE, *w)),
    id_numbers().map(lambda w: (PersonalDataKind.ID_NUMBER, *w)),
    bank_cards().map(lambda w: (PersonalDataKind.BANK_CARD, *w)),
    emails().map(lambda w: (PersonalDataKind.EMAIL, *w)),
    landlines().map(lambda w: (PersonalDataKind.LANDLINE, *w)),
)
WRONG_MOBILE_PREFIX = st.builds(
    lambda second, rest: "1" + second + rest,
    st.sampled_from("012"),
    st.text(alphabet="0123456789", min_size=9, max_size=9),
)
INVALID = st.one_of(bad_id_numbers(), bad_bank_cards(), WRONG_MOBILE_PREFIX)


@settings(max_examples=400, deadline=None)
@given(before=HAN_TEXT, valid=VALID, after=HAN_TEXT)
def test_a_valid_number_in_chinese_text_is_found_with_its_exact_span(
    before: str, valid: tuple[PersonalDataKind, str, str], after: str
) -> None:
    kind, written, value = valid
    text = before + written + after
    spans = detect_personal_data(text)
    assert [(s.start, s.end, s.kind, s.value) for s in spans] == [
        (len(before), len(before) + len(written), kind, value)
    ]


@settings(max_examples=300, deadline=None)
@given(before=HAN_TEXT, written=INVALID, after=HAN_TEXT)
def test_an_invalid_look_alike_in_chinese_text_is_not_found(
    before: str, written: str, after: str
) -> None:
    assert detect_personal_data(before + written + after) == []


@settings(max_examples=200, deadline=None)
@given(
    head=st.text(alphabet="0123456789", min_size=1, max_size=4),
    valid=st.one_of(mobiles(), id_numbers(), bank_cards()),
    tail=st.text(alphabet="0123456789", max_size=4),
)
def test_a_number_inside_a_longer_digit_run_is_never_found_in_part(
    head: str, valid: tuple[str, str], tail: str
) -> None:
    written = valid[0].translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    if not written[0].isdigit() or not written.replace("X", "").replace("x", "").isdigit():
        return  # separators or a prefix: not one digit run
    text = f"编号{head}{written}{tail}号"
    for span in detect_personal_data(text):
        assert (span.start, span.end) == (2, len(text) - 1), span


@settings(max_examples=300, deadline=None)
@given(text=st.text(st.characters(blacklist_categories=("Nd",), blacklist_characters="@＠")))
def test_a_text_without_digits_or_at_signs_holds_nothing(text: str) -> None:
    assert detect_personal_data(text) == []


#: Texts made of the characters numbers are written with, so the prefilter is exercised.
NUMBERISH = st.text(
    alphabet=st.sampled_from(list("0123456789０１２８@＠.+＋-－ ()（）Xxa号转分机ext")),
    max_size=60,
)


@settings(max_examples=500, deadline=None)
@given(text=NUMBERISH)
def test_the_prefilter_never_hides_a_finding(text: str) -> None:
    assert detect_personal_data(text) == _numbers_and_emails(text)
