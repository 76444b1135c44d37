"""Page breaks of the DOCX letter: no nearly empty last page (issue 13).

A demo letter ran to a third page holding only its last legal basis, the signature and the
date. The renderer now lays the letter out (``zhenshen_docx.layout``) and, where the last page
would be nearly empty, tightens the line pitch as GB/T 9704 7.3.5.1 allows. The first tests
check that logic; the last renders letters with LibreOffice (where installed) and checks the
pages it really makes.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from zhenshen_docx import layout, render_docx

from zhenshen_core.desk.letters import letter_context
from zhenshen_core.model import load_case

NAMES = {
    "gxq.gycsjsj": "公园城市建设局",
    "gxq.gtj": "规划和自然资源局",
    "gxq.sthcsglj": "生态环境和城市管理局",
    "gxq.zwfw": "政务服务中心",
    "gxq.yshj": "营商环境局（营商环境领导小组办公室）",
}
CONTENT = (
    "企业反映：成都朗瑭信息技术有限公司拟建产业园二期项目，总投资约6188万元，想了解施工许可"
    "需要哪些前置审批以及办理时限。企业已第4次来电反映此事。请求明确办理时限。"
)


def _context(extra: int) -> dict[str, Any]:
    """The demo's 施工许可 letter, its content lengthened by ``extra`` sentences."""
    case = load_case(
        {
            "external_id": "GX20200106-000002",
            "channel": "hotline_12345",
            "received_at": "2020-01-06T11:01:00+08:00",
            "title": "咨询产业园二期项目施工许可办理时限",
            "content": CONTENT + "企业补充说明情况。" * extra,
            "domain": "construction_permit",
            "enterprise": {"name": "成都朗瑭信息技术有限公司", "uscc": "91510100MA00Y4UB4P",
                           "size": "small", "tags": ["独角兽企业", "高新技术企业"]},
            "departments": [{"id": "gxq.gycsjsj", "role": "lead"}]
            + [{"id": d, "role": "co"} for d in list(NAMES)[1:]],
            "tier": "major",
            "chair": "leader_in_charge",
            "meetings": [{"id": "M1", "kind": "joint_review",
                          "scheduled_at": "2020-01-14T10:00:00+08:00",
                          "held_at": "2020-01-14T10:00:00+08:00", "attendees": list(NAMES)}],
            "opinion": {
                "letter_no": "成高甄审〔2020〕1号",
                "result": "partially_supported",
                "reasons": "企业诉求部分符合政策规定；不符合部分已向企业说明理由及其他解决途径。",
                "measures": [
                    {"description": "牵头落实甄别审查意见书确定的措施并反馈企业",
                     "department": "gxq.gycsjsj", "due": "2020-02-12"},
                    {"description": "配合出具部门意见并落实职责范围内的措施",
                     "department": "gxq.gtj", "due": "2020-02-05"},
                ],
                "legal_basis": [
                    "《优化营商环境条例》（国务院令第722号）",
                    "《四川省优化营商环境条例》",
                ],
                "issued_at": "2020-01-15T16:00:00+08:00",
            },
        }
    )
    return letter_context(
        case,
        None,
        department_names=NAMES,
        domain_names={"construction_permit": "施工许可"},
        org="成都高新区营商环境领导小组办公室",
    )


def _doc(context: dict[str, Any]) -> Any:
    return Document(io.BytesIO(render_docx(context)))


def _pitch(doc: Any) -> float:
    return float(doc.paragraphs[-1].paragraph_format.line_spacing.pt)


def _at_own_pitch(context: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Any:
    with monkeypatch.context() as patched:
        patched.setattr(layout, "PITCHES", layout.PITCHES[:1])
        return _doc(context)


def test_the_demo_letter_no_longer_leaves_its_closing_alone_on_page_three(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = _at_own_pitch(_context(0), monkeypatch)
    assert layout.page_count(before) == 3  # as it was: the closing block alone on page 3
    assert layout.last_page_height(before) <= 4 * 28
    after = _doc(_context(0))
    assert layout.page_count(after) == 2 and _pitch(after) < 28


def test_a_letter_that_fits_keeps_its_own_pitch_and_a_long_one_is_not_squeezed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    short = _context(-1)
    short["case"]["content"] = "请求明确办理时限。"
    short["measures"] = short["measures"][:1]
    assert _pitch(_doc(short)) == 28 and layout.page_count(_doc(short)) == 2
    # so long that its third page is well filled: nothing to save, nothing changed
    long = _doc(_context(60))
    assert _pitch(long) == 28 and layout.page_count(long) >= 3


@pytest.mark.parametrize(
    ("text", "width_chars", "lines"),
    [
        ("一" * 27, 27, 1),
        ("一" * 28, 27, 2),
        ("一" * 26 + "。", 26, 2),  # 避头尾: the full stop takes the last character down
        ("甲" * 20 + "GX20200106-000002", 27, 2),  # a Latin word is not broken
        ("", 27, 1),
    ],
)
def test_wrap(text: str, width_chars: int, lines: int) -> None:
    assert layout.wrap(text, 16, 16 * width_chars + 1) == lines


def test_widow_and_orphan_control_and_keep_with_next() -> None:
    B = layout.Block
    # a 5-line paragraph with room for 4 lines: 3 stay, 2 go over (never a widow of 1)
    pages = layout.paginate([B(1, 28), B(5, 28)], 5 * 28)
    assert pages == [[0, 1], [1]]
    # a heading kept with the next paragraph moves with it when the two do not fit
    pages = layout.paginate([B(3, 28), B(1, 28, keep_with_next=True), B(2, 28)], 4 * 28)
    assert pages == [[0], [1, 2]]
    # a table row never splits
    pages = layout.paginate([B(3, 28), B(1, 60, splittable=False)], 4 * 28)
    assert pages == [[0], [1]]


SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


def _has_font(family: str) -> bool:
    if shutil.which("fc-list") is None:
        return False
    listing = subprocess.run(["fc-list", family, "family"], capture_output=True, text=True)
    return bool(listing.stdout.strip())


@pytest.mark.slow
@pytest.mark.skipif(
    # Liberation Serif has Times New Roman's metrics (the letter's Latin font); without it
    # LibreOffice substitutes a wider face and breaks lines where Word would not.
    SOFFICE is None or shutil.which("pdfinfo") is None or not _has_font("Liberation Serif"),
    reason="LibreOffice and poppler-utils are not installed; `make office-deps` installs them "
    "(Debian: apt-get install libreoffice-writer-nogui poppler-utils fonts-liberation2)",
)
def test_libreoffice_lays_out_the_pages_the_renderer_expects(tmp_path: Path) -> None:
    assert SOFFICE is not None
    contexts = {f"letter{k}": _context(k) for k in (0, 3, 6, 9, 14, 20, 30)}
    expected = {}
    for name, context in contexts.items():
        data = render_docx(context)
        (tmp_path / f"{name}.docx").write_bytes(data)
        expected[name] = layout.page_count(Document(io.BytesIO(data)))
    subprocess.run(
        [SOFFICE, "--headless", f"-env:UserInstallation=file://{tmp_path}/profile",
         "--convert-to", "pdf", "--outdir", str(tmp_path),
         *[str(tmp_path / f"{n}.docx") for n in contexts]],
        capture_output=True, check=True, timeout=120,
    )
    for name in contexts:
        pdf = str(tmp_path / f"{name}.pdf")
        info = subprocess.run(["pdfinfo", pdf], capture_output=True, text=True).stdout
        pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))  # type: ignore[union-attr]
        assert pages == expected[name], f"{name}: LibreOffice made {pages} pages"
        last = subprocess.run(
            ["pdftotext", "-f", str(pages), "-l", str(pages), "-layout", pdf, "-"],
            capture_output=True, text=True,
        ).stdout
        lines = [x for x in last.splitlines() if x.strip() and not x.strip().startswith("—")]
        assert len(lines) > 3 or pages == 1, f"{name}: page {pages} holds only {lines}"
