"""Render opinion letters from Jinja2 templates in a sandbox.

Templates are data: a rule pack may ship its own letter template, so it is rendered with
:class:`jinja2.sandbox.SandboxedEnvironment` (no attribute tricks reach Python internals) and
HTML output is autoescaped, because titles and contents come straight from the public.

The sandbox keeps a template away from Python, not from the machine's time and memory: a
template could still loop ``range(100000)`` inside ``range(100000)`` or print
``"x" * 10**10``. So a rendering is also bounded: every ``range`` of one letter draws on a
shared budget of items, ``*`` and ``**`` may not build huge strings, lists or numbers, and the
letter itself has a maximum length. A template that goes past a bound is a ``LetterError``
naming it, at once.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

import jinja2
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from zhenshen_core.desk.fonts import LETTER as LETTER_FONTS
from zhenshen_core.desk.letters.errors import LetterError

TEMPLATE_DIR = Path(__file__).parent / "templates"
Format = Literal["markdown", "html"]
DEFAULT_TEMPLATES: Mapping[str, str] = {
    "markdown": "opinion_letter.md.j2",
    "html": "opinion_letter.html.j2",
}


#: The longest letter a template may produce (characters); real letters are a few thousand.
MAX_LETTER_CHARS = 200_000
#: Items that every ``range(...)`` of one rendering may produce together.
MAX_RANGE_ITEMS = 100_000
#: The largest string, list or number ``*`` and ``**`` may build in a template.
MAX_PRODUCT = 100_000


class _BoundedSandbox(SandboxedEnvironment):
    """The sandbox, with ``*`` and ``**`` checked before they run."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and _huge_power(left, right):
            raise SecurityError(f"{left!r} ** {right!r} is too large")
        if operator == "*":
            count, sequence = (right, left) if isinstance(right, int) else (left, right)
            sized = isinstance(sequence, str | list | tuple) and isinstance(count, int)
            if sized and len(sequence) * count > MAX_PRODUCT:
                raise SecurityError(f"a sequence repeated {count} times is too long")
        return super().call_binop(context, operator, left, right)


def _huge_power(base: Any, exponent: Any) -> bool:
    """More than 12 digits: no letter needs it, and ``10 ** 10 ** 10`` would not finish."""
    numbers = isinstance(base, int | float) and isinstance(exponent, int | float)
    return numbers and abs(base) > 1 and exponent > 0 and exponent * math.log10(abs(base)) > 12


def _budgeted_range(budget: int) -> Callable[..., range]:
    """``range`` for one rendering: nested loops share ``budget`` items."""
    left = budget

    def bounded_range(*args: int) -> range:
        nonlocal left
        items = range(*args)
        left -= len(items)
        if left < 0:
            raise SecurityError(
                f"the template's loops over range() go past {budget:,} items in all"
            )
        return items

    return bounded_range


_MD_SPECIAL = set("\\`*_[]<>|#~")
_MD_BULLET = re.compile(r"^([ \t]*)([-+=])", re.MULTILINE)
_MD_ORDERED = re.compile(r"^([ \t]*\d+)([.)])", re.MULTILINE)


def md_escape(value: Any) -> str:
    """Backslash-escape Markdown syntax in user text (CommonMark allows it before any ASCII
    punctuation), so a citizen's words cannot become headings, links or raw HTML when the
    Markdown letter is later shown as HTML."""
    text = "" if value is None else str(value)
    text = "".join("\\" + ch if ch in _MD_SPECIAL else ch for ch in text)
    text = _MD_BULLET.sub(lambda m: m.group(1) + "\\" + m.group(2), text)
    return _MD_ORDERED.sub(lambda m: m.group(1) + "\\" + m.group(2), text)


def md_cell(value: Any) -> str:
    """:func:`md_escape` for a table cell: line breaks would end the row, so they become spaces."""
    return " ".join(md_escape(value).split("\n"))


def _environment(search: list[Path], *, html: bool) -> SandboxedEnvironment:
    env = _BoundedSandbox(
        loader=jinja2.FileSystemLoader([str(p) for p in search]),
        autoescape=html,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = md_escape
    env.filters["md_cell"] = md_cell
    env.globals["range"] = _budgeted_range(MAX_RANGE_ITEMS)  # one environment per rendering
    # CSS font stacks (zhenshen_core.desk.fonts) for HTML templates; trusted text, not escaped.
    env.globals["fonts"] = {name: Markup(stack) for name, stack in LETTER_FONTS.items()}
    return env


def resolve_template(template: str | Path | None, fmt: Format) -> tuple[list[Path], str]:
    """Find the template: ``None`` is the built-in one, a name is looked up beside the
    built-ins, and a path to a file is used as is (its folder becomes the include path)."""
    if template is None:
        return [TEMPLATE_DIR], DEFAULT_TEMPLATES[fmt]
    path = Path(template)
    if path.is_file():
        return [path.parent.resolve(), TEMPLATE_DIR], path.name
    if (TEMPLATE_DIR / str(template)).is_file():
        return [TEMPLATE_DIR], str(template)
    raise LetterError(
        f"letter template {str(template)!r} not found (neither a file nor a built-in template; "
        f"built-ins: {', '.join(sorted(DEFAULT_TEMPLATES.values()))})"
    )


def render_text(
    context: Mapping[str, Any], *, fmt: Format = "markdown", template: str | Path | None = None
) -> str:
    """Render the letter; every template failure becomes a :class:`LetterError` with its
    location, so a broken pack template never surfaces as a traceback."""
    search, name = resolve_template(template, fmt)
    env = _environment(search, html=fmt == "html")
    try:
        parts: list[str] = []
        size = 0
        for part in env.get_template(name).generate(dict(context)):
            size += len(part)
            if size > MAX_LETTER_CHARS:
                raise LetterError(
                    f"letter template {name!r} produced more than {MAX_LETTER_CHARS:,} "
                    "characters; check its loops"
                )
            parts.append(part)
        return "".join(parts)
    except jinja2.TemplateSyntaxError as exc:
        raise LetterError(
            f"letter template {exc.filename or name}:{exc.lineno}: syntax error: {exc.message}"
        ) from exc
    except jinja2.TemplateNotFound as exc:
        raise LetterError(f"letter template {exc.name!r} not found") from exc
    except jinja2.exceptions.SecurityError as exc:
        raise LetterError(f"letter template {name!r} tried an unsafe operation: {exc}") from exc
    except jinja2.UndefinedError as exc:
        raise LetterError(f"letter template {name!r}: {exc.message}") from exc


def render_letter(
    context: Mapping[str, Any], *, fmt: Format = "markdown", template: str | Path | None = None
) -> str:
    """Check and render a letter context; ``template`` defaults to the context's own
    ``template`` key, then to the built-in template of the format."""
    from zhenshen_core.desk.letters.check import check_letter

    check_letter(context)
    chosen = template if template is not None else context.get("template")
    return render_text(context, fmt=fmt, template=chosen)
