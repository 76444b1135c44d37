"""Built-in letter renderers (Markdown, HTML); ``trylast`` so a plugin may register others."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from zhenshen_core.letters.render import render_text
from zhenshen_core.plugins.hookspecs import hookimpl
from zhenshen_core.plugins.records import Renderer


def _markdown(context: Mapping[str, Any]) -> bytes:
    return render_text(context, fmt="markdown", template=context.get("template")).encode()


def _html(context: Mapping[str, Any]) -> bytes:
    return render_text(context, fmt="html", template=context.get("template")).encode()


@hookimpl(trylast=True)
def zhenshen_renderers() -> list[Renderer]:
    return [
        Renderer(
            name="markdown",
            description="甄别审查意见书 as Markdown (built-in template)",
            media_type="text/markdown; charset=utf-8",
            extension=".md",
            render=_markdown,
        ),
    ]
