"""Shared output helpers: rich for people, plain JSON for machines (tests pin the width).

Every table a command prints goes through :func:`print_table`, so that all of them keep the
same two promises. Piped output (not a terminal) is never cut: no width limit, no wrapping, no
ellipsis, so ``zhenshen plugins | grep`` and ``zhenshen diff … > report.txt`` hold every name
whole. On a terminal the table fits the width: a column of ids (``whole``) is never cut or
wrapped, so an id can be pasted into the next command; other columns wrap (between words only,
for lists of ids), and where even that does not fit, the least useful columns (``drop``) are
left out. When the ids alone are wider than the terminal, the lines are longer than the
terminal rather than an id shorter.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import click
from rich.cells import cell_len
from rich.console import Console, JustifyMethod
from rich.table import Table
from rich.text import Text

FORMAT_OPTION = click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text for people, json for machines.",
)


def console(stderr: bool = False) -> Console:
    """A console that respects NO_COLOR and a fixed width under tests (COLUMNS)."""
    width = int(os.environ["COLUMNS"]) if os.environ.get("COLUMNS", "").isdigit() else None
    return Console(
        file=sys.stderr if stderr else sys.stdout,
        width=width,
        no_color="NO_COLOR" in os.environ,
        highlight=False,
        soft_wrap=False,
    )


def echo_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, default=str))


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a printed table and how it may give way on a narrow terminal.

    ``whole``: never cut, wrapped or left out (ids, numbers people copy). ``words``: may wrap,
    but only between words (a list of rule ids). ``drop``: may be left out when the terminal is
    too narrow; the highest number goes first, 0 never. ``min_width``: a wrapping column is not
    squeezed below this; a column that would have to be is left out instead, if it may be.
    """

    header: str
    justify: JustifyMethod = "left"
    whole: bool = False
    words: bool = False
    drop: int = 0
    min_width: int = 10


_GAP = 2  # cells between two columns (no box, one cell of padding on each side)


def _natural(texts: Iterable[str]) -> int:
    return max((cell_len(line) for text in texts for line in text.splitlines() or [""]), default=0)


def _longest_word(texts: Iterable[str]) -> int:
    return max((cell_len(word) for text in texts for word in text.split()), default=0)


def _fit(
    columns: Sequence[Column], cells: list[list[str]], width: int, show_header: bool
) -> tuple[list[int], list[int]]:
    """(indices of the columns kept, their widths) for a terminal ``width`` cells wide."""
    natural: list[int] = []
    least: list[int] = []
    for i, column in enumerate(columns):
        texts = [row[i] for row in cells] + ([column.header] if show_header else [])
        size = max(_natural(texts), 1)
        natural.append(size)
        if column.whole:
            least.append(size)
        else:
            floor = max(column.min_width, _longest_word(texts) if column.words else 0)
            least.append(min(size, floor))
    kept = list(range(len(columns)))

    def needed(indices: list[int]) -> int:
        return sum(least[i] for i in indices) + _GAP * (len(indices) - 1)

    while needed(kept) > width:
        droppable = [i for i in kept if columns[i].drop > 0]
        if not droppable:
            break
        kept.remove(max(droppable, key=lambda i: (columns[i].drop, i)))
    # Share what is left among the wrapping columns, the narrowest first (each gets its natural
    # width when it fits in an equal share).
    widths = {i: least[i] for i in kept}
    spare = width - needed(kept)
    growing = sorted((i for i in kept if natural[i] > least[i]), key=lambda i: natural[i])
    while growing and spare > 0:
        share = max(spare // len(growing), 1)
        i = growing.pop(0)
        extra = min(natural[i] - widths[i], share)
        widths[i] += extra
        spare -= extra
    return kept, [widths[i] for i in kept]


def render_table(
    columns: Sequence[Column],
    rows: Iterable[Sequence[str]],
    *,
    width: int | None,
    title: str | None = None,
    show_header: bool = True,
    color: bool = False,
) -> str:
    """The table as text: fitted to ``width`` cells (rich lays it out, wrapping), or at its
    natural width when None (plain text, one line per line of a cell, never colour)."""
    cells = [[str(cell) for cell in row] for row in rows]
    if width is None:
        return _plain_table(columns, cells, title, show_header)
    kept, widths = _fit(columns, cells, width, show_header)
    table = Table(
        box=None,
        pad_edge=False,
        show_header=show_header,
        title=None if title is None else Text(title),
        title_justify="left",
    )
    for i, size in zip(kept, widths, strict=True):
        column = columns[i]
        table.add_column(
            Text(column.header),
            justify=column.justify,
            width=size,
            no_wrap=column.whole,
            overflow="fold",
        )
    for row in cells:
        table.add_row(*(Text(row[i]) for i in kept))  # text, not markup: "[x]" stays
    total = sum(widths) + _GAP * (len(widths) - 1)
    if title is not None:
        total = max(total, cell_len(title))
    page = Console(
        width=max(total, width, 1),
        color_system="standard" if color else None,
        force_terminal=color,
        highlight=False,
        soft_wrap=False,
    )
    with page.capture() as captured:
        page.print(table)
    return "\n".join(line.rstrip() for line in captured.get().splitlines()) + "\n"


def _plain_table(
    columns: Sequence[Column], cells: list[list[str]], title: str | None, show_header: bool
) -> str:
    """The natural-width table without rich: what a pipe gets, laid out as rich lays out a
    table wide enough for it (a test keeps both equal) in a fraction of the time
    (``benchmarks/bench_tables.py``; docs/performance.md)."""
    rows = ([[c.header for c in columns]] if show_header else []) + cells
    split = [[cell.split("\n") for cell in row] for row in rows]
    widths = [
        max([1, *(cell_len(line) for row in split for line in row[i])])
        for i in range(len(columns))
    ]
    out = [title.rstrip()] if title is not None else []
    for row in split:
        for n in range(max(len(lines) for lines in row)):
            parts = []
            for i, lines in enumerate(row):
                text = lines[n] if n < len(lines) else ""
                right = columns[i].justify == "right"
                text = text.rstrip() if right else text  # as rich justifies a line
                pad = " " * (widths[i] - cell_len(text))
                parts.append(pad + text if right else text + pad)
            out.append("  ".join(parts).rstrip())
    return "\n".join(out) + "\n"


def print_table(
    columns: Sequence[Column],
    rows: Iterable[Sequence[str]],
    *,
    title: str | None = None,
    show_header: bool = True,
    stderr: bool = False,
) -> None:
    """Print a table to stdout (or stderr): fitted on a terminal, whole when piped."""
    out = console(stderr)
    terminal = out.is_terminal
    text = render_table(
        columns,
        rows,
        width=out.width if terminal else None,
        title=title,
        show_header=show_header,
        color=terminal and not out.no_color,
    )
    out.file.write(text)
    out.file.flush()
