"""Fixtures for the rule-testing CLI: a pinned-width CliRunner and copies of the fixture packs."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from zhenshen_core.cli.main import build_cli

PACKS = Path(__file__).parent / "packs"
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
    shutil.copytree(PACKS, target)
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
