"""The synthetic corpus: deterministic, valid, realistic mixes, honest about escalation."""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import uscc
from zhenshen_chengdu_gaoxin.commands import corpus_group
from zhenshen_chengdu_gaoxin.corpus import (
    DOMAINS,
    ESCALATION_FEATURES,
    CorpusProfile,
    generate_cases,
    generate_labelled,
    make_uscc,
    write_jsonl,
)

from zhenshen_core.deadlines import national_calendar
from zhenshen_core.model import load_case

N = 1500


@pytest.fixture(scope="module")
def labelled() -> list[tuple[dict, frozenset[str]]]:
    return list(generate_labelled(N, seed=2020))


def test_same_seed_same_output() -> None:
    assert list(generate_cases(50, seed=7)) == list(generate_cases(50, seed=7))


def test_different_seed_different_output() -> None:
    assert list(generate_cases(20, seed=1)) != list(generate_cases(20, seed=2))


def test_global_random_state_is_untouched() -> None:
    random.seed(123)
    expected = random.random()
    random.seed(123)
    list(generate_cases(30, seed=5))
    assert random.random() == expected


def test_global_random_state_does_not_leak_in() -> None:
    random.seed(1)
    first = list(generate_cases(10, seed=9))
    random.seed(2)
    assert list(generate_cases(10, seed=9)) == first


def test_every_case_validates(labelled: list[tuple[dict, frozenset[str]]]) -> None:
    for data, _ in labelled:
        case = load_case(data)
        assert case.external_id == data["external_id"]
        assert case.title and case.content


def test_external_ids_unique(labelled: list[tuple[dict, frozenset[str]]]) -> None:
    ids = [d["external_id"] for d, _ in labelled]
    assert len(set(ids)) == len(ids)


def test_usccs_valid_and_shaped(labelled: list[tuple[dict, frozenset[str]]]) -> None:
    codes = [d["enterprise"]["uscc"] for d, _ in labelled if "uscc" in d["enterprise"]]
    assert len(codes) > 0.85 * N
    for code in codes:
        assert uscc.is_valid(code), code
        assert code[:2] == "91" and code[2:4] == "51"


@given(st.integers(min_value=0, max_value=2**32))
def test_make_uscc_always_valid(seed: int) -> None:
    code = make_uscc(random.Random(seed), "510109")
    assert uscc.is_valid(code)
    # the embedded GB 11714 organisation code carries its own check character
    body, check = code[8:16], code[16]
    total = sum(w * int(c, 36) for w, c in zip((3, 7, 9, 10, 5, 8, 4, 2), body, strict=True))
    expected = 11 - total % 11
    assert check == {10: "X", 11: "0"}.get(expected, str(expected))


def test_arrivals_sorted_in_range_and_mostly_on_working_days(
    labelled: list[tuple[dict, frozenset[str]]],
) -> None:
    calendar = national_calendar()
    times = [datetime.fromisoformat(d["received_at"]) for d, _ in labelled]
    assert times == sorted(times)
    assert all(date(2020, 1, 2) <= t.date() <= date(2020, 12, 31) for t in times)
    assert all(
        t.utcoffset() is not None and t.utcoffset().total_seconds() == 8 * 3600 for t in times
    )
    working = sum(calendar.is_working_day(t.date()) for t in times)
    assert working / len(times) > 0.9
    office = sum(9 <= t.hour < 18 for t in times)
    assert office / len(times) > 0.75


def test_makeup_working_days_get_cases() -> None:
    # 2020-09-27 (Sunday) was a 调休 working day; 2020-10-03 (Saturday) a holiday.
    cases = list(generate_cases(400, seed=3, start=date(2020, 9, 26), end=date(2020, 10, 4)))
    days = Counter(datetime.fromisoformat(c["received_at"]).date() for c in cases)
    assert days[date(2020, 9, 27)] > 3 * max(days[date(2020, 10, 3)], 1)


def test_dates_beyond_calendar_fall_back_to_weekdays() -> None:
    cases = list(generate_cases(200, seed=4, start=date(2031, 3, 1), end=date(2031, 3, 31)))
    weekdays = sum(datetime.fromisoformat(c["received_at"]).weekday() < 5 for c in cases)
    assert weekdays / len(cases) > 0.9


def test_mixes(labelled: list[tuple[dict, frozenset[str]]]) -> None:
    channels = Counter(d["channel"] for d, _ in labelled)
    appeals = Counter(d["appeal_type"] for d, _ in labelled)
    domains = Counter(d["domain"] for d, _ in labelled)
    assert channels.most_common(1)[0][0] == "hotline_12345"
    assert {"web", "app", "service_officer", "hall_window"} <= set(channels)
    assert set(appeals) == {"consult", "help", "complaint", "suggestion", "report", "praise"}
    assert set(domains) == {d.id for d in DOMAINS}
    anonymous = sum(d["requester"]["anonymous"] for d, _ in labelled)
    assert 0.15 < anonymous / N < 0.35
    sizes = Counter(d["enterprise"]["size"] for d, _ in labelled)
    assert {"micro", "small", "medium", "large"} <= set(sizes)
    tagged = sum(bool(d["enterprise"]["tags"]) for d, _ in labelled)
    assert tagged > 0.3 * N


def test_escalated_fraction(labelled: list[tuple[dict, frozenset[str]]]) -> None:
    escalated = [f for _, f in labelled if f]
    assert 0.05 <= len(escalated) / N <= 0.10
    seen = Counter(x for f in escalated for x in f)
    assert set(seen) == set(ESCALATION_FEATURES)


def test_planted_features_are_visible_and_absent_otherwise(
    labelled: list[tuple[dict, frozenset[str]]],
) -> None:
    for data, features in labelled:
        facts = data["facts"]
        several = len(data["departments"]) >= 2
        assert several == ("cross_department" in features)
        assert (facts["prior_contacts"] >= 2) == ("repeated_contact" in features)
        assert (facts["returns_between_departments"] >= 2) == ("returned_twice" in features)
        assert (facts.get("amount_wan", 0) >= 500) == ("large_amount" in features)
        cannot = any(w in data["content"] for w in ("无法经营", "停业"))
        assert cannot == ("cannot_operate" in features)
        risky = any(w in data["content"] for w in ("上访", "工资发放", "媒体曝光"))
        assert risky == ("social_risk" in features)


def test_construction_permits_carry_low_risk_flag(
    labelled: list[tuple[dict, frozenset[str]]],
) -> None:
    permits = [d for d, _ in labelled if d["domain"] == "construction_permit"]
    flags = Counter(d["facts"]["low_risk_small_project"] for d in permits)
    assert flags[True] > 0 and flags[False] > 0


def test_no_real_looking_phone_numbers(labelled: list[tuple[dict, frozenset[str]]]) -> None:
    for data, _ in labelled:
        phone = data["requester"].get("phone")
        if phone:
            assert phone[3:7] == "0000" and len(phone) == 11


def test_profile_is_validated() -> None:
    with pytest.raises(ValueError, match="unknown domains"):
        CorpusProfile(domains=(("nope", 1.0),))
    with pytest.raises(ValueError, match="escalation_rate"):
        CorpusProfile(escalation_rate=1.5)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="before start"):
        list(generate_cases(1, start=date(2020, 2, 1), end=date(2020, 1, 1)))
    with pytest.raises(ValueError, match="negative"):
        list(generate_cases(-1))


def test_write_jsonl_and_cli_agree(tmp_path: Path) -> None:
    lib = tmp_path / "lib.jsonl"
    assert write_jsonl(lib, 25, seed=11) == 25
    out = tmp_path / "cli.jsonl"
    result = CliRunner().invoke(corpus_group, ["generate", "25", "--seed", "11", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == lib.read_bytes()
    stdout = CliRunner().invoke(corpus_group, ["generate", "3", "--seed", "11"])
    lines = stdout.output.splitlines()
    assert [json.loads(x) for x in lines] == list(generate_cases(3, seed=11))


def test_cli_usage_errors() -> None:
    runner = CliRunner()
    bad_date = runner.invoke(corpus_group, ["generate", "3", "--start", "2020-13-01"])
    assert bad_date.exit_code == 2 and "not a date" in bad_date.output
    reversed_range = runner.invoke(
        corpus_group, ["generate", "3", "--start", "2020-05-01", "--end", "2020-04-01"]
    )
    assert reversed_range.exit_code == 2 and "before" in reversed_range.output
    negative = runner.invoke(corpus_group, ["generate", "-5"])
    assert negative.exit_code == 2


def test_sample_file_is_current() -> None:
    sample = Path(__file__).resolve().parents[3] / "examples" / "corpus" / "sample-200.jsonl"
    lines = sample.read_text(encoding="utf-8").splitlines()
    assert [json.loads(x) for x in lines] == list(generate_cases(200, seed=2020))


@given(
    seed=st.integers(min_value=0, max_value=2**31),
    start=st.dates(min_value=date(2015, 1, 1), max_value=date(2032, 12, 31)),
    days=st.integers(min_value=0, max_value=60),
    n=st.integers(min_value=0, max_value=8),
)
def test_any_seed_and_range_gives_valid_cases_in_range(
    seed: int, start: date, days: int, n: int
) -> None:
    end = start + timedelta(days=days)
    cases = list(generate_cases(n, seed=seed, start=start, end=end))
    assert len(cases) == n
    for data in cases:
        case = load_case(data)
        assert start <= case.received_at.date() <= end
        assert case.enterprise is not None
        if case.enterprise.uscc:
            assert uscc.is_valid(case.enterprise.uscc)
    assert list(generate_cases(n, seed=seed, start=start, end=end)) == cases
