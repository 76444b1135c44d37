"""DOCX opinion letters (甄别审查意见书) for zhenshen_core.

The names are imported on first use: the plugin host imports this package for every
``zhenshen`` command, and python-docx is not needed until a letter is rendered.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from zhenshen_docx.render import FONTS, SECTION_HEADINGS, render_docx

_NAMES = ("FONTS", "SECTION_HEADINGS", "render_docx")


def __getattr__(name: str) -> object:
    if name not in _NAMES:
        raise AttributeError(f"module 'zhenshen_docx' has no attribute {name!r}")
    value = getattr(importlib.import_module("zhenshen_docx.render"), name)
    globals()[name] = value
    return value


__all__ = ["FONTS", "SECTION_HEADINGS", "render_docx"]
