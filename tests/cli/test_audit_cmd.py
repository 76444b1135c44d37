"""``zhenshen audit list``: the access log from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from zhenshen_core.cli.main import build_cli
from zhenshen_core.storage import SQLiteStore
from zhenshen_core.testing.audit_contract import make_audit_record


def _store(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    with SQLiteStore.from_url(url) as store:
        store.record_audit(make_audit_record(0, case_id="ZS-A"))
        store.record_audit(make_audit_record(1, case_id="ZS-B", remote="10.0.0.7"))
        store.record_audit(make_audit_record(2, case_id="ZS-A", desk="wuhou"))
    return url


def test_list_as_json_filters_by_case_and_since(tmp_path: Path) -> None:
    url = _store(tmp_path)
    runner = CliRunner()
    result = runner.invoke(
        build_cli(), ["audit", "list", "--store", url, "--case", "ZS-A", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    assert [r["id"] for r in records] == ["AU-000000", "AU-000002"]
    assert records[0]["action"] == "read_personal_data"
    result = runner.invoke(
        build_cli(),
        [
            "audit",
            "list",
            "--store",
            url,
            "--since",
            "2026-03-02T09:31:00+08:00",
            "--format",
            "json",
        ],
    )
    assert [r["id"] for r in json.loads(result.stdout)] == ["AU-000001", "AU-000002"]


def test_list_as_a_table(tmp_path: Path) -> None:
    url = _store(tmp_path)
    result = CliRunner().invoke(build_cli(), ["audit", "list", "--store", url, "--limit", "1"])
    assert result.exit_code == 0, result.output
    assert "ZS-A" in result.stdout and "wuhou" in result.stdout and "ZS-B" not in result.stdout
    assert "1 record(s)" in result.stderr


def test_a_bad_since_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        build_cli(), ["audit", "list", "--store", _store(tmp_path), "--since", "yesterday"]
    )
    assert result.exit_code == 2
    assert "not an ISO date" in result.stderr and "Traceback" not in result.output
