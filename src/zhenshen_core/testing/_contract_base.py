"""The fixture every storage contract suite shares: one store per test, closed afterwards.

Each contract (storage, reliability, audit, personal data) is subclassed once per backend, which
only says how to open a store; the open-and-close around each test is the same for all of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from zhenshen_core.storage.protocol import CaseStore


class ContractBase:
    """Base of the contract suites. Subclass a suite and implement :meth:`make_store`."""

    def make_store(self, tmp_path: Path) -> CaseStore:
        """Return a new, empty store; ``tmp_path`` is a fresh directory for file backends."""
        raise NotImplementedError(
            f"subclass {type(self).__name__} and implement make_store(tmp_path)"
        )

    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[CaseStore]:
        store = self.make_store(tmp_path)
        try:
            yield store
        finally:
            store.close()
