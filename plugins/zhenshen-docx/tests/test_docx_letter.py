"""The DOCX letter's structure, read back with python-docx (visual checks: see the README)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from docx import Document
from docx.oxml.ns import qn
from zhenshen_docx import FONTS, SECTION_HEADINGS, render_docx
from zhenshen_docx import plugin as docx_plugin

from zhenshen_core.desk.letters import letter_context
from zhenshen_core.model import load_case

NAMES = {"gxq.gtj": "规划和自然资源局", "gxq.gycsjsj": "公园城市建设局"}
DOMAINS = {"planning_title_proof": "报规报建/权属证明"}


ORG = "成都高新区营商环境领导小组办公室"  # the zone's letter (成高甄审), as its pack's plugin signs


def _case_data() -> dict[str, Any]:
    return {
        "external_id": "GX20200413-000001",
        "channel": "hotline_12345",
        "received_at": "2020-04-13T09:30:00+08:00",
        "title": "报规报建缺少权属证明",
        "content": "办理报规报建时无法提供权属证明文件。",
        "domain": "planning_title_proof",
        "enterprise": {"name": "成都睿澜科技有限公司", "uscc": "91510100MA68NDJH6X"},
        "departments": [{"id": "gxq.gtj", "role": "lead"}, {"id": "gxq.gycsjsj", "role": "co"}],
        "tier": "major",
        "chair": "leader_in_charge",
        "experts": [{"kind": "lawyer", "name": "李律师", "advice": "以权属说明替代。"}],
        "opinion": {
            "letter_no": "成高甄审〔2026〕12号",
            "result": "partially_supported",
            "reasons": "用地取得合法，权属证明缺失系历史原因。",
            "legal_basis": ["《优化营商环境条例》（国务院令第722号）"],
            "issued_at": "2026-11-27T10:00:00+08:00",
            "measures": [
                {"description": "出具权属说明", "department": "gxq.gtj", "due": "2026-12-04"},
                {
                    "description": "并联受理报建",
                    "department": "gxq.gycsjsj",
                    "due": "2026-12-18",
                },
            ],
        },
    }


def _doc(data: dict[str, Any] | None = None) -> Any:
    case = load_case(data or _case_data())
    context = letter_context(
        case, None, department_names=NAMES, domain_names=DOMAINS, org=ORG
    )
    return Document(io.BytesIO(render_docx(context)))


def _texts(doc: Any) -> list[str]:
    return [p.text for p in doc.paragraphs]


def test_masthead_number_and_title_in_order() -> None:
    texts = [t for t in _texts(_doc()) if t]
    assert texts[0] == "成都高新区营商环境领导小组办公室"
    assert texts[1] == "成高甄审〔2026〕12号"
    assert texts[2] == "甄别审查意见书"


def test_masthead_is_red_and_number_has_red_rule() -> None:
    doc = _doc()
    masthead = next(p for p in doc.paragraphs if p.text)
    assert str(masthead.runs[0].font.color.rgb) == "C00000"
    number = next(p for p in doc.paragraphs if p.text.startswith("成高甄审"))
    bottom = number._p.pPr.find(qn("w:pBdr")).find(qn("w:bottom"))
    assert bottom.get(qn("w:color")) == "C00000"


def test_section_headings_present_in_order() -> None:
    doc = _doc()
    headings = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert headings == list(SECTION_HEADINGS)


def test_result_reasons_experts_and_signature() -> None:
    texts = _texts(_doc())
    joined = "\n".join(texts)
    assert "甄审结果：部分支持" in joined
    assert "理由：用地取得合法，权属证明缺失系历史原因。" in joined
    assert "专家意见（律师，李律师）：以权属说明替代。" in joined
    assert "甄审层级：重大疑难问题，由管委会分管委领导主持甄别审查" in joined
    assert texts[-2:] == ["成都高新区营商环境领导小组办公室", "2026年11月27日"]


def test_measure_table_rows() -> None:
    doc = _doc()
    [table] = doc.tables
    rows = [[c.text for c in row.cells] for row in table.rows]
    assert rows == [
        ["序号", "措施", "责任单位", "完成时限"],
        ["1", "出具权属说明", "规划和自然资源局", "2026年12月4日"],
        ["2", "并联受理报建", "公园城市建设局", "2026年12月18日"],
    ]


def test_chinese_fonts_set_on_runs() -> None:
    doc = _doc()
    fonts = {
        r._element.rPr.rFonts.get(qn("w:eastAsia"))
        for p in doc.paragraphs
        for r in p.runs
        if r._element.rPr is not None and r._element.rPr.rFonts is not None
    }
    assert {FONTS["title"], FONTS["heading"], FONTS["body"]} <= fonts


def test_no_measures_and_no_enterprise() -> None:
    data = _case_data()
    data["opinion"].pop("measures")
    data.pop("enterprise")
    doc = _doc(data)
    assert doc.tables == []
    assert "诉求人：" in _texts(doc)


@pytest.mark.parametrize("evil", ["<w:p>注入</w:p>", "]]></w:t><w:t>", "&amp; <b>x</b>"])
def test_user_text_stays_text(evil: str) -> None:
    data = _case_data()
    data["content"] = evil
    doc = _doc(data)
    assert any(p.text == f"诉求内容：{evil}" for p in doc.paragraphs)


def test_control_characters_do_not_break_the_letter() -> None:
    data = _case_data()
    data["content"] = "复制自旧系统\x00\x0b\x1f的文字"
    data["opinion"]["reasons"] = "理由\x08正文"
    texts = _texts(_doc(data))
    assert "诉求内容：复制自旧系统的文字" in texts and "理由：理由正文" in texts


def test_plugin_registers_docx_renderer() -> None:
    [record] = docx_plugin.zhenshen_renderers()
    assert record.name == "docx" and record.extension == ".docx"
    context = letter_context(
        load_case(_case_data()), None, department_names=NAMES, domain_names=DOMAINS
    )
    data = record.render(context)
    assert data[:2] == b"PK"  # a zip container, as every DOCX is


def test_signature_never_alone_on_a_page() -> None:
    paragraphs = _doc().paragraphs
    signature = max(
        i for i, p in enumerate(paragraphs) if p.text == "成都高新区营商环境领导小组办公室"
    )
    last_text = max(i for i, p in enumerate(paragraphs[:signature]) if p.text)
    assert paragraphs[last_text].text.startswith("1. 《优化营商环境条例》")
    for paragraph in paragraphs[last_text : signature + 1]:
        assert paragraph.paragraph_format.keep_with_next
