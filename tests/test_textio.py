"""Text that is not UTF-8: located, never a UnicodeDecodeError (``zhenshen_core.textio``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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
    json_loads,
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


def test_json_nested_too_deeply_is_a_syntax_error_at_the_deepest_point() -> None:
    text = '{"a": "[[[[", "b": ' + "[" * 5000 + "]" * 5000 + "}"
    with pytest.raises(json.JSONDecodeError) as caught:
        json_loads(text)
    assert caught.value.msg == "arrays and objects nested too deeply (5001 levels)"
    assert caught.value.pos == text.index("[[[[[") + 4999


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
    max_leaves=30,
)


@given(JSON)
def test_json_loads_is_json_loads_within_the_parser_s_depth(value: Any) -> None:
    text = json.dumps(value, ensure_ascii=False)
    assert json_loads(text) == json.loads(text)


def _size(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + sum(_size(k) + _size(v) for k, v in value.items())
    if isinstance(value, list):
        return 1 + sum(_size(item) for item in value)
    return 1


@given(JSON, st.integers(min_value=0, max_value=80))
def test_too_many_values_counts_what_a_walk_would_visit(value: Any, limit: int) -> None:
    from zhenshen_core.textio import too_many_values

    assert too_many_values(value, limit) == (_size(value) > limit)
    shared = [value, value, value]  # an alias: the same object again
    assert too_many_values(shared, limit) == (1 + 3 * _size(value) > limit)
