"""The workbook how-to's example (examples/workbooks) does what the how-to says."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from xlsx_workbooks import cli

from zhenshen_core.storage import open_store

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples" / "workbooks"
PACK = ROOT / "plugins" / "zhenshen-chengdu-gaoxin" / "src" / "zhenshen_chengdu_gaoxin" / "pack"


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    return cli(monkeypatch, tmp_path)


def test_the_ledger_imports_with_its_one_formula_error(run: Callable[..., Result]) -> None:
    ledger, profile = EXAMPLES / "台账示例.xlsx", EXAMPLES / "ledger.yaml"
    assert run("profile", "check", str(profile), "--pack", str(PACK)).exit_code == 0
    result = run(
        "ingest", "xlsx", str(ledger), "--profile", str(profile), "--store", "sqlite:///d.db",
        "--pack", str(PACK),
    )  # fmt: skip
    assert result.exit_code == 1
    assert "5 read, 4 created, 0 duplicate, 1 rejected" in result.stdout
    assert f"{ledger}!2026年一季度!B8: rejected: B8 (登记日期) holds the formula error #VALUE!" in (
        result.stderr
    )
    store = open_store("sqlite:///d.db")
    try:
        cases = {c.external_id: c for c in store.query()}
    finally:
        store.close()
    assert sorted(cases) == ["TZ-2026-001", "TZ-2026-002", "TZ-2026-003", "TZ-2026-005"]
    assert cases["TZ-2026-003"].received_at.isoformat() == "2026-03-05T00:00:00+08:00"
    assert cases["TZ-2026-003"].lead_department == "gxq.gtj"  # merged over three rows
    assert cases["TZ-2026-002"].content == "2025年申报的研发费用补助至今未兑现。；第二次反映"
    assert all(c.channel.value == "service_officer" and c.decision for c in cases.values())
