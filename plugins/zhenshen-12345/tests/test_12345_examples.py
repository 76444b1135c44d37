"""The 12345 profile how-to's example (examples/profiles) does what the how-to says."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from zhenshen_core.cli.main import prepare

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples" / "profiles"
PACK = ROOT / "plugins" / "zhenshen-chengdu-gaoxin" / "src" / "zhenshen_chengdu_gaoxin" / "pack"


def test_the_district_profile_checks_tests_and_ingests(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ZHENSHEN_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.chdir(tmp_path)

    def run(*args: str) -> object:
        group, argv = prepare(["-p", "zhenshen_12345.plugin", *args])
        return CliRunner().invoke(group, argv, catch_exceptions=False)

    profile = str(EXAMPLES / "gaoxin-12345.yaml")
    check = run("profile", "check", profile, "--pack", str(PACK))
    assert check.exit_code == 0, check.output  # type: ignore[attr-defined]
    tests = run("profile", "test", profile)
    assert tests.exit_code == 0 and "5 passed" in tests.stdout  # type: ignore[attr-defined]
    export = str(EXAMPLES / "12345-export.csv")
    stored = run(
        "ingest", "12345", export, "--profile", profile, "--store", "sqlite:///d.db",
        "--pack", str(PACK),
    )  # fmt: skip
    assert stored.exit_code == 1  # type: ignore[attr-defined]
    assert "4 read, 3 created, 0 duplicate, 1 rejected" in stored.stdout  # type: ignore[attr-defined]
    assert f"{export}:7: rejected: 来电时间 → received_at: '上周五'" in stored.stderr  # type: ignore[attr-defined]
