"""One masking style, configurable per desk: values, texts, and the policy's validation."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from zhenshen_core.privacy import MaskPolicy, PersonalDataKind, Reveal, mask_text, mask_value


@pytest.mark.parametrize(
    ("kind", "value", "masked"),
    [
        ("mobile", "13812345678", "138****5678"),
        ("mobile", "+86-138-1234-5678", "+86-138-****-5678"),
        ("mobile", "１３８１２３４５６７８", "１３８＊＊＊＊５６７８"),
        ("id_number", "510107199001011234", "510***********1234"),
        ("id_number", "11010519491231002x", "110***********002x"),
        ("bank_card", "6222021234567890128", "6222***********0128"),
        ("bank_card", "6222 0212 3456 7890", "6222 **** **** 7890"),
        ("email", "zhao@example.com", "z***@example.com"),
        ("email", "ab@example.com", "a*@example.com"),
        ("email", "a@example.com", "*@example.com"),
        ("name", "张三", "张*"),
        ("name", "张三丰", "张**"),
        ("name", "欧阳娜娜", "欧阳**"),
        ("name", "欧阳", "欧*"),
        ("name", "买买提·艾力", "买**·**"),
        ("name", "John Smith", "J*** *****"),
        ("landline", "028-85123456", "028-****3456"),
        ("landline", "(028)8512 3456", "(028)**** 3456"),
        ("landline", "010-12345678-123", "010-****5678-***"),
        ("landline", "0755-2345678", "0755-***5678"),
        ("address", "四川省成都市武侯区桐梓林北路3号", "四川省成都市武侯区*******"),
        ("address", "成都市高新区天府大道北段1700号", "成都市高新区***********"),
        ("address", "天府花园小区3栋", "********"),
    ],
)
def test_the_default_style(kind: str, value: str, masked: str) -> None:
    assert mask_value(kind, value) == masked
    assert len(masked) == len(value)


@pytest.mark.parametrize(
    ("kind", "value", "masked"),
    [
        ("mobile", "8512 3456", "**** ****"),  # a phone field holding something else
        ("mobile", "12345", "*****"),
        ("landline", "8512345", "***2345"),
        ("id_number", "510107900101123", "510********1123"),  # 15 digits: 8 still hidden
    ],
)
def test_values_too_short_for_their_rule_are_hidden_completely(
    kind: str, value: str, masked: str
) -> None:
    assert mask_value(kind, value) == masked


def test_withheld_values_are_hidden_completely() -> None:
    assert mask_value("mobile", "+86 138 1234 5678", withhold=True) == "+86 *** **** ****"
    assert mask_value("name", "欧阳娜娜", withhold=True) == "****"
    assert mask_value("landline", "028-85123456", withhold=True) == "***-********"


def test_a_desk_policy_changes_how_much_is_shown() -> None:
    policy = MaskPolicy(
        mobile=Reveal(start=0, end=4),
        bank_card=Reveal(start=6, end=4),
        landline_area_code=False,
        landline=Reveal(end=2),
        name_surname=False,
        address="none",
    )
    assert mask_value("mobile", "13812345678", policy) == "*******5678"
    assert mask_value("bank_card", "6222021234567890128", policy) == "622202*********0128"
    assert mask_value("landline", "028-85123456", policy) == "***-******56"
    assert mask_value("name", "张三", policy) == "**"
    assert mask_value("address", "成都市高新区天府大道", policy) == "**********"


def test_kinds_a_policy_does_not_mask_are_shown() -> None:
    policy = MaskPolicy(kinds=frozenset({PersonalDataKind.ID_NUMBER}))
    text = "电话13812345678，身份证11010519491231002X"
    assert mask_text(text, policy) == "电话13812345678，身份证110***********002X"
    assert mask_value("mobile", "13812345678", policy) == "13812345678"
    # ... but a withheld person stays withheld.
    assert mask_text(text, policy, withheld=["13812345678"]) == (
        "电话***********，身份证110***********002X"
    )


def test_a_policy_reads_from_desk_configuration() -> None:
    policy = MaskPolicy.model_validate(
        {"kinds": ["mobile", "id_number"], "mobile": {"start": 3, "end": 2}}
    )
    assert policy.kinds == {PersonalDataKind.MOBILE, PersonalDataKind.ID_NUMBER}
    assert mask_value("mobile", "13812345678", policy) == "138******78"
    assert hash(policy) == hash(MaskPolicy.model_validate(policy.model_dump()))


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"mobile": {"start": 4, "end": 4}}, r"mobile\n.*shows 4 \+ 4 characters; at most 7"),
        ({"id_number": {"start": 6, "end": 6}}, r"id_number\n.*shows 6 \+ 6 .*at most 10"),
        ({"landline": {"start": 1, "end": 4}}, r"landline\n.*shows 1 \+ 4 .*at most 4"),
        ({"mobile": {"start": -1}}, "greater than or equal to 0"),
        ({"kinds": ["phone"]}, "kinds"),
        ({"masks": []}, "Extra inputs are not permitted"),
        ({"address": "street"}, "'district' or 'none'"),
        ({"confidential_label": ""}, "at least 1 character"),
    ],
)
def test_a_bad_policy_is_refused_with_the_field_named(
    config: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        MaskPolicy.model_validate(config)


def test_a_policy_is_frozen() -> None:
    with pytest.raises(ValidationError):
        MaskPolicy().mobile = Reveal()  # type: ignore[misc]


def test_mask_text_keeps_everything_but_the_findings() -> None:
    text = "市民王芳（电话+86 138 1234 5678，座机(028)8512 3456转12）反映，王芳的邮箱wf@qq.com。"
    assert mask_text(text, names=["王芳"]) == (
        "市民王*（电话+86 138 **** 5678，座机(028)**** 3456转**）反映，王*的邮箱w*@qq.com。"
    )


def test_a_single_string_is_one_name_or_one_withheld_value() -> None:
    assert mask_text("王芳来电", names="王芳") == "王*来电"
    assert mask_text("王芳来电，电话13812345678", withheld="13812345678") == (
        "王芳来电，电话***********"
    )


def test_mask_text_of_text_without_findings_is_the_same_text() -> None:
    text = "企业反映：2024年5月13日提交申请，金额1200万元。"
    assert mask_text(text, names=["王芳"]) is text


def test_a_uscc_in_text_is_never_masked() -> None:
    text = "企业统一社会信用代码91510100MA68NDJH6X，电话13812345678"
    assert mask_text(text) == "企业统一社会信用代码91510100MA68NDJH6X，电话138****5678"


def test_an_unknown_kind_is_an_error() -> None:
    with pytest.raises(ValueError, match="kind of personal data 'phone'; choose one of: mobile,"):
        mask_value("phone", "13812345678")
