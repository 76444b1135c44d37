"""Running the ``zhenshen`` CLI in-process from a test, set up the same way in every suite.

Shared through the pytest ``pythonpath`` (``tests`` is on it), so the core CLI tests and the
plugins' CLI tests isolate the command from the developer's machine in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from zhenshen_core.cli.main import build_cli, prepare


def isolate_cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *, columns: int = 120) -> None:
    """Plugin autoload off, a pinned width, no colour, no store named by the environment, and
    ``tmp_path`` as the working directory: the output then depends on the test alone."""
    monkeypatch.setenv("ZHENSHEN_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv("COLUMNS", str(columns))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("ZHENSHEN_STORE", raising=False)
    monkeypatch.chdir(tmp_path)


def invoke_with_plugins(plugins: Sequence[str], *args: str) -> Result:
    """``zhenshen -p PLUGIN … ARGS`` in-process, catching nothing.

    ``prepare()`` adds the plugins' commands to the one command group: they are taken out again
    afterwards, so that a later test sees the built-in commands only.
    """
    argv = [arg for plugin in plugins for arg in ("-p", plugin)] + list(args)
    builtin = set(build_cli().commands)
    group, argv = prepare(argv)
    added = set(group.commands) - builtin
    try:
        return CliRunner().invoke(group, argv, catch_exceptions=False)
    finally:
        for name in added:
            group.commands.pop(name, None)
