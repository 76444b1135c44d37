"""Fixtures shared by the intake tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from zhenshen_core.storage import MemoryStore, SQLiteStore
from zhenshen_core.storage.protocol import CaseStore


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CaseStore]:
    """An empty store of each kind the core ships, closed when the test ends: intake must
    behave the same on both."""
    made: CaseStore = MemoryStore() if request.param == "memory" else SQLiteStore(tmp_path / "d.db")
    try:
        yield made
    finally:
        made.close()
