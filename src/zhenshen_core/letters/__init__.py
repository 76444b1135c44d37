"""Opinion letters (甄别审查意见书): template context and sandboxed rendering."""

from zhenshen_core.letters.render import (
    DEFAULT_TEMPLATES,
    TEMPLATE_DIR,
    LetterError,
    render_text,
    resolve_template,
)

__all__ = [
    "DEFAULT_TEMPLATES",
    "TEMPLATE_DIR",
    "LetterError",
    "render_text",
    "resolve_template",
]
