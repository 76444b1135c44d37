"""Reading the text files people hand us: UTF-8, with or without a byte-order mark.

Files saved on Windows often start with a BOM, and a file exported from an old system may hold
GBK or Latin-1 bytes. The first is accepted everywhere; the second is reported as a located
problem (the line and column of the first byte that is not UTF-8), never as a
``UnicodeDecodeError`` from deep inside a command.

Whole files (packs, config, calendars, test files) are decoded strictly with :func:`decode`.
Record streams (JSONL, CSV) are decoded with :data:`STREAM_ERRORS`, so that one bad line is
reported on its own and the others still count: the undecodable bytes of that line become lone
surrogates, which :func:`bad_byte` finds. Nothing else produces them (a JSON ``"\\udce9"``
escape is decoded later, by the JSON parser), so the check only runs where a record has
already failed to parse or validate.

The parsers recurse once per level of nesting, so a line of ten thousand ``[`` would end a run
with a ``RecursionError``; :func:`json_loads` and :data:`TOO_DEEP` make it one more syntax
error of one record or file.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from zhenshen_core.errors import ZhenshenError

#: UTF-8; a leading byte-order mark is dropped.
ENCODING = "utf-8-sig"
#: How record streams decode: each undecodable byte becomes a lone surrogate (U+DC80-U+DCFF).
STREAM_ERRORS = "surrogateescape"

_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")

#: What a parser that recursed too far (``RecursionError``) met: no case, pack or calendar
#: comes near the few hundred levels the parsers allow.
TOO_DEEP = "lists or mappings nested too deeply"


@dataclass(frozen=True, slots=True)
class BadByte:
    """Where text stops being UTF-8: 1-based line and column (in characters), and the byte."""

    line: int
    column: int
    byte: int

    @property
    def problem(self) -> str:
        """What is wrong, for a message that gives the place itself."""
        return f"not UTF-8 text (byte 0x{self.byte:02X}); save the file as UTF-8"

    @property
    def in_record(self) -> str:
        """What is wrong and where, for a record whose line number is given already."""
        return f"column {self.column}: {self.problem}"


class NotUtf8Error(ZhenshenError, ValueError):
    """A file that is not UTF-8 text; ``str()`` is ``file:line:col: not UTF-8 text ...``."""

    def __init__(self, source: str, where: BadByte) -> None:
        self.source, self.where = source, where
        super().__init__(f"{source}:{where.line}:{where.column}: {where.problem}")


def decode(data: bytes, source: str) -> str:
    """``data`` as text, or :class:`NotUtf8Error` naming ``source`` and where it breaks."""
    try:
        return data.decode(ENCODING)
    except UnicodeDecodeError as exc:
        # Located as a stream would locate it: in what the codec decoded, the file after any
        # byte-order mark, which is also how an editor counts lines and columns.
        where = bad_byte(exc.object.decode("utf-8", STREAM_ERRORS))
        assert where is not None  # the byte the strict decoder stopped at
        raise NotUtf8Error(source, where) from None


def read_text(path: str | Path) -> str:
    """A whole file as text (see :func:`decode`); ``OSError`` when it cannot be read."""
    return decode(Path(path).read_bytes(), str(path))


@contextlib.contextmanager
def open_stream(source: str) -> Iterator[TextIO]:
    """A record stream: the file ``source``, or standard input for ``-`` (left open); lines
    end at ``\\n``, ``\\r\\n`` or ``\\r``. Undecodable bytes are kept for :func:`bad_byte`."""
    if source != "-":
        with open(source, encoding=ENCODING, errors=STREAM_ERRORS) as stream:
            yield stream
        return
    stdin = io.TextIOWrapper(sys.stdin.buffer, encoding=ENCODING, errors=STREAM_ERRORS)
    try:
        yield stdin
    finally:
        stdin.detach()  # closing the wrapper would close standard input


def bad_byte(text: str) -> BadByte | None:
    """The first undecodable byte in ``text`` read from a stream (``open_stream``, or
    :data:`STREAM_ERRORS`), or None when it all was UTF-8."""
    found = _ESCAPED_BYTE.search(text)
    if found is None:
        return None
    at = found.start()
    line_start = text.rfind("\n", 0, at) + 1
    return BadByte(text.count("\n", 0, at) + 1, at - line_start + 1, ord(text[at]) - 0xDC00)


def json_loads(text: str) -> Any:
    """``json.loads``, where nesting too deep for the parser and an integer too long to
    convert are a ``JSONDecodeError`` (at the place) like any other syntax error, not a
    ``RecursionError`` or the ``ValueError`` of Python's integer-conversion limit."""
    try:
        return json.loads(text)
    except RecursionError:
        raise too_deep(text) from None
    except json.JSONDecodeError:
        raise
    except ValueError:  # int() refused a literal longer than sys.get_int_max_str_digits()
        raise too_long(text) from None


class NumberTooLong(json.JSONDecodeError):
    """An integer literal longer than Python converts (``sys.get_int_max_str_digits()``,
    4,300 digits by default): no case field or fact needs one, and reading it as text would
    change its type behind the sender's back."""


def too_long(text: str, start: int = 0) -> NumberTooLong:
    """The error for the first integer in ``text`` (from ``start``, outside strings) longer
    than Python converts; at ``start`` when none is found (a caller's own limit)."""
    limit = sys.get_int_max_str_digits() or 4300
    pattern = re.compile(r'"(?:[^"\\]|\\.)*"|-?\d{' + str(limit + 1) + r",}(?![.\deE])")
    for found in pattern.finditer(text, start):
        if not found.group().startswith('"'):
            digits = len(found.group().lstrip("-"))
            message = (
                f"integer with {digits:,} digits, more than the {limit:,} a number may have; "
                "quote it if it is an identifier"
            )
            return NumberTooLong(message, text, found.start())
    return NumberTooLong(f"integer with more than {limit:,} digits", text, start)


def too_deep(text: str, start: int = 0) -> json.JSONDecodeError:
    """The error for JSON in ``text`` (from ``start``) nested too deeply to parse."""
    depth = deepest = 0
    at = start
    in_string = escape = False
    for index in range(start, len(text)):
        char = text[index]
        if in_string:
            if escape:
                escape = False
            elif char == "\\":
                escape = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > deepest:
                deepest, at = depth, index
        elif char in "]}":
            depth -= 1
    message = f"arrays and objects nested too deeply ({deepest} levels)"
    return json.JSONDecodeError(message, text, at)


#: The most values (mappings, lists and scalars, every alias counted again) a YAML document may
#: expand to. A real pack of 1,000 rules holds about 30,000; nine nested aliases of nine items
#: each (a "billion laughs" document of 400 bytes) expand to hundreds of millions.
MAX_DOCUMENT_VALUES = 1_000_000
#: The problem, for a message that gives the place itself.
TOO_MANY_VALUES = (
    f"YAML aliases (*name) expand to more than {MAX_DOCUMENT_VALUES:,} values; "
    "repeat less or write the values out"
)


def too_many_values(document: Any, limit: int = MAX_DOCUMENT_VALUES) -> bool:
    """Whether ``document`` (as a YAML parser built it: aliases are shared objects) expands to
    more than ``limit`` values when every alias is followed, as any walk over it would. Counts
    at most ``limit`` values, so it costs little for every document, the hostile ones too."""
    count = 0
    stack = [document]
    while stack:
        value = stack.pop()
        count += 1
        if count > limit:
            return True
        if isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list | tuple | set):
            stack.extend(value)
    return False


def escaped(text: str) -> str:
    """``text`` from a stream with each undecodable byte written ``\\xNN``: what a rejected
    record held, in a form that can be stored and shown."""
    return text.encode("utf-8", STREAM_ERRORS).decode("utf-8", "backslashreplace")


__all__ = [
    "ENCODING",
    "MAX_DOCUMENT_VALUES",
    "STREAM_ERRORS",
    "TOO_DEEP",
    "TOO_MANY_VALUES",
    "BadByte",
    "NotUtf8Error",
    "NumberTooLong",
    "bad_byte",
    "decode",
    "escaped",
    "json_loads",
    "open_stream",
    "read_text",
    "too_deep",
    "too_long",
    "too_many_values",
]
