"""Where the pages of a letter break, worked out from the document itself.

GB/T 9704-2012 (7.3.5.1) asks that the signature and date never stand alone on a page and
says how to avoid it: adjust the line spacing (调整行距). A word processor decides page breaks
only when it lays the document out, so this module lays it out the same way, well enough to
count pages: the text area of the section (A4 minus the margins), body text on a fixed line
pitch, characters one cell wide (Latin letters and digits half a cell, a Latin word never
broken), no line starting with closing punctuation or ending with opening punctuation (避头尾),
widow and orphan control, ``keep_with_next`` chains (a heading with the first lines of what
follows it, the last text with the signature and date), and table rows that do not split.

:func:`fit_pitch` then tightens the line pitch (28 pt down to 25 pt) where the letter's last page
would be nearly empty — typically the last legal basis, the signature and the date alone on a
third page. ``tests/test_docx_layout.py`` checks the page count against LibreOffice's layout.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from docx.oxml.ns import qn
from docx.shared import Length, Pt
from docx.table import Table
from docx.text.paragraph import Paragraph

#: Line pitches tried, largest first: 28 pt is the letter's own (22 lines on the page).
PITCHES: tuple[float, ...] = (28.0, 27.0, 26.0, 25.0)
#: A last page with at most this many lines of the letter's own pitch is "nearly empty".
SPARSE_LINES = 6
#: Cell margins of the "Table Grid" style (108 twips each side) and a ruled border.
CELL_MARGIN_PT = 5.4
BORDER_PT = 0.5

NO_LINE_START = set("，。、；：？！）》」』〕】”’…—%,.;:?!)]}")
NO_LINE_END = set("（《「『〔【“‘([{")


def cells(char: str) -> float:
    """How many character cells (the font size) a character takes."""
    return 1.0 if unicodedata.east_asian_width(char) in "WFA" else 0.5


def _tokens(text: str) -> Iterator[str]:
    """Unbreakable pieces: one CJK character, or a whole Latin word with its trailing space."""
    word = ""
    for char in text:
        if cells(char) == 0.5 and not char.isspace():
            word += char
            continue
        if word:
            yield word
            word = ""
        yield char
    if word:
        yield word


def wrap(text: str, size: float, width: float, first_indent: float = 0.0) -> int:
    """Lines ``text`` takes at font ``size`` (pt) in ``width`` pt, the first line indented."""
    if not text:
        return 1
    lines, used, limit = 1, 0.0, (width - first_indent) / size
    last: str | None = None
    for token in _tokens(text):
        extent = sum(cells(c) for c in token)
        if used + extent > limit + 1e-6 and used > 0:
            if token[0] in NO_LINE_START and last is not None and last not in NO_LINE_START:
                extent += cells(last)  # the last character goes down with the punctuation
            elif last is not None and last in NO_LINE_END:
                extent += cells(last)
            lines, used, limit = lines + 1, 0.0, width / size
            if token.isspace():
                continue
        used += extent
        last = token[-1]
    return lines


@dataclass(frozen=True)
class Block:
    """One thing laid out in the flow: a paragraph (``lines`` × ``pitch``) or a table row."""

    lines: int
    pitch: float
    keep_with_next: bool = False
    splittable: bool = True
    label: str = ""
    extra: float = 0.0
    """height beyond the lines: borders, space before and after"""

    @property
    def height(self) -> float:
        return self.lines * self.pitch + self.extra


def _pt(length: Length | None) -> float:
    return float(length.pt) if length is not None else 0.0


def _size(paragraph: Paragraph, default: float) -> float:
    sizes = [r.font.size.pt for r in paragraph.runs if r.font.size is not None]
    return max(sizes) if sizes else default


def paragraph_block(paragraph: Paragraph, width: float, default_size: float) -> Block:
    fmt = paragraph.paragraph_format
    size = _size(paragraph, default_size)
    spacing = fmt.line_spacing
    pitch = spacing.pt if isinstance(spacing, Length) else size * 1.3
    text_width = width - _pt(fmt.left_indent) - _pt(fmt.right_indent)
    lines = wrap(paragraph.text, size, text_width, _pt(fmt.first_line_indent))
    return Block(
        lines,
        pitch,
        bool(fmt.keep_with_next),
        True,
        paragraph.text[:20],
        extra=_border_height(paragraph) + _pt(fmt.space_before) + _pt(fmt.space_after),
    )


def _border_height(paragraph: Paragraph) -> float:
    """A bottom or top border adds its distance from the text and its own width (the red rule
    under the 文号 takes 6 pt + 2.25 pt)."""
    p_pr = paragraph._p.pPr
    borders = p_pr.find(qn("w:pBdr")) if p_pr is not None else None
    height = 0.0
    for side in ("w:top", "w:bottom"):
        border = borders.find(qn(side)) if borders is not None else None
        if border is not None:
            height += float(border.get(qn("w:space"), "0")) + float(border.get(qn("w:sz"), "0")) / 8
    return height


def row_blocks(table: Table, default_size: float) -> list[Block]:
    widths = [float(col.get(qn("w:w"))) / 20 for col in table._tbl.tblGrid.findall(qn("w:gridCol"))]
    blocks = []
    for number, row in enumerate(table.rows):
        height = 0.0
        for cell, width in zip(row.cells, widths, strict=False):
            inner = width - 2 * CELL_MARGIN_PT
            cell_height = 0.0
            for paragraph in cell.paragraphs:
                block = paragraph_block(paragraph, inner, default_size)
                cell_height += block.height
            height = max(height, cell_height)
        rule = BORDER_PT * (2 if number == 0 else 1)  # the first row carries the top rule too
        blocks.append(Block(1, height + rule, False, False, "row"))
    return blocks


def blocks_of(doc: Any) -> list[Block]:
    """The flow of the document's body, in order."""
    section = doc.sections[0]
    width = _pt(section.page_width) - _pt(section.left_margin) - _pt(section.right_margin)
    default_size = doc.styles["Normal"].font.size.pt if doc.styles["Normal"].font.size else 10.5
    out: list[Block] = []
    for child in doc.element.body.iterchildren():
        if child.tag == qn("w:p"):
            out.append(paragraph_block(Paragraph(child, doc), width, default_size))
        elif child.tag == qn("w:tbl"):
            out += row_blocks(Table(child, doc), default_size)
    return out


def text_height(doc: Any) -> float:
    section = doc.sections[0]
    return _pt(section.page_height) - _pt(section.top_margin) - _pt(section.bottom_margin)


def paginate(blocks: Sequence[Block], capacity: float) -> list[list[int]]:
    """Pages as lists of block indexes (a split paragraph appears on both pages)."""
    pages: list[list[int]] = [[]]
    used = 0.0
    i = 0
    while i < len(blocks):
        chain_end = i
        while chain_end < len(blocks) - 1 and blocks[chain_end].keep_with_next:
            chain_end += 1
        # What must fit for the chain to start here: every block but the last whole, then
        # the first lines of the last one (two, with widow control; a row whole).
        need = sum(b.height for b in blocks[i:chain_end])
        last = blocks[chain_end]
        need += last.height if not last.splittable else min(last.lines, 2) * last.pitch
        if used > 0 and used + need > capacity + 1e-6 and need <= capacity:
            pages.append([])
            used = 0.0
        for j in range(i, chain_end + 1):
            used = _place(blocks[j], j, pages, used, capacity)
        i = chain_end + 1
    return pages


def _place(block: Block, index: int, pages: list[list[int]], used: float, capacity: float) -> float:
    left = capacity - used
    if block.height <= left + 1e-6:
        pages[-1].append(index)
        return used + block.height
    if not block.splittable or block.lines < 4:
        if used > 0:
            pages.append([index])
            return block.height
        pages[-1].append(index)
        return block.height
    fit = math.floor((left + 1e-6) / block.pitch)
    rest = block.lines - fit
    if rest < 2:  # widow: at least two lines go over
        fit = block.lines - 2
        rest = 2
    if fit < 2:  # orphan: fewer than two lines would stay behind
        if used > 0:
            pages.append([])
        return _place(block, index, pages, 0.0, capacity)
    pages[-1].append(index)
    pages.append([index])
    while rest * block.pitch > capacity + 1e-6:
        per_page = int((capacity + 1e-6) // block.pitch)
        rest -= per_page
        pages.append([index])
    return rest * block.pitch


def page_count(doc: Any) -> int:
    return len(paginate(blocks_of(doc), text_height(doc)))


def last_page_height(doc: Any) -> float:
    """How much of the last page the letter fills (pt); a split paragraph counts in full."""
    blocks = blocks_of(doc)
    pages = paginate(blocks, text_height(doc))
    return sum(blocks[i].height for i in pages[-1])


def set_pitch(paragraphs: Sequence[Paragraph], pitch: float) -> None:
    for paragraph in paragraphs:
        paragraph.paragraph_format.line_spacing = Pt(pitch)


def fit_pitch(doc: Any, body: Sequence[Paragraph]) -> float:
    """Tighten the body's line pitch where the letter's last page would be nearly empty.

    At the letter's own pitch (the first of :data:`PITCHES`), a last page holding at most
    :data:`SPARSE_LINES` lines is worth saving: the largest smaller pitch that brings the letter
    onto one page fewer is chosen — GB/T 9704 7.3.5.1's 调整行距. Otherwise (one page, a
    fuller last page, or no pitch saves the page) the pitch stays. Returns the pitch chosen.
    """
    own = PITCHES[0]
    set_pitch(body, own)
    pages = page_count(doc)
    if pages == 1 or last_page_height(doc) > SPARSE_LINES * own + 1e-6:
        return own
    for pitch in PITCHES[1:]:
        set_pitch(body, pitch)
        if page_count(doc) < pages:
            return pitch
    set_pitch(body, own)
    return own
