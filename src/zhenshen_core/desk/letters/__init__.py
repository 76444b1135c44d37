"""Opinion letters (甄别审查意见书): template context and sandboxed rendering.

``letter_context(case, decision, letter_no=…, issued_at=…, org=…, pack=…)`` builds the
documented context and checks it (``check_letter``: dates, display names, measures, expert
advice); ``render_letter(context, fmt="markdown"|"html", template=None)`` checks and renders it
with the built-in or a pack's template. The ``markdown`` and ``html`` renderer plugins wrap the
same two calls; DOCX comes from the ``zhenshen-docx`` plugin.
"""

from zhenshen_core.desk.letters.check import check_letter, letter_problems
from zhenshen_core.desk.letters.context import (
    DEFAULT_ORG,
    TITLE,
    chinese_date,
    letter_context,
    letter_number,
)
from zhenshen_core.desk.letters.errors import LetterCheckError, LetterError, MeasureError
from zhenshen_core.desk.letters.measures import period_in, resolve_measure, resolve_measures
from zhenshen_core.desk.letters.names import DEFAULT_EXPERT_NAMES, Names, pack_names
from zhenshen_core.desk.letters.render import (
    DEFAULT_TEMPLATES,
    TEMPLATE_DIR,
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
    "LetterCheckError",
    "LetterError",
    "MeasureError",
    "Names",
    "check_letter",
    "chinese_date",
    "letter_context",
    "letter_number",
    "letter_problems",
    "md_cell",
    "md_escape",
    "pack_names",
    "period_in",
    "render_letter",
    "render_text",
    "resolve_measure",
    "resolve_measures",
    "resolve_template",
]
