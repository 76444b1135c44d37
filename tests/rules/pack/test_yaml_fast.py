"""The libyaml reader must give exactly what the ruamel reader gives, or decline."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ruamel.yaml import YAML

from zhenshen_core.rules.diagnostics import DiagnosticSink
from zhenshen_core.rules.pack import yaml_fast
from zhenshen_core.rules.pack.located import Located
from zhenshen_core.rules.pack.source import read_yaml

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.skipif(not yaml_fast.available(), reason="PyYAML without libyaml")


def _both(path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Located | None, Located | None]:
    fast = yaml_fast.located(path.read_text(encoding="utf-8"), str(path))
    with monkeypatch.context() as patch:
        patch.setattr(yaml_fast, "located", lambda *args: None)
        slow = read_yaml(path, DiagnosticSink(), str(path))
    return fast, slow


def _same(fast: Located, slow: Located) -> None:
    assert repr(fast.data) == repr(slow.data)  # repr: NaN equals itself, 1 is not True
    assert fast.positions == slow.positions
    assert fast.styles == slow.styles
    assert fast.lines == slow.lines


def _repo_yaml() -> list[Path]:
    found = []
    for folder in ("plugins", "examples", "tests", "src"):
        found += [p for p in (ROOT / folder).rglob("*.yaml") if ".venv" not in p.parts]
    return sorted(found)


def test_every_yaml_file_in_the_repository_reads_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    files = _repo_yaml()
    assert len(files) > 20
    taken = 0
    for path in files:
        fast, slow = _both(path, monkeypatch)
        if fast is None:
            continue
        assert slow is not None, path
        _same(fast, slow)
        taken += 1
    assert taken >= len(files) * 0.9  # the fast path is the common path


def test_the_reference_pack_takes_the_fast_path() -> None:
    pack = ROOT / "plugins" / "zhenshen-chengdu-gaoxin"
    rule_files = [p for p in pack.rglob("*.yaml") if "tests" not in p.parts]
    assert rule_files
    for path in rule_files:
        assert yaml_fast.located(path.read_text(encoding="utf-8"), str(path))


TRICKY = [
    "yes",
    "no",
    "on",
    "off",
    "y",
    "n",
    "true",
    "False",
    "TRUE",
    "null",
    "~",
    "Null",
    "",
    "1",
    "-1",
    "+1",
    "0",
    "010",
    "0o17",
    "0x1F",
    "1_000",
    "1e3",
    "1.",
    ".5",
    "1.5e-3",
    ".inf",
    "-.inf",
    ".NaN",
    "0b101",
    "12:30",
    "1:20:30",
    "2026-03-02",
    "2026-3-2",
    "2026-03-02 09:00",
    "2026-03-02T09:00:00+08:00",
    "S3",
    ">= S3",
    "[1..3]",
    "not(S4)",
    "a, b",
    "停产",
    "'q'",
    '"dq"',
    "x: y",
    "- z",
    "a #b",
    "!!str 1",
    "!!int '7'",
    "!custom v",
    "&a 1",
    "*a",
    "<<",
    "? k",
    "|",
    ">",
    "@x",
    "`x",
    "%x",
    "{a: 1}",
    "[a, b]",
    "{}",
    "[]",
    "- ",
    "a\tb",
]


@given(tokens=st.lists(st.sampled_from(TRICKY), min_size=1, max_size=6), crlf=st.booleans())
def test_plain_tokens_read_the_same_or_are_declined(
    tmp_path_factory: pytest.TempPathFactory, tokens: list[str], crlf: bool
) -> None:
    lines = [f"k{i}: {token}" for i, token in enumerate(tokens)]
    lines += ["list:"] + [f"  - {token}" for token in tokens]
    lines += ["flow: [" + ", ".join(tokens) + "]"]
    text = ("\r\n" if crlf else "\n").join(lines) + "\n"
    _compare_text(tmp_path_factory.mktemp("y") / "t.yaml", text)


_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.text(max_size=20),
    st.sampled_from(TRICKY),
)
_DATA = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(min_size=1, max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@given(data=st.dictionaries(st.text(min_size=1, max_size=8), _DATA, max_size=5), flow=st.booleans())
def test_dumped_documents_read_the_same(
    tmp_path_factory: pytest.TempPathFactory, data: dict[str, Any], flow: bool
) -> None:
    yaml = YAML(typ="rt")
    yaml.default_flow_style = flow
    yaml.allow_unicode = True
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    _compare_text(tmp_path_factory.mktemp("y") / "d.yaml", buffer.getvalue())


def test_what_the_fast_reader_declines() -> None:
    def declines(text: str) -> bool:
        return yaml_fast.located(text, "t.yaml") is None

    assert declines("a: &x 1\nb: *x\n")  # aliases
    assert declines("a: 1\na: 2\n")  # duplicate keys: ruamel reports them
    assert declines("base: {a: 1}\nother:\n  <<: {b: 2}\n")  # merge keys
    assert declines("a: !!str 1\n")  # explicit tags
    assert declines("1: a\n")  # a key that is not a string
    assert declines("a: [\n")  # syntax errors: ruamel words them
    assert declines("%YAML 1.1\n---\na: yes\n")
    assert declines("a: 2026-03-02 09:00:00\n")  # timestamps with a time
    assert not declines('rules:\n  - id: a\n    when: domain == "x"\n')


def _compare_text(path: Path, text: str) -> None:
    path.write_bytes(text.encode("utf-8"))
    fast = yaml_fast.located(path.read_text(encoding="utf-8"), str(path))
    if fast is None:
        return
    sink = DiagnosticSink()
    original = yaml_fast.located
    try:
        yaml_fast.located = lambda *args: None  # type: ignore[assignment]
        slow = read_yaml(path, sink, str(path))
    finally:
        yaml_fast.located = original
    assert slow is not None, (text, [str(d) for d in sink.items])
    _same(fast, slow)


@pytest.mark.parametrize(
    "text",
    [
        "a: |\n  x\n  y\n",
        "a: |-\n  x\n",
        "a: |+\n  x\n\nb: 1\n",
        "a: >\n  x\n  y\n\n  z\n",
        "a: >-\n  folded\n  text",
        "a: plain\n  continued\n  lines\nb: [x,\n  y]\n",
        "# comment\na: 1  # trailing\n\n\nb:\n  - c: d\n    e: f\n  -\n  - g\n",
        "a: \"esc\\u00e9 \\n q\"\nb: 'it''s'\n",
        'rules:\n- id: r\n  when: >-\n    domain == "x"\n    and content contains "停产"\n',
        "",
        "# only a comment\n",
        "a:\nb: ~\nc: null\nd: ''\n",
    ],
)
def test_hand_written_styles_read_the_same(tmp_path: Path, text: str) -> None:
    assert yaml_fast.located(text, "t.yaml") is not None or "\t" in text
    _compare_text(tmp_path / "h.yaml", text)
