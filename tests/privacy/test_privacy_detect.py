"""The detector on the forms of personal data work orders carry, and on their look-alikes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import luhn
from stdnum.cn import ric, uscc

from zhenshen_core.privacy import PersonalDataKind, PersonalDataSpan, detect_personal_data
from zhenshen_core.privacy._checks import luhn_checksum

MOBILE = PersonalDataKind.MOBILE
LANDLINE = PersonalDataKind.LANDLINE
ID = PersonalDataKind.ID_NUMBER
CARD = PersonalDataKind.BANK_CARD
EMAIL = PersonalDataKind.EMAIL
NAME = PersonalDataKind.NAME


def found(text: str, names: tuple[str, ...] = ()) -> list[tuple[str, PersonalDataKind, str]]:
    return [(text[s.start : s.end], s.kind, s.value) for s in detect_personal_data(text, names)]


def test_the_issue_example_finds_the_phone_and_the_id_number() -> None:
    text = "电话13912345678，身份证号码11010519491231002X"
    assert detect_personal_data(text) == [
        PersonalDataSpan(2, 13, MOBILE, "13912345678"),
        PersonalDataSpan(19, 37, ID, "11010519491231002X"),
    ]


@pytest.mark.parametrize(
    "written",
    [
        "13812345678",
        "138 1234 5678",
        "138-1234-5678",
        "+86-138-1234-5678",
        "+8613812345678",
        "+86 138 1234 5678",
        "0086 13812345678",
        "(+86)13812345678",
        "１３８１２３４５６７８",
        "＋８６　１３８　１２３４　５６７８",
        "138\u30001234\u30005678",
    ],
)
def test_mobile_numbers_as_people_write_them(written: str) -> None:
    assert found(f"联系电话：{written}。") == [(written, MOBILE, "13812345678")]


@pytest.mark.parametrize(
    ("written", "value"),
    [
        ("028-85123456", "028-85123456"),
        ("(028)8512 3456", "028-85123456"),
        ("（028）85123456", "028-85123456"),
        ("028 8512 3456", "028-85123456"),
        ("02885123456", "028-85123456"),
        ("010-12345678-123", "010-12345678-123"),
        ("010-12345678转123", "010-12345678-123"),
        ("0755-2345678", "0755-2345678"),
        ("0311 8765 4321", "0311-87654321"),
        ("+86 28 8512 3456", "028-85123456"),
        ("０２８－８５１２３４５６", "028-85123456"),
    ],
)
def test_landlines_with_area_codes(written: str, value: str) -> None:
    assert found(f"座机{written}，") == [(written, LANDLINE, value)]


def test_a_local_number_without_area_code_is_not_reported() -> None:
    assert found("座机85123456，") == []


@pytest.mark.parametrize(
    "written",
    [
        "11010519491231002X",
        "11010519491231002x",
        "110105 19491231 002X",
        "１１０１０５１９４９１２３１００２Ｘ",
    ],
)
def test_id_numbers_with_their_check_character(written: str) -> None:
    assert found(f"身份证号码{written}，") == [(written, ID, "11010519491231002X")]


def test_an_order_number_failing_the_id_check_stays() -> None:
    assert not ric.is_valid("110105194912310021")
    assert not luhn.is_valid("110105194912310021")
    assert found("订单号110105194912310021已受理") == []


def test_an_id_number_with_an_impossible_birth_date_stays() -> None:
    body = "11010519491331002"  # month 13
    number = body + ric.calc_check_digit(body + "0")
    assert found(f"编号{number}") == []


def test_an_id_number_from_an_unknown_province_stays() -> None:
    body = "99010519491231002"[:17]
    number = "0" + body[1:]
    number = number[:17] + ric.calc_check_digit(number[:17] + "0")
    assert found(f"编号{number}") == []


def test_an_id_number_issued_after_its_county_was_renamed_is_found() -> None:
    # 510116 (双流区) dates from 2015; stdnum's county table rejects it for a 1990 birth.
    body = "51011619900101123"
    number = body + ric.calc_check_digit(body + "0")
    assert not ric.is_valid(number)
    assert found(f"身份证{number}") == [(number, ID, number)]


def test_fifteen_digit_first_generation_ids_are_not_id_numbers() -> None:
    assert all(kind is not ID for _, kind, _ in found("老身份证号510107900101123"))


def test_an_all_digit_uscc_is_left_alone_even_when_it_passes_luhn() -> None:
    code = _digit_uscc(luhn_valid=True)
    assert uscc.is_valid(code) and luhn.is_valid(code) and not ric.is_valid(code)
    assert found(f"统一社会信用代码{code}") == []


def test_a_uscc_with_letters_is_left_alone() -> None:
    assert found("统一社会信用代码91510100MA68NDJH6X，企业代码91510104MACLU47L9F") == []


def test_a_number_valid_as_both_uscc_and_id_is_an_id_number() -> None:
    code = _digit_uscc_and_id()
    assert uscc.is_valid(code) and ric.is_valid(code)
    assert found(f"号码{code}") == [(code, ID, code)]


@pytest.mark.parametrize(
    "written",
    ["6222021234567890128", "6222 0212 3456 7890 128", "4111111111111111", "4111-1111-1111-1111"],
)
def test_bank_cards_that_pass_luhn(written: str) -> None:
    digits = written.replace(" ", "").replace("-", "")
    assert luhn.is_valid(digits)
    assert found(f"卡号{written}。") == [(written, CARD, digits)]


def test_a_sixteen_digit_number_failing_luhn_stays() -> None:
    assert not luhn.is_valid("4111111111111112")
    assert found("卡号4111111111111112。") == []
    assert found("卡号4111 1111 1111 1112。") == []


@pytest.mark.parametrize(
    "text",
    [
        "编号913812345678",  # a mobile after a digit
        "编号138123456789",  # a mobile before a digit
        "编号1381234567812345678901",  # inside a 22-digit run
        "编号A13812345678",  # glued to a Latin letter: part of a code
        "案件ZS13812345678B",
        "1101051949123100211",  # an ID number with a digit after it
        "4111 1111 1111 1111 2222",  # a grouped number that goes on
    ],
)
def test_numbers_inside_longer_runs_or_codes_do_not_match(text: str) -> None:
    assert found(text) == []


def test_wrong_mobile_prefixes_stay() -> None:
    assert found("编号12812345678，10012345678，11012345678") == []


def test_two_numbers_side_by_side_are_both_found() -> None:
    assert [v for _, _, v in found("13812345678 13912345678，13712345678/13612345678")] == [
        "13812345678",
        "13912345678",
        "13712345678",
        "13612345678",
    ]


def test_emails() -> None:
    assert found("邮箱Zhang.San+tag@Example.COM.cn，QQ邮箱123456789@qq.com。") == [
        ("Zhang.San+tag@Example.COM.cn", EMAIL, "Zhang.San+tag@example.com.cn"),
        ("123456789@qq.com", EMAIL, "123456789@qq.com"),
    ]
    assert found("邮箱zhang＠example.com") == [("zhang＠example.com", EMAIL, "zhang@example.com")]


def test_an_email_made_of_a_mobile_number_is_one_email() -> None:
    assert found("13812345678@163.com") == [("13812345678@163.com", EMAIL, "13812345678@163.com")]


def test_not_emails() -> None:
    assert found("@某某 请回复，邮箱写成zhang@localhost，或 a@b") == []


def test_dates_times_amounts_and_case_ids_are_not_personal_data() -> None:
    text = (
        "2024-05-13 09:30:00来电，金额12,345,678.00元，面积1234567平方米，"
        "工单GX20240513-000123，案件ZS1A2B3C4D5E6F7A8B，2024年5月13日"
    )
    assert found(text) == []


def test_the_requester_name_where_it_recurs() -> None:
    text = "市民王芳来电反映，王芳称其公司……王女士请求回复。"
    assert found(text, ("王芳",)) == [("王芳", NAME, "王芳"), ("王芳", NAME, "王芳")]


def test_a_single_string_is_one_name() -> None:
    assert detect_personal_data("王芳来电", "王芳") == [PersonalDataSpan(0, 2, NAME, "王芳")]


def test_the_longest_name_wins() -> None:
    assert found("欧阳娜娜与欧阳娜", ("欧阳娜", "欧阳娜娜")) == [
        ("欧阳娜娜", NAME, "欧阳娜娜"),
        ("欧阳娜", NAME, "欧阳娜"),
    ]


def test_a_transliterated_name_matches_with_any_middle_dot() -> None:
    assert found("买买提•艾力反映", ("买买提·艾力",)) == [("买买提•艾力", NAME, "买买提·艾力")]


@pytest.mark.parametrize("name", ["王", "Zhang San", "王芳123", "王小明明明", "", "  "])
def test_names_that_are_not_chinese_names_are_ignored(name: str) -> None:
    assert found("王芳王小明明明Zhang San王芳123", (name,)) == []


def test_names_and_numbers_together_in_text_order() -> None:
    text = "张三（电话13812345678，邮箱zs@example.com）说，张三的卡号4111111111111111"
    assert [kind for _, kind, _ in found(text, ("张三",))] == [NAME, MOBILE, EMAIL, NAME, CARD]


def test_nothing_in_a_text_without_digits_or_at_signs() -> None:
    text = "企业反映：成都某科技有限公司位于桂溪街道，宽带报装申请已提交。"
    assert detect_personal_data(text) == []


def _digit_uscc(*, luhn_valid: bool) -> str:
    """An all-digit USCC (registration 9, type 1, region 510100), the first whose Luhn
    validity is ``luhn_valid``."""
    for serial in range(1_000_000_000):
        code = f"91510100{serial:09d}"
        code += uscc.calc_check_digit(code)
        if code.isdigit() and luhn.is_valid(code) == luhn_valid:
            return code
    raise AssertionError("no such code")  # pragma: no cover


def _digit_uscc_and_id() -> str:
    """An 18-digit number valid as both a USCC and an ID number: a Beijing ID (11…) whose
    characters 3-4 name a province too."""
    for serial in range(1000):
        body = f"11010519900101{serial:03d}"
        code = body + ric.calc_check_digit(body + "0")
        if code.isdigit() and uscc.is_valid(code):
            return code
    raise AssertionError("no such number")  # pragma: no cover


@settings(max_examples=500, deadline=None)
@given(digits=st.text(alphabet="0123456789", min_size=1, max_size=25))
def test_our_luhn_is_stdnums(digits: str) -> None:
    assert luhn_checksum(digits) == luhn.checksum(digits)
