"""A JSON document read as a stream of records: an array element by element, in flat memory.

The ``json`` channel's files are exports of thousands of work orders in one array. Reading the
whole text and counting lines from its start for every element made a large array quadratic
(40,000 cases: 36 s; a 105 MB file: 594 MB of memory). Here the text is read in chunks of
:data:`CHUNK` characters and each element is parsed where it stands by the standard library's
C decoder (``raw_decode``); lines are counted only over the text between one element and the
next, and what was parsed is dropped from the buffer, so time is linear and memory holds one
chunk and the element being read (records over :data:`MAX_RECORD_CHARS` are refused, as JSON
Lines are).

Why not a streaming parser from PyPI (ijson's yajl2_c backend was tried first): it gives no
position for an element, so a rejected record could not be given its line or its exact text,
and it is not safe on hostile input — an integer of 4,301 digits ends the process with a
segmentation fault, and 30,000 nested ``[`` take 2.2 GB. The standard library's decoder raises
a Python exception for both, which becomes that element's dead letter.

Every element keeps its first line and its exact text (``IntakeRecord.raw``), the way the
whole-text reader did. An element that is valid JSON but cannot be a record (an integer too
long to convert, bytes that are not UTF-8) is rejected on its own and reading goes on with
the next one; a syntax error ends the array there (what follows cannot be told apart from the
broken element), with its line and column.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TextIO

from zhenshen_core.plugins.records import IntakeRecord
from zhenshen_core.textio import BadByte, bad_byte, escaped, open_stream, too_deep, too_long

#: Characters read at a time: large enough that the per-chunk work is nothing, small enough
#: that memory stays flat.
CHUNK = 1 << 20
#: The longest record the json and jsonl channels accept (a case's text fields are bounded
#: far below this; an element this long is a broken or hostile file).
MAX_RECORD_CHARS = 1_000_000
_RAW_SHOWN = 2000  # how much of a broken element a rejected record keeps
_SPACE = re.compile(r"[ \t\r\n]*")
# A parse error this close to the end of the text read so far may only mean the element
# goes on in the next chunk ("tru|e", "\\u12|34", "12|3").
_NEAR_END = 16


class _Cut(Exception):
    """The value goes on past the text read so far."""


class _Text:
    """The source as read so far: ``buffer[pos:]`` is not consumed yet, and starts at
    ``line``, ``column``. What is consumed is dropped when the next chunk is read, so the
    buffer holds about one chunk (or one long value)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.buffer = ""
        self.pos = 0
        self.eof = False
        self.line = 1
        self.column = 1
        self.more(CHUNK)

    @property
    def rest(self) -> int:
        return len(self.buffer) - self.pos

    def more(self, size: int) -> bool:
        """Read up to ``size`` more characters; False at the end of the source."""
        if self.eof:
            return False
        chunk = self.stream.read(size)
        if len(chunk) < size:
            self.eof = True
        self.buffer = self.buffer[self.pos :] + chunk
        self.pos = 0
        return bool(chunk)

    def where(self, index: int) -> tuple[int, int]:
        """(line, column) of ``buffer[index]`` (``index >= pos``), both from 1."""
        newlines = self.buffer.count("\n", self.pos, index)
        if newlines == 0:
            return self.line, self.column + index - self.pos
        return self.line + newlines, index - self.buffer.rfind("\n", self.pos, index)

    def advance(self, index: int) -> None:
        """Consume the text up to ``index``."""
        self.line, self.column = self.where(index)
        self.pos = index

    def skip_whitespace(self) -> bool:
        """Consume whitespace, reading on as needed; False when the source ends."""
        while True:
            found = _SPACE.match(self.buffer, self.pos)
            self.advance(found.end() if found else self.pos)
            if self.rest:
                return True
            if not self.more(CHUNK):
                return False

    def next_char(self) -> str:
        return self.buffer[self.pos]

    def shown(self, size: int = _RAW_SHOWN) -> str:
        return self.buffer[self.pos : self.pos + size]


def read_json(source: str) -> Iterator[IntakeRecord]:
    """One JSON object, or an array of objects; each element keeps its first line and text."""
    with open_stream(source) as stream:
        for element in _elements(_Text(stream)):
            yield element.record(source)


@dataclass
class _Read:
    """What reading one value gave: its first line, its text, the value or the problem, and
    whether reading can go on after it (its end was found)."""

    line: int
    raw: str
    value: Any = None
    problem: str | None = None
    complete: bool = True

    def record(self, source: str) -> IntakeRecord:
        if self.problem is not None:
            return IntakeRecord(source, self.line, self.raw, None, self.problem)
        if not isinstance(self.value, dict):
            kind = type(self.value).__name__
            problem = f"expected a JSON object for a case, got {kind}"
            return IntakeRecord(source, self.line, self.raw, None, problem)
        return IntakeRecord(source, self.line, self.raw, self.value)


def _elements(text: _Text) -> Iterator[_Read]:
    """The values of the document: the elements of an array, or the one value it is."""
    if not text.skip_whitespace():
        return
    if text.next_char() != "[":
        read = _value(text)
        yield read
        if read.complete and text.skip_whitespace():
            yield _broken(text, "extra data after the JSON document")
        return
    text.advance(text.pos + 1)
    if not text.skip_whitespace():
        yield _broken(text, "the array is not closed (expected a value or ']')")
        return
    if text.next_char() == "]":
        text.advance(text.pos + 1)
        yield from _trailing(text)
        return
    while True:
        read = _value(text)
        yield read
        if not read.complete:
            return
        if not text.skip_whitespace():
            yield _broken(text, "the array is not closed (expected ',' or ']')")
            return
        separator = text.next_char()
        if separator == "]":
            text.advance(text.pos + 1)
            yield from _trailing(text)
            return
        if separator != ",":
            yield _broken(text, "expected ',' or ']' after an element")
            return
        text.advance(text.pos + 1)
        if not text.skip_whitespace():
            yield _broken(text, "the array is not closed (expected a value)")
            return


def _value(text: _Text) -> _Read:
    """The value at ``text.pos``, which then moves past it."""
    line, column = text.line, text.column
    decoder = _DECODER
    while True:
        try:
            value, end = _decode(decoder, text)
        except _Cut:
            if text.rest > MAX_RECORD_CHARS:
                problem = (
                    f"record longer than {MAX_RECORD_CHARS:,} characters; the rest of the "
                    "file was not read"
                )
                return _Read(line, escaped(text.shown()), None, problem, complete=False)
            text.more(max(CHUNK, text.rest))
            continue
        except json.JSONDecodeError as exc:
            return _syntax_error(text, line, column, exc)
        except ValueError:  # an integer longer than Python converts: find the value's end
            decoder = _checked_decoder()
            continue
        raw = text.buffer[text.pos : end]
        if decoder is not _DECODER:
            return _long_integer(text, line, end)
        text.advance(end)
        bad = bad_byte(raw)
        if bad is not None:
            return _Read(line, escaped(raw), None, _not_utf8(bad, line, column))
        return _Read(line, raw, value)


_DECODER = json.JSONDecoder()


def _checked_decoder() -> json.JSONDecoder:
    """A decoder that leaves an integer too long to convert as text, so the value's end is
    found and reading goes on after it (the value is rejected all the same)."""
    limit = sys.get_int_max_str_digits() or 4300

    def checked(literal: str) -> int | str:
        return literal if len(literal.lstrip("-")) > limit else int(literal)

    return json.JSONDecoder(parse_int=checked)


def _decode(decoder: json.JSONDecoder, text: _Text) -> tuple[Any, int]:
    buffer = text.buffer
    try:
        value, end = decoder.raw_decode(buffer, text.pos)
    except RecursionError:  # as deep as the parser can go: a syntax error like any other
        raise too_deep(buffer, text.pos) from None
    except json.JSONDecodeError as exc:
        if not text.eof and (
            exc.msg.startswith("Unterminated string") or exc.pos >= len(buffer) - _NEAR_END
        ):
            raise _Cut from None
        raise
    if end >= len(buffer) and not text.eof:  # a number may go on: "12" of "123"
        raise _Cut
    return value, end


def _not_utf8(bad: BadByte, line: int, column: int) -> str:
    """The problem of text starting at ``line``, ``column`` that holds ``bad``: said with
    its column when it is on the record's first line, with its line and column otherwise."""
    if bad.line == 1:
        return f"column {column + bad.column - 1}: {bad.problem}"
    return f"line {line + bad.line - 1} column {bad.column}: {bad.problem}"


def _syntax_error(text: _Text, line: int, column: int, exc: json.JSONDecodeError) -> _Read:
    bad = bad_byte(text.buffer[text.pos : exc.pos + 1])
    if bad is not None:
        problem = _not_utf8(bad, line, column)
    else:
        at_line, column = text.where(max(exc.pos, text.pos))
        problem = f"malformed JSON at line {at_line} column {column}: {exc.msg}"
    return _Read(line, escaped(text.shown()), None, problem, complete=False)


def _long_integer(text: _Text, line: int, end: int) -> _Read:
    """Reject the value (up to ``end``) holding an integer too long to convert."""
    error = too_long(text.buffer[:end], text.pos)
    at_line, column = text.where(error.pos)
    problem = f"malformed JSON at line {at_line} column {column}: {error.msg}"
    raw = text.buffer[text.pos : end]
    text.advance(end)
    return _Read(line, escaped(raw), None, problem)


def _broken(text: _Text, problem: str) -> _Read:
    """Where reading stopped outside any element (the array around them): not complete."""
    shown = text.shown(200)
    bad = bad_byte(shown)
    reason = (
        _not_utf8(bad, text.line, text.column)
        if bad is not None
        else f"malformed JSON at line {text.line} column {text.column}: {problem}"
    )
    return _Read(text.line, escaped(shown), None, reason, complete=False)


def _trailing(text: _Text) -> Iterator[_Read]:
    if text.skip_whitespace():
        yield _broken(text, "extra data after the array (a second array?)")
