"""Build the 甄别审查意见书 as a DOCX that reads like a Chinese government document.

The layout follows GB/T 9704-2012 (党政机关公文格式) where a letter of this kind needs it: A4 with
the standard margins, the issuing body in red at the top (红头) above a red rule, the 文号 centred
under it, the title in 小标宋, body text in 3号仿宋 (16 pt) on a fixed 28 pt line, first-level
headings "一、" in 黑体, the measures as a ruled table, the signature block and date right-aligned,
and "— N —" page numbers. Chinese font names go into ``w:eastAsia`` because Word picks the font
for Chinese characters from that attribute, not from the Latin ``w:ascii`` one.

It takes the context of :func:`zhenshen_core.desk.letters.letter_context`; all text is inserted as
text runs, so nothing the public wrote can become document markup.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from typing import Any

from docx import Document
from docx.enum.section import WD_SECTION
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.table import _Cell
from docx.text.paragraph import Paragraph

from zhenshen_core.desk.letters import check_letter
from zhenshen_docx.layout import fit_pitch

#: Chinese font names as Word on a government PC knows them; LibreOffice substitutes elsewhere.
FONTS: Mapping[str, str] = {
    "title": "方正小标宋简体",
    "heading": "黑体",
    "body": "仿宋_GB2312",
    "latin": "Times New Roman",
}
SECTION_HEADINGS: tuple[str, ...] = (
    "一、基本情况",
    "二、甄审过程",
    "三、甄审结果及理由",
    "四、落实措施",
    "五、法律政策依据",
)
RED = RGBColor(0xC0, 0x00, 0x00)
BODY_PT = 16  # 3号
TITLE_PT = 22  # 2号
MASTHEAD_PT = 26  # 一号-ish, the 发文机关标志
TABLE_PT = 12  # 小四, so dates and bureau names fit their columns
TABLE_LINE_PT = 18
BODY_LINE_PT = 28.0  # 22 lines on the page, GB/T 9704's 22 × 28 grid


# Characters XML 1.0 forbids; work-order text pasted from other systems sometimes has them and
# python-docx would refuse the whole letter.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: str) -> str:
    return _XML_INVALID.sub("", text)


def _fonts(run_element: Any, east_asia: str) -> None:
    r_pr = run_element.get_or_add_rPr()
    r_fonts = r_pr.find(qn("w:rFonts"))
    if r_fonts is None:
        r_fonts = OxmlElement("w:rFonts")
        r_pr.insert(0, r_fonts)
    r_fonts.set(qn("w:ascii"), FONTS["latin"])
    r_fonts.set(qn("w:hAnsi"), FONTS["latin"])
    r_fonts.set(qn("w:eastAsia"), east_asia)


def _text(
    paragraph: Paragraph,
    text: str,
    *,
    font: str = FONTS["body"],
    size: float = BODY_PT,
    bold: bool = False,
    color: RGBColor | None = None,
) -> None:
    run = paragraph.add_run(_clean(text))
    run.font.size = Pt(size)
    run.font.bold = bold
    if color is not None:
        run.font.color.rgb = color
    _fonts(run._element, font)


def _para(
    doc: Any,
    text: str = "",
    *,
    align: WD_ALIGN_PARAGRAPH = WD_ALIGN_PARAGRAPH.JUSTIFY,
    indent: bool = True,
    style: str | None = None,
    **run: Any,
) -> Paragraph:
    paragraph: Paragraph = doc.add_paragraph(style=style)
    paragraph.alignment = align
    fmt = paragraph.paragraph_format
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = Pt(BODY_LINE_PT)
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(0)
    fmt.widow_control = True
    if indent:
        fmt.first_line_indent = Pt(BODY_PT * 2)  # 首行缩进两字
    if text:
        _text(paragraph, text, **run)
    return paragraph


def _red_rule(paragraph: Paragraph) -> None:
    """The red separator line under the masthead, as a bottom border of the 文号 paragraph."""
    p_pr = paragraph._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (
        ("w:val", "single"),
        ("w:sz", "18"),
        ("w:space", "6"),
        ("w:color", "C00000"),
    ):
        bottom.set(qn(key), value)
    borders.append(bottom)
    p_pr.append(borders)


def _page_number_footer(section: Any) -> None:
    paragraph = section.footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _text(paragraph, "— ", size=14, font="宋体")
    run = paragraph.add_run()
    run.font.size = Pt(14)
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if kind:
            char = OxmlElement("w:fldChar")
            char.set(qn("w:fldCharType"), kind)
            run._element.append(char)
        else:
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = str(text)
            run._element.append(instr)
    _text(paragraph, " —", size=14, font="宋体")


def _heading(doc: Any, text: str) -> None:
    paragraph = _para(doc, style="Heading 1", indent=True)
    _text(paragraph, text, font=FONTS["heading"])
    paragraph.paragraph_format.keep_with_next = True


def _cell(cell: _Cell, text: str, *, header: bool = False, center: bool = False) -> None:
    cell.text = ""
    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    paragraph = cell.paragraphs[0]
    centred = header or center
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER if centred else WD_ALIGN_PARAGRAPH.LEFT
    # A fixed line pitch, so that row heights (and page breaks) are the same in every word
    # processor rather than depending on each font's own line height.
    paragraph.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    paragraph.paragraph_format.line_spacing = Pt(TABLE_LINE_PT)
    paragraph.paragraph_format.widow_control = True
    _text(paragraph, text, size=TABLE_PT, font=FONTS["heading"] if header else FONTS["body"])


def _column_widths(table: Any, widths: Sequence[Any]) -> None:
    """Fixed column widths: Word reads the cells' ``tcW``, LibreOffice the ``tblGrid``, so set
    both and switch autofit off."""
    table.autofit = False
    for col, width in zip(table._tbl.tblGrid.findall(qn("w:gridCol")), widths, strict=True):
        col.set(qn("w:w"), str(int(width.twips)))
    for row in table.rows:
        for cell, width in zip(row.cells, widths, strict=True):
            cell.width = width


#: What follows w:autoSpaceDN in a paragraph's properties (the schema fixes the order).
_AFTER_AUTOSPACE = (
    "w:bidi",
    "w:adjustRightInd",
    "w:snapToGrid",
    "w:spacing",
    "w:ind",
    "w:contextualSpacing",
    "w:mirrorIndents",
    "w:suppressOverlap",
    "w:jc",
    "w:textDirection",
    "w:textAlignment",
    "w:textboxTightWrap",
    "w:outlineLvl",
    "w:divId",
    "w:cnfStyle",
    "w:rPr",
    "w:sectPr",
    "w:pPrChange",
)


def _style_headings(doc: Any) -> None:
    style = doc.styles["Heading 1"]
    style.font.size = Pt(BODY_PT)
    style.font.bold = False
    style.font.color.rgb = RGBColor(0, 0, 0)
    style.paragraph_format.space_before = Pt(0)
    style.paragraph_format.space_after = Pt(0)
    # The default template's Title is blue with a rule under it; a 公文 title is plain black.
    title = doc.styles["Title"]
    title.font.color.rgb = RGBColor(0, 0, 0)
    title.font.bold = False
    for border in title.element.xpath("./w:pPr/w:pBdr"):
        border.getparent().remove(border)
    normal = doc.styles["Normal"]
    normal.font.size = Pt(BODY_PT)
    _fonts(normal.element, FONTS["body"])
    # No extra space between Chinese and Latin letters or digits (自动调整中文与西文、数字的间距
    # off), as 公文 templates set it: every character keeps its cell on the 28-per-line grid.
    p_pr = normal.element.get_or_add_pPr()
    for name in ("w:autoSpaceDE", "w:autoSpaceDN"):
        switch = OxmlElement(name)
        switch.set(qn("w:val"), "0")
        p_pr.insert_element_before(switch, *_AFTER_AUTOSPACE)


def _join(items: Sequence[str]) -> str:
    return "、".join(items)


def _build(context: Mapping[str, Any]) -> Any:
    doc = Document()
    section = doc.sections[0]
    section.start_type = WD_SECTION.NEW_PAGE
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    _style_headings(doc)
    _page_number_footer(section)

    org = str(context.get("org") or "")
    case = context.get("case") or {}
    enterprise = context.get("enterprise")

    masthead = _para(doc, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False)
    masthead.paragraph_format.line_spacing = Pt(40)
    _text(masthead, org, font=FONTS["title"], size=MASTHEAD_PT, color=RED)
    _para(doc, indent=False)
    number = _para(
        doc,
        str(context.get("letter_no") or "（文号待编）"),
        align=WD_ALIGN_PARAGRAPH.CENTER,
        indent=False,
    )
    _red_rule(number)
    _para(doc, indent=False)
    title = _para(doc, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False, style="Title")
    title.paragraph_format.line_spacing = Pt(36)
    _text(title, str(context.get("title") or "甄别审查意见书"), font=FONTS["title"], size=TITLE_PT)
    _para(doc, indent=False)

    addressee = f"{enterprise['name']}：" if enterprise else "诉求人："
    _para(doc, addressee, indent=False)
    opening = (
        f"你{'单位' if enterprise else ''}于{case.get('received_date') or ''}通过"
        f"{case.get('channel_label') or ''}反映的“{case.get('title') or ''}”"
        f"（{case.get('appeal_type_label') or ''}"
        + (f"，工单编号{case['external_id']}" if case.get("external_id") else "")
        + "）一事，经联合甄审，现将甄别审查意见告知如下。"
    )
    _para(doc, opening)

    _heading(doc, SECTION_HEADINGS[0])
    if enterprise:
        _para(doc, f"企业名称：{enterprise['name']}")
        if enterprise.get("uscc"):
            _para(doc, f"统一社会信用代码：{enterprise['uscc']}")
        tags = f"（{_join(enterprise.get('tags') or [])}）" if enterprise.get("tags") else ""
        _para(doc, f"企业规模：{enterprise.get('size_label') or ''}{tags}")
    if case.get("domain_label"):
        _para(doc, f"问题领域：{case['domain_label']}")
    _para(doc, f"诉求内容：{case.get('content') or ''}")

    _heading(doc, SECTION_HEADINGS[1])
    lead, co = context.get("lead"), context.get("co") or []
    if lead:
        _para(doc, f"牵头部门：{lead['name']}")
    if co:
        _para(doc, f"配合部门：{_join([d['name'] for d in co])}")
    tier, chair = context.get("tier"), context.get("chair")
    if tier:
        how = ""
        if chair:
            presides = "主持" if chair.get("code") == "leader_in_charge" else ""
            how = f"，由{chair['label']}{presides}甄别审查"
        _para(doc, f"甄审层级：{tier['label']}{how}")
    for meeting in context.get("meetings") or []:
        held = "召开" if meeting.get("held") else "拟召开"
        who = f"，参会单位及人员：{_join(meeting['attendees'])}" if meeting.get("attendees") else ""
        _para(doc, f"{meeting.get('date') or ''}{held}{meeting.get('kind_label') or ''}{who}。")
    for expert in context.get("experts") or []:
        if not expert.get("advice"):
            continue  # the check refuses a required expert without advice
        name = f"，{expert['name']}" if expert.get("name") else ""
        _para(doc, f"专家意见（{expert.get('kind_label') or ''}{name}）：{expert['advice']}")

    _heading(doc, SECTION_HEADINGS[2])
    result = context.get("result") or {}
    verdict = _para(doc)
    _text(verdict, "甄审结果：", font=FONTS["heading"])
    _text(verdict, str(result.get("label") or ""), bold=True)
    _para(doc, f"理由：{context.get('reasons') or ''}")

    _heading(doc, SECTION_HEADINGS[3])
    measures = context.get("measures") or []
    if measures:
        table = doc.add_table(rows=1, cols=4)
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        for cell, text in zip(
            table.rows[0].cells, ("序号", "措施", "责任单位", "完成时限"), strict=True
        ):
            _cell(cell, text, header=True)
        for index, measure in enumerate(measures, start=1):
            row = table.add_row().cells
            _cell(row[0], str(index), center=True)
            _cell(row[1], str(measure.get("description") or ""))
            _cell(row[2], str(measure.get("department_name") or "—"))
            _cell(row[3], str(measure.get("due_date") or "—"))
        _column_widths(table, (Mm(14), Mm(62), Mm(40), Mm(40)))
    else:
        _para(doc, "无。")

    _heading(doc, SECTION_HEADINGS[4])
    basis = context.get("legal_basis") or []
    last = None
    for index, item in enumerate(basis, start=1):
        last = _para(doc, f"{index}. {item}")
    if not basis:
        last = _para(doc, "无。")

    # GB/T 9704 7.3.5.2: one blank line under the text, the issuing body 右空二字, the date on
    # the next line. The signature must not stand alone on a page ("此页无正文"), so the last
    # line of text, the blank line and the signature block are kept together; and where that
    # leaves them alone on the last page, the body's line pitch is tightened (7.3.5.1).
    closing = [last, _para(doc, indent=False)]
    signature = _para(doc, org, align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False)
    closing.append(signature)
    for paragraph in closing:
        if paragraph is not None:
            paragraph.paragraph_format.keep_with_next = True
    signature.paragraph_format.right_indent = Pt(BODY_PT * 2)
    dated = _para(
        doc, str(context.get("issued_date") or ""), align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False
    )
    dated.paragraph_format.right_indent = Pt(BODY_PT * 4)
    body = [p for p in doc.paragraphs if p.paragraph_format.line_spacing == Pt(BODY_LINE_PT)]
    fit_pitch(doc, body)
    props = doc.core_properties
    props.title = (
        f"{context.get('title') or '甄别审查意见书'} {context.get('letter_no') or ''}".strip()
    )
    props.author = org
    return doc


def render_docx(context: Mapping[str, Any]) -> bytes:
    """The letter as DOCX bytes (the ``docx`` renderer's ``render``), once it passes the
    letter's checks (``zhenshen_core.desk.letters.check_letter``)."""
    check_letter(context)
    buffer = io.BytesIO()
    _build(context).save(buffer)
    return buffer.getvalue()
