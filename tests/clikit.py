"""Running the ``zhenshen`` CLI in-process from a test, set up the same way in every suite.

Shared through the pytest ``pythonpath`` (``tests`` is on it), so the core CLI tests and the
plugins' CLI tests isolate the command from the developer's machine in one place.
"""

from __future__ import annotations

from pathlib import Path

import pytest


def isolate_cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *, columns: int = 120) -> None:
    """Plugin autoload off, a pinned width, no colour, no store named by the environment, and
    ``tmp_path`` as the working directory: the output then depends on the test alone."""
    monkeypatch.setenv("ZHENSHEN_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv("COLUMNS", str(columns))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("ZHENSHEN_STORE", raising=False)
    monkeypatch.chdir(tmp_path)
