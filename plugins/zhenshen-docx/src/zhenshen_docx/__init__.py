"""DOCX opinion letters (甄别审查意见书) for zhenshen_core."""

from zhenshen_docx.render import FONTS, SECTION_HEADINGS, render_docx

__all__ = ["FONTS", "SECTION_HEADINGS", "render_docx"]
