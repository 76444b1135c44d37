"""zhenshen new: every scaffold passes its own tests straight away; the pytest plugin is opt-in."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import CLI_PACKS as PACKS
from ..conftest import Invoke

pytestmark = pytest.mark.slow  # runs pytest and ruff in child processes
PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
RUFF = str(Path(sys.executable).parent / "ruff")


def ruff_clean(folder: Path) -> None:
    """Generated code passes ruff (with the scaffold's own settings) and is ruff-formatted."""
    for args in (["check", "--select", "E,F,W,I,B,UP,SIM", "."], ["format", "--check", "."]):
        done = subprocess.run(
            [RUFF, *args], cwd=folder, capture_output=True, text=True, timeout=120, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr


def run_pytest(
    folder: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "ZHENSHEN_DISABLE_PLUGIN_AUTOLOAD": "1", **(env or {})}
    environ.pop("PYTEST_ADDOPTS", None)
    return subprocess.run(
        [*PYTEST, *args],
        cwd=folder,
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_new_pack_passes_its_own_tests(
    zhenshen: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    made = zhenshen("new", "pack", "cn.chengdu.wuhou")
    assert made.exit_code == 0, made.stderr
    root = tmp_path / "zhenshen-pack-cn-chengdu-wuhou"
    pack = root / "src/zhenshen_pack_cn_chengdu_wuhou/pack"
    assert made.stdout.startswith("created zhenshen-pack-cn-chengdu-wuhou/ (9 files)\n")
    assert (pack / "pack.yaml").is_file() and (root / "README.md").is_file()
    tested = zhenshen("test", str(pack), "--coverage", "--threshold", "100")
    assert tested.exit_code == 0, tested.stdout
    assert "2 passed" in tested.stdout
    assert zhenshen("fmt", "--check", str(root)).exit_code == 0
    result = run_pytest(root)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout  # the registration test and the two YAML tests
    ruff_clean(root)


def test_new_pack_extending_a_base(zhenshen: Invoke, tmp_path: Path) -> None:
    made = zhenshen(
        "new", "pack", "cn.chengdu.wuhou", "--extends", "rt.basic", "-o", str(tmp_path / "wuhou")
    )
    assert made.exit_code == 0, made.stderr
    pack = tmp_path / "wuhou/src/zhenshen_pack_cn_chengdu_wuhou/pack"
    assert "extends: [rt.basic]" in (pack / "pack.yaml").read_text(encoding="utf-8")
    tested = zhenshen("--pack-path", str(PACKS), "test", str(pack))
    assert tested.exit_code == 0, tested.stdout + tested.stderr
    result = run_pytest(tmp_path / "wuhou", env={"ZHENSHEN_PACK_PATH": str(PACKS)})
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_plugin_kind_passes_its_own_tests(zhenshen: Invoke, tmp_path: Path) -> None:
    roots = []
    for kind in ("storage", "intake", "calendar", "renderer"):
        made = zhenshen("new", "plugin", kind, f"demo-{kind}", "-o", str(tmp_path / kind))
        assert made.exit_code == 0, made.stderr
        roots.append(tmp_path / kind)
        ruff_clean(tmp_path / kind)
    # One run for all four (importlib mode: each has its own tests/test_plugin.py) ...
    paths = os.pathsep.join(str(r / "src") for r in roots)
    result = run_pytest(
        tmp_path,
        "--import-mode=importlib",
        "-k",
        "not Machine",
        *[str(r / "tests") for r in roots],
        env={"PYTHONPATH": paths},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout and "failed" not in result.stdout
    # ... and one with the scaffold's own configuration.
    own = run_pytest(tmp_path / "calendar")
    assert own.returncode == 0, own.stdout + own.stderr
    assert "3 passed" in own.stdout


def test_scaffold_usage_errors(zhenshen: Invoke, tmp_path: Path) -> None:
    bad = zhenshen("new", "pack", "Not A Pack")
    assert bad.exit_code == 2 and "pack id 'Not A Pack'" in bad.stderr
    assert zhenshen("new", "plugin", "teleport", "x").exit_code == 2
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "keep.txt").write_text("x", encoding="utf-8")
    result = zhenshen("new", "plugin", "renderer", "x", "-o", str(occupied))
    assert result.exit_code == 2 and "not empty" in result.stderr


def test_pytest_plugin_is_opt_in_and_reports_failures(tmp_path: Path) -> None:
    pack = tmp_path / "basic"
    shutil.copytree(PACKS / "basic", pack)
    (pack / "tests/failing.yaml").write_text(
        "- name: 故意失败\n  case: {domain: financing, facts: {loan_wan: 5000}}\n"
        "  expect: {severity: S4}\n",
        encoding="utf-8",
    )
    without = run_pytest(tmp_path, "basic")
    assert without.returncode == 5, without.stdout  # nothing collected without -p
    with_plugin = run_pytest(tmp_path, "-p", "zhenshen_core.testing.pytest_plugin", "basic", "-rfs")
    assert with_plugin.returncode == 1, with_plugin.stdout + with_plugin.stderr
    out = with_plugin.stdout
    assert "1 failed, 4 passed, 1 skipped" in out
    assert "basic/tests/failing.yaml:1  (pack rt.basic)" in out
    assert '  severity\n    expected: "S4"\n    actual:   "S3"' in out
    assert "SKIPPED [1] basic/tests/route.yaml" in out and "等待金融工作局确认" in out
