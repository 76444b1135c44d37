"""``zhenshen privacy erase|retention|export|rotate-key|new-key`` on a real SQLite file."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

PHONE, ID_NUMBER = "13912345678", "11010519491231002X"


def order(n: int, received: str, content: str, phone: str) -> dict[str, object]:
    return {
        "external_id": f"GD-{n}",
        "channel": "hotline_12345",
        "received_at": received,
        "title": f"咨询 {n}",
        "content": content,
        "requester": {"name": "王小明", "phone": phone},
    }


@pytest.fixture
def desk(run: Callable[..., Result], tmp_path: Path) -> str:
    orders = [
        order(1, "2020-03-01T10:00:00+08:00", f"电话{PHONE}，身份证号码{ID_NUMBER}", PHONE),
        order(2, "2026-03-01T10:00:00+08:00", "无个人信息", "13700001111"),
    ]
    (tmp_path / "in.jsonl").write_text(
        "".join(json.dumps(o, ensure_ascii=False) + "\n" for o in orders), encoding="utf-8"
    )
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    assert run("ingest", "jsonl", "in.jsonl", "--store", url).exit_code == 0
    return url


def file_text(tmp_path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in tmp_path.glob("desk.db*"))


def test_export_then_erase_by_phone(
    run: Callable[..., Result], desk: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exported = run("privacy", "export", "--store", desk, "--phone", "139 1234 5678")
    assert exported.exit_code == 0, exported.output
    answer = json.loads(exported.stdout)
    assert [c["case"]["external_id"] for c in answer["cases"]] == ["GD-1"]
    assert answer["cases"][0]["case"]["requester"]["phone"] == PHONE
    monkeypatch.setenv("ZHENSHEN_ACTOR", "张科长")  # who is authenticated, never an option
    erased = run("privacy", "erase", "--store", desk, "--phone", PHONE)
    assert erased.exit_code == 0, erased.output
    assert "erased the personal data of 1 case" in erased.stdout
    assert PHONE.encode() not in file_text(tmp_path)
    listed = run("cases", "list", "--store", desk, "--format", "json")
    assert len(json.loads(listed.stdout)) == 2  # still counted
    again = run("privacy", "export", "--store", desk, "--phone", PHONE)
    assert json.loads(again.stdout) == {"cases": [], "dead_letters": []}
    logged = json.loads(run("audit", "list", "--store", desk, "--format", "json").stdout)
    assert [r["action"] for r in logged] == [
        "export_personal_data",
        "erase_personal_data",
        "export_personal_data",
    ]
    assert logged[1]["actor"] == "张科长"
    refused = run("privacy", "erase", "--store", desk, "--phone", PHONE, "--actor", "x")
    assert refused.exit_code == 2  # no option names the actor


def test_retention_dry_run_lists_and_a_real_run_erases_once(
    run: Callable[..., Result], desk: str
) -> None:
    args = ("privacy", "retention", "--store", desk, "--older-than", "3y", "--now", "2026-06-01")
    dry = run(*args, "--dry-run", "--format", "json")
    assert dry.exit_code == 0 and len(json.loads(dry.stdout)["cases"]) == 1
    assert json.loads(run(*args, "--format", "json").stdout) == json.loads(dry.stdout)
    assert json.loads(run(*args, "--format", "json").stdout)["cases"] == []  # nothing left
    closed_only = run(*args, "--status", "closed", "--dry-run")
    assert "of 0 cases" in closed_only.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("erase",), "name what to erase"),
        (("erase", "--phone", "12345"), "--phone is not a mobile or landline number"),
        (("erase", "--id-number", "110105194912310021"), "not a resident ID number"),
        (("erase", "--case", "ZS-NONE"), "no case with id"),
        (("retention", "--older-than", "three years"), "is not an age"),
        (("export",), "name the person"),
        (("rotate-key",), "name the key being replaced"),
    ],
)
def test_bad_requests_are_usage_errors_without_echoing_numbers(
    run: Callable[..., Result], desk: str, args: tuple[str, ...], message: str
) -> None:
    result = run("privacy", *args, "--store", desk)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "110105194912310021" not in result.stderr and "Traceback" not in result.output


def test_rotate_key_with_the_old_key_in_a_file(
    run: Callable[..., Result], desk: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    (tmp_path / "old.key").write_text(os.environ["ZHENSHEN_PII_KEY"])
    new = run("privacy", "new-key").stdout.strip()
    monkeypatch.setenv("ZHENSHEN_PII_KEY", new)
    refused = run("cases", "list", "--store", desk)
    assert refused.exit_code != 0 and "wrapped by master key" in refused.stderr
    rotated = run("privacy", "rotate-key", "--store", desk, "--old-key-file", "old.key")
    assert rotated.exit_code == 0, rotated.output
    assert rotated.stdout.startswith("rewrapped 3 data keys")  # two cases and the index key
    assert run("cases", "list", "--store", desk).exit_code == 0
    assert new not in rotated.output
