"""A JSON array is read element by element: each keeps its line and text, one bad element
costs itself, and wherever the chunks happen to end, the records are the same."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zhenshen_core.intake import jsonstream
from zhenshen_core.intake.jsonstream import read_json

WHEN = "2026-03-02T10:00:00+08:00"


def _records(text: str, chunk: int) -> list[tuple[int | None, str, object, str | None]]:
    previous = jsonstream.CHUNK
    jsonstream.CHUNK = chunk
    try:
        reads = list(jsonstream._elements(jsonstream._Text(io.StringIO(text))))
    finally:
        jsonstream.CHUNK = previous
    records = [read.record("in.json") for read in reads]
    return [(r.line, r.raw, r.data, r.error) for r in records]


def test_elements_keep_their_first_line_and_exact_text(tmp_path: Path) -> None:
    first = json.dumps({"external_id": "A", "received_at": WHEN}, indent=2)
    second = f'{{"external_id": "B",\n "received_at": "{WHEN}"}}'
    path = tmp_path / "in.json"
    path.write_text(f"[\n{first},\n\n  {second}\n]\n", encoding="utf-8")
    records = list(read_json(str(path)))
    assert [(r.line, r.raw) for r in records] == [(2, first), (7, second)]
    assert [r.data["external_id"] for r in records if r.data] == ["A", "B"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[{"a": 1}, {"b": 2 x}, {"c": 3}]', [None, "line 1 column 20: Expecting ',' delimiter"]),
        ('[{"a": 1}] [{"b": 2}]', [None, "line 1 column 12: extra data after the array"]),
        ('[{"a": 1},]', [None, "line 1 column 11: Expecting value"]),
        ('[{"a": 1}', [None, "line 1 column 10: the array is not closed"]),
        ('[{"a": 1} {"b": 2}]', [None, "line 1 column 11: expected ',' or ']' after an element"]),
        ('{"a": 1} x', [None, "line 1 column 10: extra data after the JSON document"]),
        ("[1, null]", ["got int", "got NoneType"]),
    ],
)
def test_a_broken_array_is_located(text: str, expected: list[str | None]) -> None:
    errors = [error for _, _, _, error in _records(text, 1 << 20)]
    assert len(errors) == len(expected)
    for error, part in zip(errors, expected, strict=True):
        assert (error is None) if part is None else (error is not None and part in error)


def test_a_long_integer_costs_its_element_even_across_a_chunk_boundary() -> None:
    text = "[" + ",\n".join(['{"n": 1}', '{"n": ' + "9" * 5000 + "}", '{"n": 3}']) + "]"
    for chunk in (7, 64, 4096, 4400, 1 << 20):  # 4400: the cut falls inside the integer
        records = _records(text, chunk)
        assert [(line, data) for line, _, data, _ in records] == [
            (1, {"n": 1}),
            (2, None),
            (3, {"n": 3}),
        ], chunk
        assert "integer with 5,000 digits" in (records[1][3] or "")


ELEMENT = st.one_of(
    st.dictionaries(
        st.text(max_size=5), st.one_of(st.integers(), st.text(max_size=20)), max_size=4
    ),
    st.integers(),
    st.text(max_size=10),
    st.lists(st.integers(), max_size=3),
)


@given(
    elements=st.lists(ELEMENT, max_size=8),
    indent=st.sampled_from([None, 1, 2]),
    chunk=st.integers(1, 64),
)
def test_the_chunk_size_changes_nothing(
    elements: list[object], indent: int | None, chunk: int
) -> None:
    text = json.dumps(elements, indent=indent, ensure_ascii=False)
    assert _records(text, chunk) == _records(text, 1 << 20)
    parsed = [data for _, _, data, error in _records(text, chunk) if error is None]
    assert parsed == [e for e in elements if isinstance(e, dict)]


def test_memory_stays_flat_on_a_large_array(tmp_path: Path) -> None:
    """Reading a 15 MB array holds about a chunk, not the file (the whole-text reader held
    the file as one string and every element's slice: 594 MB for a 105 MB export)."""
    import tracemalloc

    from zhenshen_core.intake import read_json as channel_reader

    element = json.dumps({"external_id": "X", "received_at": WHEN, "content": "x" * 2000})
    path = tmp_path / "large.json"
    path.write_text("[" + ",\n".join([element] * 7_500) + "]", encoding="utf-8")
    tracemalloc.start()
    try:
        count = sum(1 for record in channel_reader(str(path)) if record.data is not None)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == 7_500
    assert peak < 10 * 2**20, f"peak {peak / 2**20:.1f} MiB while reading a 15 MB file"
