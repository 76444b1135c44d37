"""The reference docs are generated from code; a stale copy fails here (datasette's habit)."""

from __future__ import annotations

import inspect
from pathlib import Path

import docsgen
import pytest

from zhenshen_core.plugins import hookspecs

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", sorted(docsgen.PAGES))
def test_generated_reference_is_up_to_date(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setenv("ZHENSHEN_DISABLE_PLUGIN_AUTOLOAD", "1")
    committed = (ROOT / "docs" / "reference" / name).read_text(encoding="utf-8")
    assert committed == docsgen.PAGES[name](), (
        f"docs/reference/{name} is stale: run `make docs` and commit the result"
    )


def test_every_hook_has_a_docstring() -> None:
    hooks = [
        f for n, f in inspect.getmembers(hookspecs, inspect.isfunction) if n.startswith("zhenshen_")
    ]
    assert len(hooks) >= 13
    for hook in hooks:
        assert hook.__doc__ and len(hook.__doc__.strip()) > 40, hook.__name__


def test_docs_index_links_exist() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for target in ("docs/architecture.md", "docs/performance.md"):
        assert target in readme and (ROOT / target).is_file(), target
