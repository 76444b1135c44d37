"""Mapping records with a compiled profile: fields, joins, defaults, the classification
table, every problem of a record at once, and the trace ``--dry-run`` shows."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zhenshen_core.errors import CaseValidationError
from zhenshen_core.intake.profiles import MappingError, ProfileError, load_profile
from zhenshen_core.model.lifecycle import load_case

from .conftest import ROW


def test_a_work_order_becomes_a_case(profile_file: Path, pack: Any) -> None:
    profile = load_profile(profile_file, pack=pack, channel="hotline_12345")
    draft = profile.map(ROW)
    case = load_case(draft)
    assert case.external_id == "GD001" and case.channel.value == "hotline_12345"
    assert case.received_at.isoformat() == "2026-03-04T09:05:00+08:00"
    assert case.appeal_type.value == "complaint"
    assert case.content == "已取得执照但无法经营\n补充"
    assert case.requester is not None and case.requester.confidential is True
    assert case.model_dump(context={"unmasked": True})["requester"]["phone"] == "13800001234"
    assert case.location is not None and case.location.district == "高新区"  # the default
    assert case.facts == {"amount_wan": 1234.5, "category_code": "010203"}
    # the longest code of the table starting the record's code: 0102, not 01
    assert case.domain == "policy_redemption"
    assert [(d.id, d.role.value) for d in case.departments] == [
        ("gxq.jfj", "lead"),
        ("gxq.czj", "co"),
    ]
    assert case.tags == ["政策兑现"]


def test_classification_fills_only_what_fields_left_empty(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "profile: 1\nfields:\n  received_at: {from: 时间}\n  domain: {from: 领域}\n"
        "classification:\n  from: 代码\n  match: exact\n  unknown: reject\n"
        '  codes: {"01": {domain: financing, lead: gxq.czj}}\n',
        encoding="utf-8",
    )
    profile = load_profile(path)
    kept = profile.map({"时间": "2026-03-04", "领域": "credit_repair", "代码": "01"})
    assert kept["domain"] == "credit_repair" and kept["departments"][0]["id"] == "gxq.czj"
    with pytest.raises(MappingError, match="not a code of the classification table"):
        profile.map({"时间": "2026-03-04", "代码": "0101"})  # exact: no prefix
    assert "domain" not in profile.map({"时间": "2026-03-04", "代码": ""})


def test_every_problem_of_a_record_is_named(profile_file: Path) -> None:
    profile = load_profile(profile_file)
    bad = dict(ROW, 来电时间="2026/13/4 9:05", 诉求类型="吐槽", 工单编号="  ", 涉及金额="很多")
    with pytest.raises(MappingError) as raised:
        profile.map(bad)
    fields = [p.field for p in raised.value.problems]
    assert fields == ["external_id", "received_at", "appeal_type", "facts.amount_wan"]
    text = str(raised.value)
    assert "工单编号 → external_id: is empty and the field is required" in text
    assert "来电时间 → received_at: '2026/13/4 9:05': month must be in 1..12" in text
    assert "'吐槽' is not one of 咨询 (consult)" in text


def test_an_empty_optional_column_leaves_the_model_default(profile_file: Path) -> None:
    profile = load_profile(profile_file)
    draft = profile.map({"工单编号": "G", "来电时间": "2026年3月4日", "诉求类型": ""})
    assert draft["appeal_type"] == "help"  # the profile's default
    assert "requester" not in draft and "title" not in draft


def test_header_names_forgive_blanks_and_width(profile_file: Path) -> None:
    profile = load_profile(profile_file)
    header = ["工单 编号", "来电时间\n", "ＸＹ", "诉求类型"]
    assert profile.header_names(header) == ["工单编号", "来电时间", "ＸＹ", "诉求类型"]
    assert profile.header_score(header) == 3
    assert profile.missing_columns(["工单编号"]) == ["来电时间"]


def test_trace_shows_each_field_with_its_source(profile_file: Path) -> None:
    profile = load_profile(profile_file, channel="hotline_12345")
    traces = {t.field: t for t in profile.trace(dict(ROW, 诉求类型="吐槽"))}
    assert traces["channel"].value == "hotline_12345" and traces["channel"].source == ""
    assert traces["content"].source == "诉求内容 + 补充说明"
    assert traces["appeal_type"].problem is not None and "吐槽" in traces["appeal_type"].problem
    assert traces["domain"].source == "诉求分类代码 (classification)"
    assert traces["facts.category_code"].value == "010203"


def test_a_broken_profile_is_refused_with_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("profile: 1\nfields:\n  recieved_at: {from: 时间}\n", encoding="utf-8")
    with pytest.raises(ProfileError) as raised:
        load_profile(path)
    assert [d.code for d in raised.value.diagnostics] == ["M501"]
    assert "bad.yaml:3:3: M501 unknown case field 'recieved_at'" in str(raised.value)


CELLS = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.integers(-(10**6), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dates(),
    st.datetimes(),
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(list(ROW)), CELLS))
def test_any_row_maps_or_is_rejected_with_a_reason(row: dict[str, Any]) -> None:
    """Whatever a cell holds, a record is a case draft or a MappingError; the draft is a
    case or a CaseValidationError: never another exception."""
    profile = _PROFILE
    merged = {**ROW, **row}
    try:
        draft = profile.map(merged)
    except MappingError as exc:
        assert exc.problems
        return
    with contextlib.suppress(CaseValidationError):
        load_case(draft)


def _profile() -> Any:
    import tempfile

    from .conftest import PROFILE

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "p.yaml"
        path.write_text(PROFILE, encoding="utf-8")
        return load_profile(path)


_PROFILE = _profile()
