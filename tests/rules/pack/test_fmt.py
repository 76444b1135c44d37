"""zhenshen fmt: canonical form, comments kept with their keys, idempotence, located errors."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from zhenshen_core.rules.pack.fmt import FormatError, format_yaml

from ..conftest import CLI_PACKS as PACKS
from ..conftest import Invoke

MESSY = textwrap.dedent("""\
    # 高新区规则
    # (file head stays on top)

    tables: []
    rules:   # the rules
        - when: domain == "market_entry_operation" and content contains_any ["停产", "无法经营"]
          id: severity.cannot-operate    # eol on id
          # about then
          then:
              tags: ['准入不准营']
              severity:
                  at_least: "S3"     # why S3
          description: "已取得执照但无法经营"
        # about the second rule
        - id: b
          when: |
            x == 1 # not a comment
            and y
          then: {severity: {bump: 1}}
    # tail
    """)

EXPECTED = textwrap.dedent("""\
    # 高新区规则
    # (file head stays on top)

    rules:  # the rules
      - id: severity.cannot-operate  # eol on id
        description: 已取得执照但无法经营
        when: domain == "market_entry_operation" and content contains_any ["停产", "无法经营"]
        # about then
        then:
          severity:
            at_least: S3  # why S3
          tags: [准入不准营]

      # about the second rule
      - id: b
        when: |
          x == 1 # not a comment
          and y
        then:
          severity: {bump: 1}
    tables: []
    # tail
    """)


def test_canonical_form_moves_comments_with_their_keys() -> None:
    assert format_yaml(MESSY, "rules.yaml") == EXPECTED


def test_formatting_the_canonical_form_changes_nothing() -> None:
    assert format_yaml(EXPECTED, "rules.yaml") == EXPECTED


def test_pack_yaml_key_order() -> None:
    text = "domains: [{name: 融资, id: financing}]\nid: p\nschema: 1\nversion: '1'\n"
    assert format_yaml(text, "pack.yaml") == (
        'schema: 1\nid: p\nversion: "1"\n\ndomains:\n  - {id: financing, name: 融资}\n'
    )


def test_tests_file_key_order_and_quoting() -> None:
    text = (
        '- expect: {tier: major, severity: "S3"}\n  case: {content: "a: b", domain: x}\n'
        '  name: "yes"\n  fired: ["tier#1", "-"]\n'
    )
    assert format_yaml(text, "tests/t.yaml") == (
        '- name: "yes"\n  case: {content: "a: b", domain: x}\n'
        "  expect: {severity: S3, tier: major}\n"
        '  fired: [tier#1, "-"]\n'
    )


@pytest.mark.parametrize(
    ("text", "code_line"),
    [
        ("rules:\n  - id: [unclosed\n", 3),
        ("a: &x 1\nb: *x\n", 1),
        ("a: 1\n---\nb: 2\n", 1),
    ],
)
def test_bad_yaml_is_a_located_error(text: str, code_line: int) -> None:
    with pytest.raises(FormatError) as info:
        format_yaml(text, "r.yaml")
    assert info.value.diagnostic.file == "r.yaml"
    assert info.value.diagnostic.line == code_line
    assert str(info.value).startswith(f"r.yaml:{code_line}:")


def test_fixture_packs_are_canonical(zhenshen: Invoke) -> None:
    result = zhenshen("fmt", "--check", str(PACKS))
    assert result.exit_code == 0, result.stdout
    assert result.stdout == ""
    assert "0 file(s) would be reformatted" in result.stderr


def test_cli_check_diff_and_write(zhenshen: Invoke, tmp_path: Path) -> None:
    pack = tmp_path / "p"
    pack.mkdir()
    (pack / "pack.yaml").write_text("id: p\nschema: 1\n", encoding="utf-8")
    check = zhenshen("fmt", "--check", str(pack))
    assert check.exit_code == 1
    assert check.stdout == f"would reformat {pack / 'pack.yaml'}\n"
    assert (pack / "pack.yaml").read_text(encoding="utf-8") == "id: p\nschema: 1\n"
    diff = zhenshen("fmt", "--diff", str(pack / "pack.yaml"))
    assert diff.exit_code == 0
    assert "+schema: 1\n id: p\n-schema: 1\n" in diff.stdout
    write = zhenshen("fmt", str(pack))
    assert write.exit_code == 0
    assert write.stdout == f"reformatted {pack / 'pack.yaml'}\n"
    assert (pack / "pack.yaml").read_text(encoding="utf-8") == "schema: 1\nid: p\n"
    assert zhenshen("fmt", "--check", str(pack)).exit_code == 0


def test_cli_errors(zhenshen: Invoke, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [\n", encoding="utf-8")
    result = zhenshen("fmt", "--check", str(bad))
    assert result.exit_code == 3
    assert result.stderr.startswith(f"error: {bad}:")
    empty = tmp_path / "nothing"
    empty.mkdir()
    result = zhenshen("fmt", str(empty))
    assert result.exit_code == 2
    assert "no pack.yaml" in result.stderr


# --- property: formatting twice equals formatting once, and keeps data and comments -----------

_words = st.text(alphabet=st.sampled_from("abz 准入营:#-'\"[]{},|>!&*%@`?\\\t1.0"), max_size=12)
_scalars = st.one_of(
    _words,
    st.integers(-(10**6), 10**6),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.sampled_from(
        [
            "yes",
            "no",
            "on",
            "null",
            "~",
            "1e3",
            "0x1F",
            "2026-01-05",
            "- x",
            "a\nb",
            "a\n",
            " lead",
            "tier#1",
            "S3",
            "#c",
        ]
    ),
)
_keys = st.sampled_from(
    [
        "id",
        "name",
        "when",
        "then",
        "rules",
        "tags",
        "severity",
        "x",
        "k y",
        "1",
        "tests",
        "expect",
        "case",
    ]
)
_trees = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_keys, inner, max_size=4)),
    max_leaves=14,
)


def _dump(data: object, flow: bool) -> str:
    import io

    yaml = YAML()
    yaml.default_flow_style = None if flow else False
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def _with_comments(text: str, picks: list[int]) -> str:
    """Insert full-line comments before some lines, at that line's indentation."""
    lines = text.splitlines()
    out = []
    for i, line in enumerate(lines):
        if i in picks and line.strip() and not line.startswith((" ", "-")) and i > 0:
            out.append(f"# note {i}")
        out.append(line)
    return "\n".join(out) + "\n"


def _comments(text: str) -> list[str]:
    return sorted(line.strip() for line in text.splitlines() if line.strip().startswith("# note"))


@settings(max_examples=60, deadline=None)
@given(
    data=st.dictionaries(_keys, _trees, min_size=1, max_size=5),
    flow=st.booleans(),
    picks=st.lists(st.integers(0, 30), max_size=4),
    name=st.sampled_from(["pack.yaml", "rules.yaml", "tests/t.yaml"]),
)
def test_format_is_idempotent_and_keeps_data_and_comments(
    data: dict[str, object], flow: bool, picks: list[int], name: str
) -> None:
    text = _with_comments(_dump(data, flow), picks)
    yaml = YAML(typ="safe")
    try:
        original = yaml.load(text)
    except Exception:  # ruamel's own dumper wrote something it cannot read back (e.g. ":0")
        assume(False)
    assume(original == data)  # ... or something that reads back as other data (e.g. "?&0")
    once = format_yaml(text, name)
    assert format_yaml(once, name) == once
    assert yaml.load(once) == original
    assert _comments(once) == _comments(text)


@settings(max_examples=60, deadline=None)
@given(
    words=st.lists(
        st.text(alphabet=st.sampled_from("abc准入#:-'\"[]{},>|!&*1"), min_size=1, max_size=14),
        min_size=8,
        max_size=40,
    )
)
def test_long_strings_fold_and_read_back_the_same(words: list[str]) -> None:
    value = " ".join(words)
    text = _dump({"rules": [{"id": "r", "when": value}]}, flow=False)
    once = format_yaml(text, "rules.yaml")
    assert format_yaml(once, "rules.yaml") == once
    assert YAML(typ="safe").load(once)["rules"][0]["when"] == value


def test_a_long_condition_is_folded_at_word_boundaries() -> None:
    when = " and ".join(f'content contains "关键词{i}"' for i in range(6))
    once = format_yaml(f"rules:\n  - id: r\n    when: {when}\n", "rules.yaml")
    lines = once.splitlines()
    assert lines[2] == "    when: >-"
    assert all(len(line) <= 100 for line in lines)
    assert YAML(typ="safe").load(once)["rules"][0]["when"] == when
