"""Opinion letters (甄别审查意见书): template context and sandboxed rendering.

``letter_context(case, decision, letter_no=…, issued_at=…, org=…)`` builds the documented
context; ``render_letter(context, fmt="markdown"|"html", template=None)`` renders it with the
built-in or a pack's template. The ``markdown`` and ``html`` renderer plugins wrap the same two
calls; DOCX comes from the ``zhenshen-docx`` plugin.
"""

from zhenshen_core.letters.context import (
    DEFAULT_EXPERT_NAMES,
    DEFAULT_ORG,
    TITLE,
    chinese_date,
    letter_context,
    letter_number,
    pack_names,
)
from zhenshen_core.letters.render import (
    DEFAULT_TEMPLATES,
    TEMPLATE_DIR,
    LetterError,
    md_cell,
    md_escape,
    render_letter,
    render_text,
    resolve_template,
)

__all__ = [
    "DEFAULT_EXPERT_NAMES",
    "DEFAULT_ORG",
    "DEFAULT_TEMPLATES",
    "TEMPLATE_DIR",
    "TITLE",
    "LetterError",
    "chinese_date",
    "letter_context",
    "letter_number",
    "md_cell",
    "md_escape",
    "pack_names",
    "render_letter",
    "render_text",
    "resolve_template",
]
