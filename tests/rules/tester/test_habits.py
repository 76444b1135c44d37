"""Terminal habits people bring from pytest: --pack-path where they type it, -q/-v counted,
and a -k that deselects everything said as such."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ..conftest import Invoke

CASE = {
    "received_at": "2026-03-02T10:00:00+08:00",
    "domain": "market_entry_operation",
    "content": "已取得营业执照但停产",
}


@pytest.fixture
def corpus(packs: Path) -> Path:
    path = packs.parent / "cases.jsonl"
    path.write_text(json.dumps(CASE, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "args",
    [
        ("test", "rt.district", "--pack-path", "packs"),
        ("test", "--pack-path", "packs", "rt.district"),
        ("check", "rt.district", "--pack-path", "packs"),
        ("eval", "--pack", "rt.district", "--pack-path", "packs", "--input", "cases.jsonl"),
        ("diff", "rt.basic", "rt.district", "--cases", "cases.jsonl", "--pack-path", "packs"),
    ],
)
def test_pack_path_after_the_command(
    zhenshen: Invoke, packs: Path, corpus: Path, args: tuple[str, ...]
) -> None:
    result = zhenshen(*args)
    assert result.exit_code == 0, result.stdout + result.stderr


def test_pack_path_before_and_after_the_command_merge(
    zhenshen: Invoke, packs: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # rt.district extends rt.basic: each is found through a different one of the three.
    apart = packs.parent / "apart"
    apart.mkdir()
    (packs / "basic").rename(apart / "basic")
    (packs / "district").rename(packs.parent / "district")
    result = zhenshen(
        "--pack-path", str(packs.parent), "check", "rt.district", "--pack-path", str(apart)
    )
    assert result.exit_code == 0, result.stderr
    missing = zhenshen("check", "rt.district", "--pack-path", str(apart))
    assert missing.exit_code == 1 and "P203" in missing.stderr


def test_letter_and_demo_take_pack_path_too(zhenshen: Invoke) -> None:
    for command in ("letter",):  # demo: the reference-pack plugin's tests
        assert "--pack-path DIR" in zhenshen(command, "--help").stdout


def test_quiet_and_verbose_count_like_pytest(zhenshen: Invoke, packs: Path) -> None:
    quiet = zhenshen("test", "packs/basic", "-q")
    assert quiet.exit_code == 0, quiet.stdout + quiet.stderr
    lines = quiet.stdout.splitlines()
    assert lines[0] == "....s"
    assert lines[1].startswith("4 passed, 1 skipped in ") and not lines[1].startswith("=")
    quieter = zhenshen("test", "packs/basic", "-qq")
    assert quieter.stdout.splitlines()[0].startswith("4 passed, 1 skipped in ")
    assert len(quieter.stdout.splitlines()) == 1
    normal = zhenshen("test", "packs/basic")
    assert normal.stdout.splitlines()[0] == "packs/basic/tests/classify.yaml ..."
    verbose = zhenshen("test", "packs/basic", "-v")
    assert verbose.stdout.splitlines()[0].endswith("取得执照但停产至少为重大 PASSED")
    cancelled = zhenshen("test", "packs/basic", "-v", "-q")  # one up, one down
    assert cancelled.stdout.splitlines()[:2] == normal.stdout.splitlines()[:2]


def test_very_verbose_shows_long_values_whole(zhenshen: Invoke, packs: Path) -> None:
    long_content = "已取得营业执照但停产" + "，情况说明" * 30  # 160: under fired[]'s cut at 200
    (packs / "basic/tests/long.yaml").write_text(
        "- name: 长文本\n"
        f"  case: {{domain: market_entry_operation, content: {long_content}}}\n"
        "  expect: {severity: S1}\n",
        encoding="utf-8",
    )
    shown = zhenshen("test", "packs/basic", "-k", "长文本")
    assert shown.exit_code == 1 and long_content not in shown.stdout and "…" in shown.stdout
    whole = zhenshen("test", "packs/basic", "-k", "长文本", "-vv")
    assert whole.exit_code == 1 and f'content="{long_content}"' in whole.stdout


def test_a_keyword_that_deselects_every_test_says_so(zhenshen: Invoke, packs: Path) -> None:
    result = zhenshen("test", "packs/basic", "-k", "nomatch")
    assert result.exit_code == 5  # nothing ran, as pytest
    assert result.stderr == "no tests ran: 5 deselected by -k 'nomatch'\n"
    assert "no tests collected" not in result.stdout + result.stderr
    assert result.stdout.splitlines()[-1].strip("= ").startswith("5 deselected in ")
    empty = zhenshen("test", "packs/empty")
    assert empty.exit_code == 5 and "no tests collected" in empty.stderr
