"""The national data against its notices and against two independent libraries, day by day."""

from __future__ import annotations

from datetime import date, timedelta
from importlib import resources

import chinese_calendar
import holidays
import pytest

from zhenshen_core.deadlines import DayKind, national_calendar, parse_calendar_text

FIRST, LAST = date(2004, 1, 1), date(2026, 12, 31)

# Every day on which a library disagrees with our data, and the notice that settles it.
CHINESECALENDAR_DISAGREEMENTS = {
    date(2005, 12, 31): "国办发明电〔2005〕35号: 元旦 ... 12月31日（星期六）上班 — a working day",
}
HOLIDAYS_DISAGREEMENTS: dict[date, str] = {}


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _year_files() -> dict[int, str]:
    base = resources.files("zhenshen_core.deadlines").joinpath("data").joinpath("cn")
    return {
        int(f.name[:4]): f.read_text(encoding="utf-8")
        for f in base.iterdir()
        if f.name.endswith(".yaml") and f.name[:4].isdigit()
    }


def test_day_by_day_against_chinesecalendar() -> None:
    cal = national_calendar()
    found = {
        d for d in _days(FIRST, LAST) if chinese_calendar.is_workday(d) != cal.is_working_day(d)
    }
    assert found == set(CHINESECALENDAR_DISAGREEMENTS)
    assert cal.is_working_day(date(2005, 12, 31))


def test_day_by_day_against_holidays_2004_to_2026() -> None:
    cal = national_calendar()
    cn = holidays.country_holidays("CN", years=range(2004, 2027))
    found = {d for d in _days(FIRST, LAST) if cn.is_working_day(d) != cal.is_working_day(d)}
    assert found == set(HOLIDAYS_DISAGREEMENTS)


def test_make_up_days_against_holidays_weekend_workdays_2015_to_2026() -> None:
    cal = national_calendar()
    cn = holidays.country_holidays("CN", years=range(2015, 2027))
    ours = {d for d in _days(date(2015, 1, 1), LAST) if d.weekday() >= 5 and cal.is_working_day(d)}
    theirs = {d for d in cn.weekend_workdays if date(2015, 1, 1) <= d <= LAST}
    assert ours == theirs


def test_one_file_per_notice_year_with_notice_numbers() -> None:
    files = _year_files()
    assert sorted(files) == list(range(2004, 2027))
    for year, text in files.items():
        layer = parse_calendar_text(text, f"{year}.yaml")
        assert layer.year == year
        assert layer.notices and all("〔" in n.id and n.id.endswith("号") for n in layer.notices)
        declared = {n.id for n in layer.notices}
        for entry in layer.days:
            assert entry.notice in declared, (year, entry)
            if entry.kind is DayKind.WORK:
                assert entry.day.weekday() >= 5, f"make-up day {entry.day} is not a weekend day"


def test_cross_year_days_belong_to_next_years_notice() -> None:
    files = _year_files()
    y2019 = parse_calendar_text(files[2019], "2019.yaml")
    assert date(2018, 12, 29) in {e.day for e in y2019.days if e.kind is DayKind.WORK}
    y2006 = parse_calendar_text(files[2006], "2006.yaml")
    assert date(2005, 12, 31) in {e.day for e in y2006.days if e.kind is DayKind.WORK}


@pytest.mark.parametrize(
    ("day", "working", "notice"),
    [
        (date(2019, 5, 2), False, "国办发明电〔2019〕3号"),  # Labour Day change, 2019-03
        (date(2019, 4, 28), True, "国办发明电〔2019〕3号"),
        (date(2019, 5, 5), True, "国办发明电〔2019〕3号"),
        (date(2020, 1, 31), False, "国办发明电〔2020〕1号"),  # Spring Festival extension
        (date(2020, 2, 1), False, "国办发明电〔2020〕1号"),  # no longer a make-up Saturday
        (date(2020, 2, 2), False, "国办发明电〔2020〕1号"),
        (date(2015, 9, 3), False, "国发明电〔2015〕1号"),
        (date(2015, 9, 6), True, "国发明电〔2015〕1号"),
        (date(2026, 2, 14), True, "国办发明电〔2025〕7号"),
        (date(2026, 2, 23), False, "国办发明电〔2025〕7号"),
        (date(2026, 2, 28), True, "国办发明电〔2025〕7号"),
        (date(2026, 9, 20), True, "国办发明电〔2025〕7号"),
        (date(2026, 10, 10), True, "国办发明电〔2025〕7号"),
    ],
)
def test_amendments_and_2026(day: date, working: bool, notice: str) -> None:
    info = national_calendar().day_info(day)
    assert info.working is working
    assert info.notice == notice


def test_version_is_a_content_hash() -> None:
    cal = national_calendar()
    assert len(cal.version) == 64
    assert cal.version == national_calendar("strict").version
    assert national_calendar("provisional").version != cal.version
