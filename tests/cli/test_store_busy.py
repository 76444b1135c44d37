"""A store another process holds locked: read-only commands go on, a write exits 75 in one line."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from zhenshen_core.storage import SQLiteStore
from zhenshen_core.testing.storage_contract import make_case, received

_HOLDER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.read()
"""


@pytest.mark.slow  # starts the process holding the lock
def test_cli_reads_while_locked_and_a_locked_write_exits_75(
    run: Callable[..., Result], tmp_path: Path
) -> None:
    db = tmp_path / "desk.db"
    with SQLiteStore(db) as store:
        store.ingest(*received(make_case(1)))
    orders = tmp_path / "orders.jsonl"
    orders.write_text(
        '{"external_id": "GD-9", "received_at": "2026-03-02T09:30:00+08:00", "title": "t"}\n',
        encoding="utf-8",
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(db)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        # Today's `cases list` waited the busy timeout (30 s) in the store's migration step.
        listed = run("cases", "list", "--store", f"sqlite:///{db}", "--format", "json")
        ingest = run("ingest", "jsonl", str(orders), "--store", f"sqlite:///{db}?timeout=0.2")
    finally:
        holder.kill()
        holder.wait(10)
    assert listed.exit_code == 0, listed.output
    assert make_case(1).id in listed.stdout
    assert ingest.exit_code == 75, ingest.output
    lines = ingest.stderr.strip().splitlines()
    assert len(lines) == 1 and f"pid {holder.pid}" in lines[0] and "locked" in lines[0]
