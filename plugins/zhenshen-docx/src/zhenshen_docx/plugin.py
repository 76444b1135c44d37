"""Registers the ``docx`` renderer with zhenshen_core's plugin host."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from zhenshen_core.plugins import Renderer, hookimpl


def render_docx(context: Mapping[str, Any]) -> bytes:
    # Imported on use: every command builds the plugin host, few render a letter.
    from zhenshen_docx.render import render_docx as render

    return render(context)


@hookimpl
def zhenshen_renderers() -> list[Renderer]:
    return [
        Renderer(
            name="docx",
            description="甄别审查意见书 as a Word document (GB/T 9704 layout: 红头, 文号, 仿宋)",
            media_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            extension=".docx",
            render=render_docx,
        )
    ]
