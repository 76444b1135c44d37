"""Render opinion letters from Jinja2 templates in a sandbox.

Templates are data: a rule pack may ship its own letter template, so it is rendered in a
sandbox (``sandbox``: Jinja2's, with a budget of steps, time and sizes, so no template reaches
Python internals, runs on or fills the memory) and HTML output is autoescaped, because titles
and contents come straight from the public. Every template file is read through
``confined.ConfinedLoader``: only files whose real path lies in the template's own folder (or
among the built-in templates) are read, on every load. A template that goes past a bound is a
``LetterError`` naming it and its line, at once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import jinja2
from jinja2.exceptions import SecurityError
from markupsafe import Markup

from zhenshen_core.desk.fonts import LETTER as LETTER_FONTS
from zhenshen_core.desk.letters.confined import ConfinedLoader, TemplateRefused
from zhenshen_core.desk.letters.errors import LetterError
from zhenshen_core.desk.letters.sandbox import MAX_LETTER_CHARS, BoundedSandbox

TEMPLATE_DIR = Path(__file__).parent / "templates"
Format = Literal["markdown", "html"]
DEFAULT_TEMPLATES: Mapping[str, str] = {
    "markdown": "opinion_letter.md.j2",
    "html": "opinion_letter.html.j2",
}


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


def _environment(search: list[Path], *, html: bool) -> BoundedSandbox:
    env = BoundedSandbox(
        loader=ConfinedLoader(search),
        autoescape=html,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = md_escape
    env.filters["md_cell"] = md_cell
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
    location, so a broken or hostile pack template never surfaces as a traceback."""
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
    except LetterError:
        raise
    except jinja2.TemplateSyntaxError as exc:
        raise LetterError(
            f"letter template {exc.filename or name}:{exc.lineno}: syntax error: {exc.message}"
        ) from exc
    except TemplateRefused as exc:
        where = _where(env, exc.__traceback__, "")
        raise LetterError(f"letter template {where + ': ' if where else ''}{exc}") from exc
    except jinja2.TemplateNotFound as exc:
        raise LetterError(f"letter template {exc.name!r} not found") from exc
    except SecurityError as exc:
        where = _where(env, exc.__traceback__, name)
        raise LetterError(f"letter template {where} tried an unsafe operation: {exc}") from exc
    except jinja2.UndefinedError as exc:
        raise LetterError(f"letter template {name!r}: {exc.message}") from exc
    except RecursionError as exc:
        where = _where(env, exc.__traceback__, name)
        raise LetterError(
            f"letter template {where}: macros, loops or includes nest too deeply"
        ) from None
    except Exception as exc:  # a filter's ValueError, 1/0 …: the template's mistake, located
        where = _where(env, exc.__traceback__, name)
        raise LetterError(f"letter template {where}: {type(exc).__name__}: {exc}") from exc


def _where(env: BoundedSandbox, trace: TracebackType | None, name: str) -> str:
    """``file:line`` of the innermost template line in ``trace`` (Jinja rewrites tracebacks so
    that a template's frames carry its file name and line), else the template's name."""
    loader = env.loader
    served = loader.served if isinstance(loader, ConfinedLoader) else set()
    found = repr(name) if name else ""
    while trace is not None:
        filename = trace.tb_frame.f_code.co_filename
        if filename in served:
            found = f"{filename}:{trace.tb_lineno}"
        trace = trace.tb_next
    return found


def render_letter(
    context: Mapping[str, Any], *, fmt: Format = "markdown", template: str | Path | None = None
) -> str:
    """Check and render a letter context; ``template`` defaults to the context's own
    ``template`` key, then to the built-in template of the format."""
    from zhenshen_core.desk.letters.check import check_letter

    check_letter(context)
    chosen = template if template is not None else context.get("template")
    return render_text(context, fmt=fmt, template=chosen)
