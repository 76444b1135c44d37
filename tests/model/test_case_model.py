from __future__ import annotations

import json
from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import uscc as stdnum_uscc

from zhenshen_core import CaseValidationError, load_case
from zhenshen_core.model import (
    AppealType,
    CaseStatus,
    Channel,
    OpinionResult,
    Satisfaction,
    mask_phone,
    normalise_uscc,
    validate_uscc,
)

MINIMAL = {
    "external_id": "GD-2020-0001",
    "channel": "hotline_12345",
    "received_at": "2020-04-13T09:30:00+08:00",
    "appeal_type": "complaint",
    "title": "施工许可办理缓慢",
    "content": "项目施工许可涉及多个部门，迟迟无法办结。",
    "domain": "construction_permit",
    "enterprise": {
        "name": "成都某科技有限公司",
        "uscc": "91510100MA68NDJH6X",
        "size": "small",
        "tags": ["高新技术企业"],
    },
    "departments": [{"id": "gxq.gycsjsj", "role": "lead"}, {"id": "gxq.sthcsglj", "role": "co"}],
    "facts": {"amount_wan": 1200, "prior_contacts": 2},
}


def test_minimal_case_json_from_the_issue_loads() -> None:
    case = load_case(MINIMAL)
    assert case.channel is Channel.HOTLINE_12345
    assert case.appeal_type is AppealType.COMPLAINT
    assert case.lead_department == "gxq.gycsjsj"
    assert case.status is CaseStatus.RECEIVED
    assert case.received_at.utcoffset() is not None
    assert case.external_refs[0].external_id == "GD-2020-0001"


def test_case_id_is_stable_for_the_same_work_order() -> None:
    assert load_case(MINIMAL).id == load_case(dict(MINIMAL)).id
    other = dict(MINIMAL, external_id="GD-2020-0002")
    assert load_case(other).id != load_case(MINIMAL).id


def test_naive_received_at_is_read_as_shanghai_time() -> None:
    case = load_case(dict(MINIMAL, received_at="2020-04-13T09:30:00"))
    assert case.received_at.isoformat() == "2020-04-13T09:30:00+08:00"


@pytest.mark.parametrize(
    "raw",
    [
        "91510100ma68ndjh6x",
        "９１５１０１００ＭＡ６８ＮＤＪＨ６Ｘ",
        "9151 0100 MA68 NDJH 6X",
        "91510100-MA68NDJH6X",
    ],
)
def test_uscc_is_normalised(raw: str) -> None:
    assert validate_uscc(raw) == "91510100MA68NDJH6X"


@pytest.mark.parametrize(
    ("raw", "check"),
    [("91510100MA68NDJH6Y", "checksum"), ("915101", "length"), ("91510100MA68NDJHIX", "format")],
)
def test_invalid_uscc_names_the_failed_check(raw: str, check: str) -> None:
    data = dict(MINIMAL, enterprise={"name": "x", "uscc": raw})
    with pytest.raises(CaseValidationError) as info:
        load_case(data)
    assert f"check: {check}" in str(info.value)
    assert "enterprise.uscc" in str(info.value)


_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


@given(
    st.text(alphabet="0123456789", min_size=6, max_size=6),
    st.text(alphabet=_ALPHABET, min_size=9, max_size=9),
)
def test_any_code_with_a_computed_check_character_validates(region: str, org: str) -> None:
    body = "91" + region + org
    try:
        code = body + stdnum_uscc.calc_check_digit(body)
        stdnum_uscc.validate(code)
    except Exception:
        return  # stdnum also checks the organisation-code part; skip bodies it rejects
    assert validate_uscc(code.lower()) == code
    assert normalise_uscc(" " + code.lower() + " ") == code


def test_phone_masked_when_shown_but_kept_for_storage() -> None:
    case = load_case(dict(MINIMAL, requester={"name": "张", "phone": "13812345678"}))
    shown = json.loads(case.model_dump_json())
    assert shown["requester"]["phone"] == "138****5678"
    assert "13812345678" not in repr(case)
    stored = case.model_dump(mode="json", context={"unmasked": True})
    assert stored["requester"]["phone"] == "13812345678"


@given(st.text(alphabet="0123456789", min_size=7, max_size=15))
def test_mask_keeps_only_prefix_and_suffix(digits: str) -> None:
    masked = mask_phone(digits)
    assert masked[:3] == digits[:3] and masked[-4:] == digits[-4:]
    assert len(masked) == len(digits)
    assert masked.count("*") == len(digits) - 7


def test_every_enum_has_a_chinese_label() -> None:
    for enum in (AppealType, Channel, CaseStatus, OpinionResult, Satisfaction):
        for member in enum:
            assert member.label and member.label != ""
    assert AppealType.CONSULT.label == "咨询"
    assert Satisfaction.VERY_DISSATISFIED.is_negative


def test_two_lead_departments_are_rejected() -> None:
    data = dict(MINIMAL, departments=[{"id": "a", "role": "lead"}, {"id": "b", "role": "lead"}])
    with pytest.raises(CaseValidationError, match="at most one lead"):
        load_case(data)


def _nested(levels: int) -> object:
    """``levels`` mappings and lists, alternating from a mapping outside, around a number."""
    value: object = 1
    for level in reversed(range(levels)):
        value = [value] if level % 2 else {"k": value}
    return value


@given(st.integers(min_value=1, max_value=60))
def test_facts_nest_at_most_32_levels_and_every_case_can_be_stored(levels: int) -> None:
    data = dict(MINIMAL, facts=_nested(levels))  # facts itself is the outermost mapping
    if levels <= 32:
        case = load_case(data)
        assert load_case(json.loads(case.model_dump_json())) == case
    else:
        with pytest.raises(CaseValidationError) as caught:
            load_case(data)
        assert str(caught.value) == (
            "invalid case: facts: facts nest lists and mappings more than 32 levels deep"
        )


def test_unknown_fields_are_rejected_with_their_name() -> None:
    with pytest.raises(CaseValidationError, match="colour"):
        load_case(dict(MINIMAL, colour="red"))


def test_json_schema_export_describes_the_case() -> None:
    from zhenshen_core import Case

    schema = Case.model_json_schema()
    assert "received_at" in schema["required"]
    assert "enterprise" in schema["properties"]
    assert datetime  # keep import used
