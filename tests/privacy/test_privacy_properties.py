"""Properties of the detector and of masking, on generated numbers inside generated text."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from zhenshen_core.privacy import PersonalDataKind, detect_personal_data, mask_text
from zhenshen_core.privacy._detect import _numbers_and_emails
from zhenshen_core.privacy._patterns import is_code

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


@settings(max_examples=300, deadline=None)
@given(before=HAN_TEXT, valid=VALID, after=HAN_TEXT)
def test_masking_never_shows_the_raw_value_and_keeps_the_layout(
    before: str, valid: tuple[PersonalDataKind, str, str], after: str
) -> None:
    _kind, written, value = valid
    text = before + written + after
    masked = mask_text(text)
    assert written not in masked and value not in masked
    assert len(masked) == len(text)
    assert masked.startswith(before) and masked.endswith(after)


@settings(max_examples=200, deadline=None)
@given(before=HAN_TEXT, valid=VALID, after=HAN_TEXT)
def test_a_withheld_value_is_hidden_completely(
    before: str, valid: tuple[PersonalDataKind, str, str], after: str
) -> None:
    kind, written, value = valid
    masked = mask_text(before + written + after, withheld=[value])
    shown = masked[len(before) : len(before) + len(written)]
    if kind is PersonalDataKind.EMAIL:
        local = shown.replace("＠", "@").split("@")[0]
        assert set(local) <= {"*"}, shown
        return
    if kind in (PersonalDataKind.MOBILE, PersonalDataKind.LANDLINE):
        shown = shown[-8:]  # past any country code
    assert not any(ch.isdigit() or ch in "XxＸｘ" for ch in shown), shown


@settings(max_examples=200, deadline=None)
@given(
    surname=st.sampled_from(["王", "李", "张", "欧阳", "司马"]),
    given_name=st.text(
        st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), min_size=1, max_size=2
    ),
    before=HAN_TEXT,
    after=HAN_TEXT,
)
def test_a_recurring_name_is_masked_everywhere_but_its_surname(
    surname: str, given_name: str, before: str, after: str
) -> None:
    name = surname + given_name
    assume(not set(name) & set(before + after))  # no occurrences that overlap each other
    text = f"{before}{name}{after}{name}"
    masked = mask_text(text, names=[name])
    assert name not in masked
    assert masked.endswith(surname + "*" * len(given_name))


HEX = st.text(alphabet="0123456789abcdefABCDEF", min_size=1, max_size=80)


@settings(max_examples=500, deadline=None)
@given(text=HEX)
def test_a_digest_is_code_only_when_the_detector_finds_nothing_in_it(text: str) -> None:
    """The walks skip what ``is_code`` accepts: that is sound only if the detector (and so
    masking and sealing) would have found nothing there."""
    if is_code(text):
        assert detect_personal_data(text) == []
    else:
        assert text.isdigit()  # no letter: a digit run, which may be a card


@settings(max_examples=300, deadline=None)
@given(
    day=st.datetimes(),
    form=st.sampled_from(["date", "seconds", "micros", "offset", "utc", "space"]),
)
def test_an_instant_is_code_and_holds_nothing(day: datetime, form: str) -> None:
    text = {
        "date": day.date().isoformat(),
        "seconds": day.isoformat(timespec="seconds"),
        "micros": day.isoformat(timespec="microseconds"),
        "offset": day.replace(tzinfo=timezone(timedelta(hours=8))).isoformat(),
        "utc": day.isoformat(timespec="seconds") + "Z",
        "space": day.isoformat(sep=" ", timespec="minutes"),
    }[form]
    if day.year >= 1000:  # four-digit years, as the models write them
        assert is_code(text)
    assert detect_personal_data(text) == []


@settings(max_examples=300, deadline=None)
@given(day=st.dates(min_value=date(1000, 1, 1)), mobile=mobiles(), sep=st.sampled_from(" T"))
def test_a_number_after_a_date_is_never_taken_for_an_instant(
    day: date, mobile: tuple[str, str], sep: str
) -> None:
    text = f"{day.isoformat()}{sep}{mobile[0]}"
    assert not is_code(text)  # so the walks look at it (and after a space, find it)
    if sep == " ":
        assert [s.value for s in detect_personal_data(text)] == [mobile[1]]
