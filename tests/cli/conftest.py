from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from clikit import isolate_cli

from zhenshen_core.cli.main import build_cli

GOOD = {
    "external_id": "GD-2020-0001",
    "channel": "hotline_12345",
    "received_at": "2020-04-13T09:30:00+08:00",
    "appeal_type": "complaint",
    "title": "施工许可办理缓慢",
    "content": "项目施工许可迟迟无法办结",
    "domain": "construction_permit",
    "enterprise": {"name": "成都某科技有限公司", "uscc": "91510100MA68NDJH6X", "size": "small"},
    "requester": {"name": "王先生", "phone": "13800001234"},
    "departments": [{"id": "gxq.gycsjsj", "role": "lead"}, {"id": "gxq.sthcsglj", "role": "co"}],
}


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[..., Result]:
    """Invoke the CLI in-process with autoload off, a pinned width and no colour."""
    isolate_cli(monkeypatch, tmp_path)
    group = build_cli()

    def invoke(*args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(group, list(args), input=input, catch_exceptions=False)

    return invoke


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    path = tmp_path / "cases.jsonl"
    second = dict(GOOD, external_id="GD-2020-0002", domain="financing", departments=[])
    path.write_text(
        json.dumps(GOOD, ensure_ascii=False) + "\n" + json.dumps(second, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'desk.db'}"
