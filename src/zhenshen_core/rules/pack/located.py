"""A YAML file as plain data plus the line and column of every node.

Both YAML readers (``source``: ruamel.yaml, and ``yaml_fast``: libyaml) build this record, and
every later step (``extends``, ``check``) reports ``file:line:col`` through it. It lives apart so
that neither reader imports the other for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

Path_ = tuple[str | int, ...]


@dataclass
class Located:
    """A YAML file as plain data plus the 1-based position of every node."""

    file: str
    data: Any
    positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    styles: dict[Path_, str] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)

    def at(self, path: Sequence[str | int]) -> tuple[int, int]:
        key = tuple(path)
        while key:
            if key in self.positions:
                return self.positions[key]
            key = key[:-1]
        return (1, 1)

    def text_start(self, path: Sequence[str | int]) -> tuple[int, int]:
        """Where the text of a string value begins (inside quotes / on a block's next line)."""
        line, col = self.at(path)
        style = self.styles.get(tuple(path), "plain")
        if style == "quoted":
            return line, col + 1
        if style == "block" and line < len(self.lines):
            nxt = self.lines[line]  # the line after the indicator (lines is 0-based)
            return line + 1, len(nxt) - len(nxt.lstrip()) + 1
        return line, col


__all__ = ["Located", "Path_"]
