"""The public names are listed once per package (``_API``, name → module) and stay lazy: the
``TYPE_CHECKING`` imports that show them to mypy must say exactly what the mapping says, and
every name must resolve to what its module defines."""

from __future__ import annotations

import ast
import importlib
import inspect
import subprocess
import sys

import pytest

PACKAGES = ("zhenshen_core", "zhenshen_core.desk", "zhenshen_core.intake")


def _type_checking_imports(package: str) -> dict[str, str]:
    tree = ast.parse(inspect.getsource(importlib.import_module(package)))
    found: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for stmt in node.body:
                assert isinstance(stmt, ast.ImportFrom) and stmt.module, ast.unparse(stmt)
                for alias in stmt.names:
                    # ``import X as X``: an explicit re-export for mypy's strict mode
                    assert alias.asname == alias.name, ast.unparse(stmt)
                    found[alias.name] = stmt.module
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_type_checking_imports_equal_the_mapping(package: str) -> None:
    module = importlib.import_module(package)
    assert _type_checking_imports(package) == module._API


@pytest.mark.parametrize("package", PACKAGES)
def test_every_name_resolves_to_its_modules_object(package: str) -> None:
    module = importlib.import_module(package)
    assert set(module.__all__) - {"__version__"} == set(module._API)
    for name, source in module._API.items():
        assert getattr(module, name) is getattr(importlib.import_module(source), name), name


def test_importing_the_package_imports_nothing_else() -> None:
    code = "import sys, zhenshen_core; print(sorted(m for m in sys.modules if 'zhenshen' in m))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "['zhenshen_core', 'zhenshen_core._lazy']"


def test_a_name_listed_twice_is_refused() -> None:
    from zhenshen_core._lazy import public_names

    with pytest.raises(ValueError, match="'Desk' is listed under"):
        public_names({"a": ("Desk",), "b": ("Desk",)})
