"""Converters: what a profile does to a source value on its way to a case field.

Each converter named in a profile is built once, when the profile is compiled, into a plain
function ``value -> value`` that raises :class:`ConversionError` (a ``ValueError``) with a
message for district staff. Date formats are compiled into regular expressions instead of
trying ``datetime.strptime`` format after format on every record (3-8x slower, see
``benchmarks/bench_profiles.py``). The table :data:`CONVERTERS` documents every converter; the
profile reference is generated from it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from zhenshen_core.intake.profiles.targets import Kind

Convert = Callable[[Any], Any]

#: Whitespace a cell may be padded with, full-width space and zero-width characters included.
BLANKS = " \t\r\n\u3000\u00a0\u200b\ufeff"


class ConversionError(ValueError):
    """A value a converter cannot turn into what the field needs; the message says why."""


# --- text -------------------------------------------------------------------------------------


def text_of(value: Any) -> str:
    """A cell as text: ``13800001234.0`` (how Excel keeps a number) is ``13800001234``."""
    kind = type(value)
    if kind is str:
        return value  # type: ignore[no-any-return]
    if kind is float:
        return str(int(value)) if value.is_integer() else repr(value)
    if kind is bool:
        return "是" if value else "否"
    if kind is int:
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def _trim(chars: str | None) -> Convert:
    strip = BLANKS + (chars or "")

    def trim(value: Any) -> str:
        return text_of(value).strip(strip)

    return trim


def _upper(value: Any) -> str:
    return text_of(value).upper()


def _lower(value: Any) -> str:
    return text_of(value).lower()


_PHONE_DROP = str.maketrans("", "", " -()（）\u3000")


def _phone(value: Any) -> str | None:
    """Digits (and a leading +) of a phone number; a masked one (``138****1234``) is none."""
    text = text_of(value).translate(_PHONE_DROP)
    if "*" in text:
        return None
    text = unicodedata.normalize("NFKC", text) if not text.isascii() else text
    if not text or not (text.isdigit() or (text[0] == "+" and text[1:].isdigit())):
        raise ConversionError(f"{text_of(value)!r} is not a phone number")
    return text


def _zfill(width: int) -> Convert:
    def zfill(value: Any) -> str:
        text = text_of(value)
        return text.zfill(width) if text.isdigit() else text

    return zfill


def _split(separators: str | None) -> Convert:
    seps = separators or ";；,，、|\n"
    pattern = re.compile("[" + re.escape(seps) + "]")

    def split(value: Any) -> list[str]:
        if isinstance(value, list):
            return [text_of(v).strip(BLANKS) for v in value if text_of(v).strip(BLANKS)]
        return [p.strip(BLANKS) for p in pattern.split(text_of(value)) if p.strip(BLANKS)]

    return split


# --- numbers ----------------------------------------------------------------------------------

_NUMBER_DROP = str.maketrans("", "", ", _\u3000")


def _number(value: Any) -> int | float:
    """A number, also from text (``"1,234.5"``, full-width digits); integral ones are ints."""
    kind = type(value)
    if kind is int:
        return int(value)
    if kind is float:
        return int(value) if value.is_integer() else float(value)
    if kind is bool:
        raise ConversionError(f"{text_of(value)!r} is a yes/no value, not a number")
    text = text_of(value).translate(_NUMBER_DROP)
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text).translate(_NUMBER_DROP)
    try:
        number = float(text)
    except ValueError:
        raise ConversionError(f"{text_of(value)!r} is not a number") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise ConversionError(f"{text_of(value)!r} is not a number")
    return int(number) if number.is_integer() and "e" not in text.lower() else number


def _integer(value: Any) -> int:
    number = _number(value)
    if isinstance(number, float):
        raise ConversionError(f"{text_of(value)!r} is not a whole number")
    return number


# --- dates ------------------------------------------------------------------------------------

#: What a format directive matches. A space in a format matches any run of blanks.
_DIRECTIVES = {
    "Y": r"(?P<Y>\d{4})",
    "y": r"(?P<y>\d{2})",
    "m": r"(?P<m>\d{1,2})",
    "d": r"(?P<d>\d{1,2})",
    "H": r"(?P<H>\d{1,2})",
    "M": r"(?P<M>\d{1,2})",
    "S": r"(?P<S>\d{1,2})",
    "f": r"(?P<f>\d{1,6})",
}

#: Names that stand for more than one format.
ISO = "iso"
EXCEL = "excel"

#: The formats a date or date-time field reads when the profile names none: ISO 8601, the
#: slash and 年月日 forms 12345 platforms export, compact digits, and Excel serial numbers.
DEFAULT_FORMATS: tuple[str, ...] = (
    ISO,
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日 %H时%M分%S秒",
    "%Y年%m月%d日 %H时%M分",
    "%Y年%m月%d日%H:%M",
    "%Y年%m月%d日",
    "%Y.%m.%d %H:%M",
    "%Y.%m.%d",
    "%Y%m%d%H%M%S",
    "%Y%m%d",
    EXCEL,
)

_EXCEL_EPOCH = datetime(1899, 12, 30)
_EXCEL_MAX = 2958465.99999  # 9999-12-31 23:59:59
_SERIAL = re.compile(r"\d{1,7}(?:\.\d+)?\Z")
_WIDE = re.compile("[０-９：／－．　]")


def format_problem(fmt: str) -> str | None:
    """Why ``fmt`` cannot be a date format, or None; used when a profile is checked."""
    if fmt in (ISO, EXCEL):
        return None
    try:
        _, names = _format_regex(fmt)
    except ValueError as exc:
        return str(exc)
    if not ({"Y", "y"} & names and "m" in names and "d" in names):
        return f"date format {fmt!r} needs a year (%Y or %y), a month (%m) and a day (%d)"
    return None


def _format_regex(fmt: str) -> tuple[re.Pattern[str], set[str]]:
    parts: list[str] = []
    names: set[str] = set()
    i = 0
    while i < len(fmt):
        ch = fmt[i]
        if ch == "%":
            if i + 1 >= len(fmt):
                raise ValueError(f"date format {fmt!r} ends with a lone %")
            directive = fmt[i + 1]
            if directive == "%":
                parts.append("%")
            elif directive in _DIRECTIVES:
                if directive in names:
                    raise ValueError(f"date format {fmt!r} has %{directive} twice")
                names.add(directive)
                parts.append(_DIRECTIVES[directive])
            else:
                known = " ".join(f"%{d}" for d in _DIRECTIVES)
                raise ValueError(
                    f"date format {fmt!r}: %{directive} is not supported (known: {known} %%)"
                )
            i += 2
            continue
        if ch in BLANKS:
            while i < len(fmt) and fmt[i] in BLANKS:
                i += 1
            parts.append(r"\s+")
            continue
        parts.append(re.escape(ch))
        i += 1
    return re.compile("".join(parts)), names


def _from_groups(groups: Mapping[str, str | None]) -> datetime:
    year = groups.get("Y")
    short = groups.get("y")
    fraction = groups.get("f")
    return datetime(
        int(year) if year else 2000 + int(short or 0),
        int(groups["m"] or 1),
        int(groups["d"] or 1),
        int(groups.get("H") or 0),
        int(groups.get("M") or 0),
        int(groups.get("S") or 0),
        int((fraction or "0").ljust(6, "0")),
    )


def excel_serial(serial: float) -> datetime:
    """An Excel serial day number (1900 date system) as a date-time, to the second."""
    if not 1 <= serial <= _EXCEL_MAX:
        raise ConversionError(f"{text_of(serial)!r} is not an Excel date serial number")
    if serial < 61:  # Excel counts 1900-02-29, which never was
        if int(serial) == 60:
            raise ConversionError("Excel serial 60 is 1900-02-29, a day that does not exist")
        serial += 1
    return _EXCEL_EPOCH + timedelta(seconds=round(serial * 86400))


class DateParser:
    """Reads date-times in the given formats (``iso``, ``excel`` or strftime-style patterns).

    Native dates pass through; the formats are tried in order on text, first the exact text,
    then, if none matched, its NFKC form (full-width digits and colons as typed in Chinese).
    """

    def __init__(self, formats: Sequence[str]) -> None:
        self.formats = tuple(formats) or DEFAULT_FORMATS
        self.iso = ISO in self.formats
        self.excel = EXCEL in self.formats
        self.patterns = [
            _format_regex(f)[0].fullmatch for f in self.formats if f not in (ISO, EXCEL)
        ]
        self.described = (
            "a date-time as 12345 platforms and workbooks write them (2026-03-04 09:05, "
            "2026/3/4 9:05, 2026年3月4日 9时5分, 20260304, an Excel date …)"
            if self.formats == DEFAULT_FORMATS
            else "a date-time in any of the formats: " + ", ".join(self.formats)
        )

    def __call__(self, value: Any) -> datetime:
        kind = type(value)
        if kind is datetime:
            return value  # type: ignore[no-any-return]
        if kind is date:
            return datetime(value.year, value.month, value.day)
        if kind is float or kind is int:
            if self.excel:
                return excel_serial(float(value))
            raise ConversionError(f"{text_of(value)!r} is a number, not a date-time")
        text = text_of(value).strip(BLANKS)
        found = self._text(text)
        if found is None and _WIDE.search(text):
            found = self._text(unicodedata.normalize("NFKC", text))
        if found is None:
            raise ConversionError(f"{text!r} is not {self.described}")
        return found

    def _text(self, text: str) -> datetime | None:
        if self.iso and text[:4].isdigit() and text[4:5] == "-":
            try:
                return datetime.fromisoformat(text)
            except ValueError:
                pass
        for match in self.patterns:
            found = match(text)
            if found is not None:
                try:
                    return _from_groups(found.groupdict())
                except ValueError as exc:
                    raise ConversionError(f"{text!r}: {exc}") from None
        if self.excel and _SERIAL.match(text):
            return excel_serial(float(text))
        return None


def _date_parser(formats: Sequence[str] | None) -> Convert:
    return DateParser(formats or ())


def _day_parser(formats: Sequence[str] | None) -> Convert:
    parse = DateParser(formats or ())

    def day(value: Any) -> date:
        return parse(value).date()

    return day


# --- codes and flags --------------------------------------------------------------------------

OTHERWISE = "*"


def _map(table: Mapping[str, Any]) -> Convert:
    lookup = {str(k).strip(BLANKS): v for k, v in table.items() if k != OTHERWISE}
    fallback = table.get(OTHERWISE)
    has_fallback = OTHERWISE in table
    shown = ", ".join(list(lookup)[:12]) + (" …" if len(lookup) > 12 else "")

    def map_value(value: Any) -> Any:
        key = text_of(value)
        try:
            return lookup[key]
        except KeyError:
            if has_fallback:
                return fallback
            raise ConversionError(f"{key!r} is not in the map ({shown})") from None

    return map_value


YES = ("是", "y", "yes", "true", "1", "√", "✓", "有", "对", "t")
NO = ("否", "n", "no", "false", "0", "×", "✗", "无", "不", "f")


def _flag(words: Mapping[str, Iterable[Any]] | None) -> Convert:
    yes = [text_of(w) for w in (words or {}).get("yes", YES)]
    no = [text_of(w) for w in (words or {}).get("no", NO)]
    table = {w.lower(): True for w in yes}
    table.update({w.lower(): False for w in no})
    shown = "/".join(yes[:3]) + " or " + "/".join(no[:3])

    def flag(value: Any) -> bool:
        if type(value) is bool:
            return bool(value)
        try:
            return table[text_of(value).strip(BLANKS).lower()]
        except KeyError:
            raise ConversionError(f"{text_of(value)!r} is not a yes/no value ({shown})") from None

    return flag


def enum_reader(choices: Mapping[str, str]) -> Convert:
    """Reads an enumeration's code (any case) or its Chinese label (咨询 → consult)."""
    table = {code.lower(): code for code in choices}
    table.update({label: code for code, label in choices.items()})
    shown = ", ".join(f"{label} ({code})" for code, label in choices.items())

    def read(value: Any) -> str:
        text = text_of(value)
        try:
            return table[text] if text in table else table[text.lower()]
        except KeyError:
            raise ConversionError(f"{text!r} is not one of {shown}") from None

    return read


def fact_value(value: Any) -> Any:
    """What a fact keeps of a cell: integral floats as ints (Excel keeps every number as a
    float), dates and times as ISO text (facts are JSON)."""
    kind = type(value)
    if kind is float and value.is_integer():
        return int(value)
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    return value


# --- the table --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConverterKind:
    """One converter a profile can name: what its argument is and what it gives."""

    name: str
    gives: Kind
    summary: str
    argument: str  # how the argument is written; "" when it takes none
    build: Callable[[Any], Convert]
    arg_type: Any = None  # what pydantic checks the argument against (None: no argument)
    arg_required: bool = False


def _no_arg(fn: Convert) -> Callable[[Any], Convert]:
    def build(arg: Any) -> Convert:
        del arg
        return fn

    return build


CONVERTERS: dict[str, ConverterKind] = {
    c.name: c
    for c in (
        ConverterKind(
            "trim",
            "text",
            "strips blanks (full-width spaces too) and the characters given from both ends; "
            "text is always trimmed of blanks, so name it for other characters",
            'characters to strip besides blanks, e.g. `trim: "*#"`',
            _trim,
            str | None,
        ),
        ConverterKind(
            "text",
            "text",
            "the value as text: `13800001234.0` → `13800001234`",
            "",
            _no_arg(text_of),
        ),
        ConverterKind("upper", "text", "upper case", "", _no_arg(_upper)),
        ConverterKind("lower", "text", "lower case", "", _no_arg(_lower)),
        ConverterKind(
            "phone",
            "text",
            "a phone number's digits (spaces, dashes, brackets dropped); a masked one "
            "(`138****1234`) is left out, as it holds no number",
            "",
            _no_arg(_phone),
        ),
        ConverterKind(
            "zfill",
            "text",
            "pads a code of digits with leading zeros (Excel drops them from a code kept as a "
            "number: `301` → `0301`)",
            "the width, e.g. `zfill: 4`",
            _zfill,
            int,
            True,
        ),
        ConverterKind(
            "number",
            "number",
            'a number, also from text (`"1,234.5"`, full-width digits); integral values '
            "are whole numbers",
            "",
            _no_arg(_number),
        ),
        ConverterKind(
            "integer", "integer", "a whole number, also from text", "", _no_arg(_integer)
        ),
        ConverterKind(
            "datetime",
            "datetime",
            "a date-time from a workbook date, an Excel serial number or text in one of the "
            "formats (strftime directives %Y %y %m %d %H %M %S %f; a space matches any blanks; "
            "`iso` for ISO 8601, `excel` for serial numbers); without formats, the defaults "
            "below",
            'a list of formats, e.g. `datetime: ["%Y/%m/%d %H:%M", "%Y年%m月%d日", excel]`',
            _date_parser,
            list[str] | None,
        ),
        ConverterKind(
            "date",
            "date",
            "a date, read as `datetime` reads one",
            "as `datetime`",
            _day_parser,
            list[str] | None,
        ),
        ConverterKind(
            "map",
            "text",
            'replaces a value by the one the table gives (`咨询: consult`); `"*"` gives the '
            "value for anything else; a value not in the table is otherwise a rejected record",
            'a table, e.g. `map: {来电: hotline_12345, 网站: web, "*": api}`',
            _map,
            dict[str, Any],
            True,
        ),
        ConverterKind(
            "flag",
            "bool",
            "yes/no: 是/否, Y/N, yes/no, true/false, 1/0, √/× unless words are given",
            "`flag: {yes: [是, 保密], no: [否, 不保密]}`",
            _flag,
            dict[str, list[Any]] | None,
        ),
        ConverterKind(
            "split",
            "list",
            "a list from text split at any of the separators (default `;；,，、|` and new "
            "lines); blank parts dropped",
            'the separator characters, e.g. `split: "/"`',
            _split,
            str | None,
        ),
    )
}


def map_gives(table: Mapping[str, Any]) -> Kind:
    """What a ``map`` converter gives: the kind its values share (text by default)."""
    values = list(table.values())
    if values and all(type(v) is bool for v in values):
        return "bool"
    if values and all(type(v) in (int, float) for v in values):
        return "number"
    if values and all(isinstance(v, list) for v in values):
        return "list"
    return "text"


__all__ = [
    "BLANKS",
    "CONVERTERS",
    "DEFAULT_FORMATS",
    "EXCEL",
    "ISO",
    "NO",
    "OTHERWISE",
    "YES",
    "ConversionError",
    "Convert",
    "ConverterKind",
    "DateParser",
    "enum_reader",
    "excel_serial",
    "fact_value",
    "format_problem",
    "map_gives",
    "text_of",
]
