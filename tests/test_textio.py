"""Text that is not UTF-8: located, never a UnicodeDecodeError (``zhenshen_core.textio``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zhenshen_core.textio import (
    STREAM_ERRORS,
    BadByte,
    NotUtf8Error,
    bad_byte,
    decode,
    escaped,
    open_stream,
    read_text,
)

BOM = b"\xef\xbb\xbf"


def test_a_byte_order_mark_is_dropped() -> None:
    assert decode(BOM + "甄审\n".encode(), "f") == "甄审\n"


def test_the_error_names_the_line_and_column_in_characters() -> None:
    data = "第一行\n甄审".encode() + b"\xe9x\n"
    with pytest.raises(NotUtf8Error) as caught:
        decode(data, "cases.yaml")
    assert caught.value.where == BadByte(line=2, column=3, byte=0xE9)
    assert str(caught.value) == (
        "cases.yaml:2:3: not UTF-8 text (byte 0xE9); save the file as UTF-8"
    )


def test_positions_after_a_byte_order_mark_are_the_editor_s() -> None:
    with pytest.raises(NotUtf8Error) as caught:
        decode(BOM + b"ab\xff", "f")
    assert caught.value.where == BadByte(1, 3, 0xFF)


def test_read_text_and_streams(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_bytes(BOM + b'{"a": 1}\r\n{"b": "\xe9"}\rend')
    with pytest.raises(NotUtf8Error):
        read_text(path)
    with open_stream(str(path)) as stream:
        lines = list(stream)
    assert lines[0] == '{"a": 1}\n'
    assert bad_byte(lines[0]) is None
    assert bad_byte(lines[1]) == BadByte(1, 8, 0xE9)
    assert escaped(lines[1]) == '{"b": "\\xe9"}\n'


@given(st.binary(max_size=200))
def test_decode_and_bad_byte_agree_on_where_text_breaks(data: bytes) -> None:
    """A whole file (strict) and a stream (escaped bytes) locate the same first bad byte."""
    data = data.removeprefix(BOM)
    try:
        text = decode(data, "f")
    except NotUtf8Error as exc:
        assert bad_byte(data.decode("utf-8", STREAM_ERRORS)) == exc.where
    else:
        assert text == data.decode("utf-8")
        assert bad_byte(text) is None


@given(st.text(max_size=50), st.binary(min_size=1, max_size=4), st.text(max_size=50))
def test_escaped_shows_every_undecodable_byte(before: str, junk: bytes, after: str) -> None:
    data = before.encode() + junk + after.encode()
    shown = escaped(data.decode("utf-8", STREAM_ERRORS))
    assert shown == data.decode("utf-8", "backslashreplace")
    shown.encode("utf-8")  # storable: no lone surrogates left
