"""Converters of mapping profiles: the date forms 12345 platforms and workbooks write, Excel
serial numbers, numbers kept as text, yes/no flags, enumerations by code or label."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zhenshen_core.intake.profiles import CONVERTERS, ConversionError, excel_serial, text_of
from zhenshen_core.intake.profiles.converters import DateParser, enum_reader, format_problem
from zhenshen_core.model.enums import AppealType

DEFAULT = DateParser(())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026/3/4 9:05", datetime(2026, 3, 4, 9, 5)),
        ("2026年3月4日", datetime(2026, 3, 4)),
        ("2026-03-04 09:05:00", datetime(2026, 3, 4, 9, 5)),
        ("2026-3-4 9:05", datetime(2026, 3, 4, 9, 5)),
        ("2026-03-04T09:05:00+08:00", datetime.fromisoformat("2026-03-04T09:05:00+08:00")),
        ("2026年3月4日 9时5分", datetime(2026, 3, 4, 9, 5)),
        ("２０２６年３月４日", datetime(2026, 3, 4)),  # full-width digits, as typed in Chinese
        ("  2026/03/04  ", datetime(2026, 3, 4)),
        ("20260304", datetime(2026, 3, 4)),
        ("46085.375", datetime(2026, 3, 4, 9, 0)),  # an Excel serial kept as text
    ],
)
def test_default_date_formats(text: str, expected: datetime) -> None:
    assert DEFAULT(text) == expected


def test_native_and_serial_dates() -> None:
    assert DEFAULT(datetime(2026, 3, 4, 9, 5)) == datetime(2026, 3, 4, 9, 5)
    assert DEFAULT(date(2026, 3, 4)) == datetime(2026, 3, 4)
    assert DEFAULT(46085.37847222222) == datetime(2026, 3, 4, 9, 5)
    assert DEFAULT(46085) == datetime(2026, 3, 4)


def test_a_bad_date_says_what_it_read() -> None:
    with pytest.raises(ConversionError, match="'昨天' is not a date-time"):
        DEFAULT("昨天")
    with pytest.raises(ConversionError, match=r"month must be in 1\.\.12"):
        DEFAULT("2026/13/4 9:05")
    only = DateParser(["%Y年%m月%d日"])
    with pytest.raises(ConversionError, match="formats: %Y年%m月%d日"):
        only("2026/3/4")
    with pytest.raises(ConversionError, match="a number, not a date-time"):
        only(46085.0)


def test_format_problems() -> None:
    assert format_problem("%Y/%m/%d %H:%M") is None
    assert "%Q is not supported" in (format_problem("%Y %Q") or "")
    assert "needs a year" in (format_problem("%H:%M") or "")
    assert "twice" in (format_problem("%Y %Y %m %d") or "")
    assert format_problem("excel") is None and format_problem("iso") is None


@given(st.datetimes(min_value=datetime(1901, 1, 1), max_value=datetime(9998, 12, 31)))
def test_formats_read_what_strftime_writes(moment: datetime) -> None:
    moment = moment.replace(microsecond=0)
    for fmt in ("%Y/%m/%d %H:%M:%S", "%Y年%m月%d日 %H时%M分%S秒", "%Y-%m-%d %H:%M:%S"):
        text = moment.strftime(fmt)
        assert DateParser([fmt])(text) == moment, text
        assert DEFAULT(text) == moment, text


@given(st.floats(min_value=61, max_value=2958465, allow_nan=False))
def test_excel_serial_counts_days_from_1899_12_30(serial: float) -> None:
    expected = datetime(1899, 12, 30) + timedelta(seconds=round(serial * 86400))
    assert excel_serial(serial) == expected


def test_excel_serial_edges() -> None:
    assert excel_serial(1) == datetime(1900, 1, 1)
    assert excel_serial(59) == datetime(1900, 2, 28)
    assert excel_serial(61) == datetime(1900, 3, 1)
    with pytest.raises(ConversionError, match="1900-02-29"):
        excel_serial(60)
    with pytest.raises(ConversionError):
        excel_serial(0)


def test_numbers_kept_as_text() -> None:
    number = CONVERTERS["number"].build(None)
    assert number("1,234.5") == 1234.5
    assert number("１２３") == 123 and isinstance(number("７"), int)
    assert number(7.0) == 7 and isinstance(number(7.0), int)
    with pytest.raises(ConversionError, match="not a number"):
        number("十二")
    integer = CONVERTERS["integer"].build(None)
    with pytest.raises(ConversionError, match="whole number"):
        integer("1.5")


def test_text_of_a_workbook_number_drops_the_point() -> None:
    assert text_of(13800001234.0) == "13800001234"
    assert text_of(1.5) == "1.5"
    assert text_of(True) == "是"
    assert text_of(date(2026, 3, 4)) == "2026-03-04"


def test_flags_codes_and_labels() -> None:
    flag = CONVERTERS["flag"].build(None)
    assert [flag(v) for v in ("是", "否", "Y", "n", 1, "TRUE", "√")] == [
        True,
        False,
        True,
        False,
        True,
        True,
        True,
    ]
    with pytest.raises(ConversionError, match="not a yes/no value"):
        flag("也许")
    own = CONVERTERS["flag"].build({"yes": ["保密"], "no": ["公开"]})
    assert own("保密") is True and own("公开") is False
    appeal = enum_reader(AppealType.choices())
    assert [appeal(v) for v in ("投诉", "complaint", "COMPLAINT", "建议")] == [
        "complaint",
        "complaint",
        "complaint",
        "suggestion",
    ]
    with pytest.raises(ConversionError, match="咨询 \\(consult\\)"):
        appeal("吐槽")


def test_map_split_phone_zfill() -> None:
    table = CONVERTERS["map"].build({"来电": "hotline_12345", "*": "api"})
    assert table("来电") == "hotline_12345" and table("其他") == "api"
    strict = CONVERTERS["map"].build({"来电": "hotline_12345"})
    with pytest.raises(ConversionError, match="not in the map"):
        strict("网站")
    split = CONVERTERS["split"].build(None)
    assert split("a；b, c、 d") == ["a", "b", "c", "d"]
    phone = CONVERTERS["phone"].build(None)
    assert phone("138 0000-1234") == "13800001234"
    assert phone(13800001234.0) == "13800001234"
    assert phone("138****1234") is None  # a masked number holds none
    with pytest.raises(ConversionError):
        phone("转分机")
    assert CONVERTERS["zfill"].build(4)(301.0) == "0301"
