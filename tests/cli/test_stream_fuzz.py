"""Property: whatever bytes a record stream holds, ``eval``, ``ingest`` and ``diff`` account
for every record (decided or stored, or reported with its line) and exit as documented: never a
traceback, never an "internal error", never a record silently dropped."""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zhenshen_core.cli.main import build_cli

PACK = Path(__file__).parents[1] / "rules" / "packs" / "base"


def _case(n: int, content: str) -> bytes:
    record = {
        "external_id": f"FZ-{n}",
        "received_at": "2026-03-02T10:00:00+08:00",
        "domain": "market_entry_operation",
        "content": content,
    }
    return json.dumps(record, ensure_ascii=False).encode()


NO_NEWLINES = st.binary(max_size=60).map(lambda b: b.replace(b"\n", b"").replace(b"\r", b""))
HOSTILE = st.sampled_from(
    [
        b"[" * 3000,  # nesting no parser follows
        b'{"received_at": "2026-03-02T10:00:00+08:00", "facts": {"a": ' + b"[" * 50,
        b'{"received_at": "2026-03-02T10:00:00+08:00", "content": "\xc6\xf3"}',  # GBK
        b'{"received_at": "2026-03-02T10:00:00+08:00", "content": "\\ud800"}',  # lone surrogate
        b'{"received_at": "not a time"}',
        b"[1, 2]",
        b"null",
        b"\xef\xbb\xbf{}",  # a byte-order mark in the middle of a stream
        b'{"received_at": "2026-03-02T10:00:00+08:00", "departments": 7}',
        b'{"received_at": "2026-03-02T10:00:00+08:00", "title": "a\\u0000b"}',  # a NUL
        b'{"received_at": "2026-03-02T10:00:00+08:00", "content": "' + b"x" * 30_000 + b'"}',
    ]
)
LINE = st.one_of(
    st.builds(_case, st.integers(0, 10**6), st.text(max_size=40)),
    NO_NEWLINES,
    HOSTILE,
)
STREAM = st.lists(LINE, min_size=1, max_size=12)


def _records(lines: list[bytes]) -> int:
    """Records the command should account for: the lines that are not blank."""
    return sum(1 for line in lines if line.decode("utf-8", "surrogateescape").strip() != "")


# Each example runs whole CLI commands over a generated file: 40 keep the file under a minute
# whatever the profile (soak runs still reach every shape of line in a few hundred).
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


#: Plugins stay out of the way (CliRunner sets the environment for each run).
ENV = {"ZHENSHEN_DISABLE_PLUGIN_AUTOLOAD": "1", "ZHENSHEN_STORE": None}


@pytest.fixture(scope="module")
def cli() -> click.Group:
    return build_cli()


@FUZZ
@given(lines=STREAM)
def test_eval_accounts_for_every_record(cli: click.Group, lines: list[bytes]) -> None:
    stream = b"\n".join([_case(0, "首行"), *lines]) + b"\n"  # JSONL: the first line is a case
    result = CliRunner(env=ENV).invoke(cli, ["eval", "--pack", str(PACK)], input=stream)
    assert result.exit_code in (0, 1), result.output
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    decided = len(result.stdout.splitlines())
    skipped = re.search(r"(\d+) invalid record\(s\) skipped", result.stderr)
    invalid = int(skipped.group(1)) if skipped else 0
    assert decided + invalid == 1 + _records(lines)
    assert (result.exit_code == 1) == (invalid > 0)


def _on_file(cli: click.Group, lines: list[bytes], arguments: list[str]) -> Result:
    """Run the command with ``{}`` in ``arguments`` naming a JSONL file of ``lines``."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "cases.jsonl"
        path.write_bytes(b"\n".join(lines) + b"\n")
        named = [str(path) if argument == "{}" else argument for argument in arguments]
        return CliRunner(env=ENV).invoke(cli, [*named, "--format", "json"])


@FUZZ
@given(lines=STREAM)
def test_ingest_accounts_for_every_record(cli: click.Group, lines: list[bytes]) -> None:
    result = _on_file(cli, lines, ["ingest", "jsonl", "{}", "--store", "memory://"])
    assert result.exit_code in (0, 1), result.output
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    summary = json.loads(result.stdout)
    assert summary["read"] == _records(lines)
    assert summary["read"] == summary["created"] + summary["duplicates"] + summary["rejected"]
    assert (result.exit_code == 1) == (summary["rejected"] > 0)


@FUZZ
@given(lines=STREAM)
def test_diff_accounts_for_every_record(cli: click.Group, lines: list[bytes]) -> None:
    packs = ["--pack-path", str(PACK.parent), "diff", str(PACK), str(PACK.parent / "district")]
    result = _on_file(cli, lines, [*packs, "--cases", "{}", "--validate-all", "--jobs", "1"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["summary"]["cases"] == _records(lines)
    assert report["summary"]["invalid"] == len(report["invalid"])
    assert all(item["error"] for item in report["invalid"])
