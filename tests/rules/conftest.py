"""Helpers for rule tests: write a pack from YAML text, build cases from partial dicts, and run
the CLI (a pinned-width CliRunner over copies of the tester's fixture packs)."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from zhenshen_core.cli.main import build_cli
from zhenshen_core.model import Case, load_case

PACKS = Path(__file__).parent / "packs"
#: The packs (with test files) the CLI tests of ``zhenshen test``, ``fmt`` and ``diff`` copy.
CLI_PACKS = Path(__file__).parent / "tester" / "packs"

PACK_HEAD = """\
schema: 1
id: {id}
version: "1"
severity_levels: [S1, S2, S3, S4]
default_tier: general
default_chair: office_head
departments:
  - {{id: d.a, name: 甲局, aliases: [d.old]}}
  - {{id: d.b, name: 乙局}}
  - {{id: d.c, name: 丙局}}
experts:
  - {{id: lawyer, name: 律师}}
  - {{id: think_tank, name: 智库专家}}
domains:
  - {{id: financing, name: 融资}}
  - {{id: credit_repair, name: 信用修复}}
"""

WritePack = Callable[..., Path]


@pytest.fixture
def write_pack(tmp_path: Path) -> WritePack:
    """write_pack(rules_yaml, id="p", extra_head="", name="rules.yaml") -> folder."""

    def write(
        rules: str = "",
        *,
        id: str = "p",
        head: str | None = None,
        extra: str = "",
        name: str = "rules.yaml",
    ) -> Path:
        folder = tmp_path / id
        folder.mkdir(exist_ok=True)
        pack_yaml = (head if head is not None else PACK_HEAD.format(id=id)) + textwrap.dedent(extra)
        (folder / "pack.yaml").write_text(pack_yaml, encoding="utf-8")
        if rules:
            (folder / name).write_text(textwrap.dedent(rules), encoding="utf-8")
        return folder

    return write


def _make_case(**fields: Any) -> Case:
    data: dict[str, Any] = {"received_at": "2026-03-02T10:00:00+08:00", "external_id": "t-1"}
    data.update(fields)
    return load_case(data)


@pytest.fixture
def make_case() -> Callable[..., Case]:
    """make_case(**fields) -> Case, with received_at and external_id filled in."""
    return _make_case


@pytest.fixture
def packs_dir() -> Path:
    return PACKS


ENV = {
    "COLUMNS": "100",
    "NO_COLOR": "1",
    "ZHENSHEN_DISABLE_PLUGIN_AUTOLOAD": "1",
    "ZHENSHEN_PACK_PATH": "",
}

Invoke = Callable[..., Result]


@pytest.fixture
def packs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the fixture packs; the working directory is its parent."""
    target = tmp_path / "packs"
    shutil.copytree(CLI_PACKS, target)
    monkeypatch.chdir(tmp_path)
    return target


@pytest.fixture
def zhenshen() -> Invoke:
    """Run the CLI; stdout and stderr are kept apart, width and colour pinned."""
    runner = CliRunner()
    cli = build_cli()

    def invoke(*args: str, input: str | None = None) -> Result:
        return runner.invoke(
            cli, ["--no-plugins", *args], env=ENV, input=input, catch_exceptions=False
        )

    return invoke
