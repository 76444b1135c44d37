"""Module attributes imported on first use (PEP 562), for the packages' public re-exports.

A package lists its public names once, grouped by the module that defines them
(:func:`public_names`); ``__getattr__`` (:func:`lazy_attributes`) and ``__all__`` are derived
from that one mapping. The ``TYPE_CHECKING`` imports that let mypy see the names are the only
other place they are written, and ``tests/test_public_api.py`` checks both agree.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping


def public_names(groups: Mapping[str, Iterable[str]]) -> dict[str, str]:
    """``{module: names}`` turned into ``{name: module}``; a name given twice is a mistake."""
    out: dict[str, str] = {}
    for module, names in groups.items():
        for name in names:
            if name in out:
                raise ValueError(f"{name!r} is listed under {out[name]!r} and {module!r}")
            out[name] = module
    return out


def lazy_attributes(package: str, sources: Mapping[str, str]) -> Callable[[str], object]:
    """A module ``__getattr__`` for ``package``: ``sources`` maps a public name to the module
    defining it. The first access imports that module and keeps the value on the package, so
    later accesses are plain attribute lookups."""

    def __getattr__(name: str) -> object:
        source = sources.get(name)
        if source is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(source), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
