"""A district fixes its profile and sends the work orders it refused again: ``zhenshen
deadletters retry --profile`` maps each dead letter's source row with the fixed profile, and
the ones that now become cases leave the list (from a CSV and from a workbook alike)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner, Result
from clikit import isolate_cli
from zhenshen_12345 import default_profile_path

from zhenshen_core.cli.main import prepare
from zhenshen_core.storage import open_store

COLUMNS = ["工单编号", "来电时间", "诉求类型", "诉求标题", "诉求内容", "联系电话"]
ROWS = [
    ["GD1", "2026/3/4 9:05", "投诉", "办不了证", "无法经营", "13800001234"],
    ["GD2", "2026/3/4 9:06", "闲聊", "问补贴", "补贴何时兑现", "13900005678"],  # unknown type
    ["GD3", "上周", "咨询", "坏日期", "x", ""],  # no profile fixes this one
]


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[..., Result]:
    isolate_cli(monkeypatch, tmp_path, columns=140)

    def invoke(*args: str) -> Result:
        group, argv = prepare(["-p", "zhenshen_12345.plugin", *args])
        return CliRunner().invoke(group, argv, catch_exceptions=False)

    return invoke


def _export(folder: Path, kind: str) -> str:
    if kind == "csv":
        lines = [",".join(COLUMNS)] + [",".join(r) for r in ROWS]
        (folder / "export.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
        return "export.csv"
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "工单"
    sheet.append(COLUMNS)
    for row in ROWS:
        sheet.append(row)
    book.save(folder / "export.xlsx")
    return "export.xlsx"


def _fixed_profile(folder: Path) -> Path:
    text = default_profile_path().read_text(encoding="utf-8")
    old = "  appeal_type: {from: 诉求类型, default: help}"
    assert old in text
    mapping = (
        "咨询: consult, 求助: help, 投诉: complaint, 举报: report, 建议: suggestion, 闲聊: consult"
    )
    fixed = text.replace(old, f"  appeal_type: {{from: 诉求类型, convert: {{map: {{{mapping}}}}}}}")
    (folder / "fixed.yaml").write_text(fixed, encoding="utf-8")
    return folder / "fixed.yaml"


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_retry_with_the_fixed_profile_stores_what_it_now_maps(
    run: Callable[..., Result], tmp_path: Path, kind: str
) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    source = _export(tmp_path, kind)
    assert run("ingest", "12345", source, "--store", url).exit_code == 1
    profile = _fixed_profile(tmp_path)
    assert run("profile", "check", str(profile)).exit_code == 0
    result = run("deadletters", "retry", "--all", "--profile", str(profile), "--store", url)
    assert result.exit_code == 1, result.output  # GD3's date is still no date
    assert "2 retried, 1 stored, 1 still dead letters" in result.stdout
    store = open_store(url)
    try:
        cases = {c.external_id: c for c in store.query()}
        assert sorted(cases) == ["GD1", "GD2"]
        assert cases["GD2"].appeal_type.value == "consult"
        (left,) = store.dead_letters()
        assert "上周" in left.reason and left.seen == 2
        assert json.loads(left.raw)["工单编号"] == "GD3"
    finally:
        store.close()


def test_retry_with_a_pack_decides_what_it_stores(
    run: Callable[..., Result], tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    source = _export(tmp_path, "csv")
    assert run("ingest", "12345", source, "--store", url).exit_code == 1
    profile = _fixed_profile(tmp_path)
    result = run(
        "-p", "zhenshen_chengdu_gaoxin.plugin", "deadletters", "retry", "--all",
        "--profile", str(profile), "--pack", "cn.chengdu.gaoxin", "--store", url,
    )  # fmt: skip
    assert "2 retried, 1 stored, 1 still dead letters" in result.stdout, result.output
    store = open_store(url)
    try:
        cases = {c.external_id: c for c in store.query()}
        assert cases["GD1"].decision is None  # ingested without a pack
        decided = cases["GD2"].decision
        assert decided is not None and decided["pack"]["id"] == "cn.chengdu.gaoxin"
    finally:
        store.close()
