"""Render opinion letters from Jinja2 templates in a sandbox.

Templates are data: a rule pack may ship its own letter template, so it is rendered with
:class:`jinja2.sandbox.SandboxedEnvironment` (no attribute tricks reach Python internals) and
HTML output is autoescaped, because titles and contents come straight from the public.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from zhenshen_core.errors import ZhenshenError

TEMPLATE_DIR = Path(__file__).parent / "templates"
Format = Literal["markdown", "html"]
DEFAULT_TEMPLATES: Mapping[str, str] = {
    "markdown": "opinion_letter.md.j2",
    "html": "opinion_letter.html.j2",
}


class LetterError(ZhenshenError):
    """A letter template could not be found, parsed or rendered; the message names it."""


def _environment(search: list[Path], *, html: bool) -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        loader=jinja2.FileSystemLoader([str(p) for p in search]),
        autoescape=html,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
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
        return env.get_template(name).render(dict(context))
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
