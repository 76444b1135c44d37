"""A letter is checked before it renders: names, dates, measures, expert advice (issue 13)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from zhenshen_core.desk import Desk
from zhenshen_core.desk.letters import (
    LetterCheckError,
    Names,
    letter_context,
    letter_problems,
    period_in,
    render_letter,
    resolve_measures,
)
from zhenshen_core.desk.letters.measures import chinese_number
from zhenshen_core.errors import GuardError
from zhenshen_core.model import load_case
from zhenshen_core.model.case import SHANGHAI
from zhenshen_core.model.lifecycle import Lifecycle
from zhenshen_core.rules import ResolvedPack, load_pack
from zhenshen_core.storage import SQLiteStore

ROOT = Path(__file__).resolve().parents[3]
REFERENCE_PACK = ROOT / "plugins/zhenshen-chengdu-gaoxin/src/zhenshen_chengdu_gaoxin/pack"
WORK_ORDER: dict[str, Any] = {
    "external_id": "GX20200506-000042",
    "channel": "hotline_12345",
    "received_at": "2020-05-06T09:30:00+08:00",
    "appeal_type": "help",
    "title": "报规报建缺少权属证明",
    "content": "厂房为早年取得，土地证因历史遗留问题未能换发，办理报规报建时无法提供权属证明。",
    "domain": "planning_title_proof",
    "enterprise": {"name": "成都睿澜科技有限公司", "uscc": "91510100MA68NDJH6X"},
}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.fixture(scope="module")
def pack() -> ResolvedPack:
    return load_pack(REFERENCE_PACK)


@pytest.fixture
def desk(tmp_path: Path, pack: ResolvedPack) -> Desk:
    return Desk(SQLiteStore(str(tmp_path / "d.db")), pack=pack, now=lambda: at("2020-05-06T10:00"))


def _through_meeting(desk: Desk) -> str:
    """Receive the land-title case (the pack requires a lawyer) and hold its meeting 5-14."""
    case = desk.receive(WORK_ORDER)
    assert [e.kind for e in case.experts if e.required] == ["lawyer"]
    desk.screen(case.id, at=at("2020-05-06T11:00"))
    desk.schedule_meeting(case.id, at("2020-05-14T09:00"), at=at("2020-05-07T10:00"))
    desk.hold_meeting(case.id, at("2020-05-14T10:00"))
    return case.id


def test_attendees_and_experts_are_named_as_the_pack_names_them(desk: Desk) -> None:
    case_id = _through_meeting(desk)
    assert "expert:lawyer" in desk.get(case_id).meetings[0].attendees  # ids stay in the event
    advice = "可依据原出让合同出具权属说明。"
    desk.record_expert_advice(case_id, "lawyer", advice, name="李律师", at=at("2020-05-14T11:00"))
    desk.issue_opinion(
        case_id,
        result="supported",
        reasons="权属证明缺失系历史原因所致。",
        measures=["规划和自然资源局5个工作日内出具权属说明"],
        at=at("2020-05-15T16:00"),
    )
    letter = desk.render_letter(case_id).decode()
    line = next(x for x in letter.splitlines() if "参会单位及人员" in x)
    assert line.endswith("、律师") and "expert:" not in letter and "gxq." not in letter
    # the lawyer's advice, not the rule's reason for calling the lawyer
    assert "专家意见（律师，李律师）：可依据原出让合同出具权属说明。" in letter
    reason = desk.get(case_id).experts[0].reason
    assert reason and reason not in letter


def test_a_required_expert_without_advice_stops_the_letter(desk: Desk) -> None:
    case_id = _through_meeting(desk)
    desk.issue_opinion(
        case_id,
        result="supported",
        reasons="理由",
        measures=["规划和自然资源局5个工作日内出具权属说明"],
        at=at("2020-05-15T16:00"),
    )
    with pytest.raises(LetterCheckError, match=r"律师 \(lawyer\) the rules required has given no"):
        desk.render_letter(case_id)


def test_advice_is_a_replayable_bookkeeping_event_and_survives_a_new_decision(
    desk: Desk,
) -> None:
    case_id = _through_meeting(desk)
    desk.record_expert_advice(case_id, "lawyer", "第一稿", at=at("2020-05-14T11:00"))
    case = desk.record_expert_advice(
        case_id, "lawyer", "定稿意见", name="李律师", at=at("2020-05-14T12:00")
    )
    case = desk.decide(case_id)  # the rules run again (e.g. after a 退单): advice is kept
    [lawyer] = [e for e in case.experts if e.kind == "lawyer"]
    assert (lawyer.advice, lawyer.name, lawyer.required) == ("定稿意见", "李律师", True)
    assert lawyer.advised_at == at("2020-05-14T12:00")
    events = desk.store.events(case_id)
    assert [e.type for e in events].count("record_expert_advice") == 2
    assert Lifecycle().replay(events) == desk.get(case_id)


def test_an_opinion_dated_before_its_meeting_is_refused(desk: Desk) -> None:
    case_id = _through_meeting(desk)
    before = desk.get(case_id)
    with pytest.raises(GuardError, match="before the joint review meeting"):
        desk.issue_opinion(case_id, result="supported", reasons="理由", at=at("2020-05-12T16:00"))
    assert desk.get(case_id) == before  # nothing stored


def test_a_letter_dated_before_an_event_it_cites_is_refused(desk: Desk) -> None:
    case_id = _through_meeting(desk)
    desk.record_expert_advice(case_id, "lawyer", "意见", at=at("2020-05-14T11:00"))
    desk.issue_opinion(
        case_id,
        result="supported",
        reasons="理由",
        measures=["规划和自然资源局5个工作日内出具权属说明"],
        at=at("2020-05-15T16:00"),
    )
    case = desk.get(case_id)
    with pytest.raises(LetterCheckError) as caught:
        letter_context(case, case.decision, pack=desk.pack, issued_at=at("2020-05-12T09:00"))
    assert (
        "the letter is dated 2020年5月12日 but cites the 联合甄审会议 of 2020年5月14日"
        in caught.value.problems
    )


def test_later_meetings_are_not_part_of_the_letter(desk: Desk) -> None:
    """The leading group confirms the opinion after it is dated: the letter does not cite it."""
    case_id = _through_meeting(desk)
    desk.record_expert_advice(case_id, "lawyer", "意见", at=at("2020-05-14T11:00"))
    desk.issue_opinion(
        case_id,
        result="supported",
        reasons="理由",
        measures=["规划和自然资源局5个工作日内出具权属说明"],
        at=at("2020-05-15T16:00"),
    )
    desk.confirm(case_id, at("2020-05-19T10:00"))
    letter = desk.render_letter(case_id).decode()
    assert "领导小组会议" not in letter and "2020年5月19日" not in letter
    assert "2020年5月14日召开联合甄审会议" in letter


def test_a_measure_in_text_goes_to_the_department_it_names_with_its_due_day(desk: Desk) -> None:
    case_id = _through_meeting(desk)
    desk.record_expert_advice(case_id, "lawyer", "意见", at=at("2020-05-14T11:00"))
    case = desk.issue_opinion(
        case_id,
        result="supported",
        reasons="理由",
        measures=[
            "公园城市建设局5个工作日内出具项目规划意见",
            {"description": "出具权属说明", "department": "规划和自然资源局", "due": "2020-06-01"},
            {"description": "跟踪办理", "department": "gxq.gsj", "period": "1 month"},
        ],
        at=at("2020-05-15T16:00"),
    )
    assert case.lead_department == "gxq.gtj"  # not the department of the first measure
    assert case.opinion is not None
    stored = [(m.department, m.period, m.due) for m in case.opinion.measures]
    assert stored == [
        ("gxq.gycsjsj", "5 working days", date(2020, 5, 22)),
        ("gxq.gtj", None, date(2020, 6, 1)),
        ("gxq.scjgj", "1 month", date(2020, 6, 15)),  # an old id, resolved; 6-15 is a Monday
    ]
    letter = desk.render_letter(case_id).decode()
    row = "| 1 | 公园城市建设局5个工作日内出具项目规划意见 | 公园城市建设局 | 2020年5月22日 |"
    assert row in letter


@pytest.mark.parametrize(
    ("measure", "problem"),
    [
        ("5个工作日内出具权属说明", "names no department of the pack"),
        ("规划和自然资源局出具权属说明", "states no period or due day"),
        ({"description": "x", "department": "gxq.nope", "period": "5 working days"}, "gxq.nope"),
        ({"description": "x", "department": "gxq.gtj", "period": "5 fortnights"}, "5 fortnights"),
        ({"description": "x", "department": "gxq.gtj", "due": "2020-05-01"}, "before the"),
        ({"description": "x", "owner": "gxq.gtj"}, "unknown key(s) ['owner']"),
    ],
)
def test_an_incomplete_measure_is_refused_before_anything_is_stored(
    desk: Desk, measure: Any, problem: str
) -> None:
    case_id = _through_meeting(desk)
    desk.record_expert_advice(case_id, "lawyer", "意见", at=at("2020-05-14T11:00"))
    version = desk.get(case_id).version
    with pytest.raises(GuardError, match="measure 1") as caught:
        desk.issue_opinion(
            case_id, result="supported", reasons="理由", measures=[measure],
            at=at("2020-05-15T16:00"),
        )
    assert problem in str(caught.value)
    assert desk.get(case_id).version == version


def test_every_problem_is_listed_at_once(pack: ResolvedPack) -> None:
    case = load_case(
        {
            **WORK_ORDER,
            "domain": "no_such_domain",
            "departments": [{"id": "gxq.gtj", "role": "lead"}, {"id": "gxq.x", "role": "co"}],
            "experts": [{"kind": "lawyer", "reason": "土地权属需法律意见"}],
            "meetings": [
                {
                    "id": "M1",
                    "kind": "joint_review",
                    "scheduled_at": "2020-05-14T09:00:00+08:00",
                    "held_at": "2020-05-14T10:00:00+08:00",
                    "attendees": ["gxq.gtj", "expert:oracle"],
                }
            ],
            "opinion": {
                "result": "supported",
                "reasons": "理由",
                "measures": ["出具权属说明"],
                "issued_at": "2020-05-15T10:00:00+08:00",
            },
        }
    )
    context = letter_context(case, None, pack=pack, check=False)
    problems = letter_problems(context)
    assert problems == [
        "the co-department 'gxq.x' has no display name in the pack",
        "attendee 'expert:oracle' of the 联合甄审会议 has no display name in the pack "
        "(departments, experts)",
        "domain 'no_such_domain' has no display name in the pack",
        "the 律师 (lawyer) the rules required has given no advice on record; record it "
        "(Desk.record_expert_advice, event record_expert_advice) before the letter is issued",
        "measure 1 '出具权属说明' has no department",
        "measure 1 '出具权属说明' has no due day (state a period such as 5个工作日内, or give "
        "period/due)",
    ]
    with pytest.raises(LetterCheckError) as caught:
        render_letter(context)  # a context built without the check is checked on rendering
    assert caught.value.problems == problems


def test_cli_letter_exits_1_naming_the_problems(tmp_path: Path, pack: ResolvedPack) -> None:
    from zhenshen_core.cli.main import build_cli

    db = tmp_path / "d.db"
    desk = Desk(SQLiteStore(str(db)), pack=pack, now=lambda: at("2020-05-06T10:00"))
    case_id = _through_meeting(desk)
    desk.issue_opinion(
        case_id,
        result="supported",
        reasons="理由",
        measures=["规划和自然资源局5个工作日内出具权属说明"],
        at=at("2020-05-15T16:00"),
    )
    desk.close()
    result = CliRunner().invoke(
        build_cli(),
        ["letter", case_id, "--store", f"sqlite:///{db}", "--pack", str(REFERENCE_PACK)],
    )
    assert result.exit_code == 1, result.output
    assert "not fit to sign" in result.stderr and "律师 (lawyer)" in result.stderr
    assert result.stdout == ""


CN = "零一二三四五六七八九"


def _chinese(n: int) -> str:
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else CN[tens] + "十")
    return head + (CN[ones] if ones or not head else "")


@given(st.integers(min_value=1, max_value=99), st.sampled_from(["个工作日", "日", "天", "个月"]))
def test_periods_in_text_in_arabic_or_chinese_numerals(n: int, unit: str) -> None:
    expected = {"个工作日": "working days", "日": "days", "天": "days", "个月": "months"}[unit]
    for number in (str(n), _chinese(n)):
        assert chinese_number(number) == n
        assert period_in(f"公园城市建设局{number}{unit}内出具意见") == f"{n} {expected}"
    # the day of a date is never a period
    assert period_in(f"于2020年5月{n % 28 + 1}日内完成") is None


@given(st.sampled_from(["公园城市建设局", "规划和自然资源局", "市场监管局", "人社局"]))
def test_a_department_named_in_text_is_found_wherever_it_stands(name: str) -> None:
    names = Names.build(load_pack(REFERENCE_PACK))
    [measure] = resolve_measures(
        [f"请{name}会同有关部门于2020年6月30日前办结"],
        names=names,
        issued_at=at("2020-05-15T10:00"),
        calendar=lambda: pytest.fail("a stated day needs no calendar"),
    )
    assert measure.department == names.department_id(name) and measure.due == date(2020, 6, 30)
