"""Built-in letter renderers (Markdown, HTML); ``trylast`` so a plugin may register others.

Each takes the context of :func:`zhenshen_core.desk.letters.letter_context`; a ``template`` key
in the context (a template name or a pack's template file) replaces the built-in template.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from zhenshen_core.plugins.hookspecs import hookimpl
from zhenshen_core.plugins.records import Renderer


def _markdown(context: Mapping[str, Any]) -> bytes:
    # Imported here: every command registers the built-in plugins, few render letters, and
    # Jinja2 is a noticeable part of start-up.
    from zhenshen_core.desk.letters.render import render_letter

    return render_letter(context, fmt="markdown").encode("utf-8")


def _html(context: Mapping[str, Any]) -> bytes:
    from zhenshen_core.desk.letters.render import render_letter

    return render_letter(context, fmt="html").encode("utf-8")


@hookimpl(trylast=True)
def zhenshen_renderers() -> list[Renderer]:
    return [
        Renderer(
            name="markdown",
            description="甄别审查意见书 as Markdown (built-in template, sandboxed)",
            media_type="text/markdown; charset=utf-8",
            extension=".md",
            render=_markdown,
        ),
        Renderer(
            name="html",
            description="甄别审查意见书 as HTML (built-in template, sandboxed, autoescaped)",
            media_type="text/html; charset=utf-8",
            extension=".html",
            render=_html,
        ),
    ]
