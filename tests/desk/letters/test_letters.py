"""Opinion letters: content, escaping, sandbox, custom templates and the renderer plugins."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zhenshen_core.builtin import renderers as builtin_renderers
from zhenshen_core.desk.letters import (
    LetterError,
    chinese_date,
    letter_context,
    letter_number,
    md_escape,
    render_letter,
)
from zhenshen_core.model import Case, OpinionResult, load_case
from zhenshen_core.model.case import SHANGHAI

DEPARTMENT_NAMES = {
    "gxq.gtj": "规划和自然资源局",
    "gxq.gycsjsj": "公园城市建设局",
    "gxq.yshj": "营商环境局",
}


DOMAIN_NAMES = {"planning_title_proof": "报规报建/权属证明"}


ORG = "成都高新区营商环境领导小组办公室"  # the fixture's letter is one of the zone's (成高甄审)


def _ctx(case: Case, **kw: Any) -> dict[str, Any]:
    kw.setdefault("domain_names", DOMAIN_NAMES)
    kw.setdefault("org", ORG)
    return letter_context(case, None, department_names=DEPARTMENT_NAMES, **kw)


@pytest.mark.parametrize("fmt", ["markdown", "html"])
def test_letter_states_result_reasons_and_measures(case: Case, fmt: str) -> None:
    text = render_letter(_ctx(case), fmt=fmt)  # type: ignore[arg-type]
    assert "甄别审查意见书" in text
    assert "成高甄审〔2020〕3号" in text
    assert OpinionResult.SUPPORTED.label in text
    assert case.opinion is not None and case.opinion.reasons in text
    for description, department, due in (
        ("规划和自然资源局出具权属说明", "gxq.gtj", date(2020, 4, 30)),
        ("公园城市建设局10个工作日内并联受理报建", "gxq.gycsjsj", date(2020, 5, 6)),
    ):
        assert description in text
        assert DEPARTMENT_NAMES[department] in text
        assert chinese_date(due) in text
    for heading in (
        "一、基本情况",
        "二、甄审过程",
        "三、甄审结果及理由",
        "四、落实措施",
        "五、法律政策依据",
    ):
        assert heading in text
    assert "李律师" in text and "可依据原出让合同" in text
    assert "《优化营商环境条例》" in text
    assert "成都高新区营商环境领导小组办公室" in text
    assert "2020年4月20日" in text


def test_markdown_measure_rows(case: Case) -> None:
    text = render_letter(_ctx(case))
    rows = [line for line in text.splitlines() if line.startswith("| ") and "序号" not in line]
    assert rows == [
        "| 1 | 规划和自然资源局出具权属说明 | 规划和自然资源局 | 2020年4月30日 |",
        "| 2 | 公园城市建设局10个工作日内并联受理报建 | 公园城市建设局 | 2020年5月6日 |",
    ]


def test_phone_number_never_in_letter(case: Case) -> None:
    for fmt in ("markdown", "html"):
        text = render_letter(_ctx(case), fmt=fmt)  # type: ignore[arg-type]
        assert "13800009876" not in text and "9876" not in text


def test_context_labels_and_departments(case: Case) -> None:
    ctx = _ctx(case, domain_names={"planning_title_proof": "报规报建/权属证明"})
    assert ctx["result"] == {"code": "supported", "label": "予以支持"}
    assert ctx["tier"]["label"] == "一般性问题"
    assert ctx["chair"]["label"] == "营商环境领导小组办公室"
    assert ctx["lead"] == {"id": "gxq.gtj", "name": "规划和自然资源局"}
    assert ctx["co"] == [{"id": "gxq.gycsjsj", "name": "公园城市建设局"}]
    assert ctx["case"]["domain_label"] == "报规报建/权属证明"
    assert ctx["case"]["channel_label"] == "12345热线"
    assert ctx["requester"] == "王先生"


def test_decision_fills_what_the_case_lacks(case_data: dict[str, Any]) -> None:
    for key in ("tier", "chair", "severity", "departments", "tasks"):
        case_data.pop(key)
    case = load_case(case_data)
    decision = {
        "severity": "S3",
        "tier": "major",
        "chair": "leader_in_charge",
        "departments": {"lead": "gxq.gtj", "co": ["gxq.gycsjsj", "gxq.yshj"]},
        "fired": [{"rule": "expert.title-proof", "stage": "classify", "values": {}}],
    }
    ctx = letter_context(
        case, decision, department_names=DEPARTMENT_NAMES, domain_names=DOMAIN_NAMES
    )
    assert ctx["tier"]["code"] == "major" and ctx["chair"]["label"] == "管委会分管委领导"
    assert ctx["lead"]["name"] == "规划和自然资源局"
    assert [d["id"] for d in ctx["co"]] == ["gxq.gycsjsj", "gxq.yshj"]
    assert ctx["rules"] == ["expert.title-proof"]
    # each measure keeps its own department and due day, whoever leads
    assert [(m["department"], m["due"]) for m in ctx["measures"]] == [
        ("gxq.gtj", "2020-04-30"),
        ("gxq.gycsjsj", "2020-05-06"),
    ]
    text = render_letter(ctx)
    assert "管委会分管委领导主持甄别审查" in text


def test_explicit_measures_and_overrides(case_data: dict[str, Any]) -> None:
    case_data.pop("tasks")
    case = load_case(case_data)
    ctx = letter_context(
        case,
        None,
        letter_no=letter_number("成高甄审", 2026, 12),
        issued_at=datetime(2026, 11, 27, 9, 0, tzinfo=SHANGHAI),
        org="成都高新区营商环境领导小组办公室",
        department_names=DEPARTMENT_NAMES,
        domain_names=DOMAIN_NAMES,
        measures=[
            {
                "description": "规划和自然资源局出具权属说明",
                "department": "gxq.gtj",
                "due": "2026-12-04",
            },
            {
                "description": "公园城市建设局并联受理报建",
                "department": "gxq.gycsjsj",
                "due": date(2026, 12, 18),
            },
        ],
    )
    assert ctx["letter_no"] == "成高甄审〔2026〕12号"
    assert ctx["issued_date"] == "2026年11月27日"
    assert [m["due_date"] for m in ctx["measures"]] == ["2026年12月4日", "2026年12月18日"]


def test_no_opinion_is_a_clear_error(case_data: dict[str, Any]) -> None:
    case_data.pop("opinion")
    case_data.pop("tasks")
    with pytest.raises(LetterError, match="no review opinion"):
        letter_context(load_case(case_data), None)


def test_letter_number_and_dates() -> None:
    assert letter_number("成高甄审", 2026, 12) == "成高甄审〔2026〕12号"
    with pytest.raises(ValueError):
        letter_number("成高甄审", 2026, 0)
    assert chinese_date(date(2020, 4, 5)) == "2020年4月5日"
    # an instant is shown in Shanghai time: 2020-04-05T17:00Z is already the 6th in Chengdu
    assert chinese_date(datetime.fromisoformat("2020-04-05T17:00:00+00:00")) == "2020年4月6日"


EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_html_escapes_user_text(case_data: dict[str, Any]) -> None:
    case_data["title"] = EVIL
    case_data["content"] = EVIL
    case_data["enterprise"]["name"] = "成都<b>坏</b>公司"
    case_data["opinion"]["reasons"] = EVIL
    case_data["opinion"]["measures"][0]["description"] = EVIL
    html = render_letter(_ctx(load_case(case_data)), fmt="html")
    assert "<script>" not in html and "<img" not in html and "<b>坏" not in html
    assert "&lt;script&gt;" in html


def test_markdown_escapes_user_text(case_data: dict[str, Any]) -> None:
    case_data["content"] = "# 假标题\n- 列表\n[链接](http://example.invalid) <b>x</b> | 管道"
    case_data["opinion"]["measures"][0]["description"] = "措施 | 多出一列\n第二行"
    text = render_letter(_ctx(load_case(case_data)))
    assert "\\# 假标题" in text and "\\- 列表" in text
    assert "\\[链接\\](http://example.invalid)" in text and "\\<b\\>" in text
    row = next(line for line in text.splitlines() if line.startswith("| 1 |"))
    cells = re.split(r"(?<!\\)\|", row)
    assert len(cells) == 6 and "\\|" in row and "第二行" in row  # 4 cells between 5 pipes


@given(st.text(max_size=60))
def test_md_escape_leaves_no_active_markup(text: str) -> None:
    escaped = md_escape(text)
    for ch in "<>[]`*_|#~":
        # every special character is preceded by a backslash
        positions = [i for i, c in enumerate(escaped) if c == ch]
        assert all(i > 0 and escaped[i - 1] == "\\" for i in positions)
    assert escaped.replace("\\", "") == text.replace("\\", "")


@pytest.mark.parametrize(
    "source",
    [
        "{{ case.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ reasons.format.__globals__ }}",
        "{{ lipsum.__globals__ }}",
        "{% for x in ().__class__.__base__.__subclasses__() %}{{ x }}{% endfor %}",
        "{{ title.__init__.__globals__['os'] }}",
        "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
        "{{ 'a'.format_map }}",
    ],
)
def test_sandbox_refuses_attribute_tricks(case: Case, tmp_path: Path, source: str) -> None:
    evil = tmp_path / "evil.md.j2"
    evil.write_text(source, encoding="utf-8")
    try:
        out = render_letter(_ctx(case), template=evil)
    except LetterError as exc:
        assert "evil.md.j2" in str(exc)
        return
    # if the sandbox rendered anything at all, it must not be a Python internal
    assert "class" not in out and "module" not in out and "uid=" not in out


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        (  # 10,000,000,000 iterations that print nothing: the sandbox alone would run for hours
            "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
            "loops over range() go past 100,000 items in all",
        ),
        ("{{ 'x' * 10 ** 9 }}", "a sequence repeated 1000000000 times is too long"),
        ("{{ [title] * 200000 }}", "a sequence repeated 200000 times is too long"),
        ("{{ 10 ** 10 ** 10 }}", "is too large"),
        (  # each loop allowed, together too long a letter
            "{% for i in range(50000) %}{{ reasons }}{% endfor %}",
            "produced more than 200,000 characters",
        ),
    ],
)
def test_a_template_cannot_exhaust_time_or_memory(
    case: Case, tmp_path: Path, source: str, problem: str
) -> None:
    greedy = tmp_path / "greedy.md.j2"
    greedy.write_text(source, encoding="utf-8")
    with pytest.raises(LetterError, match=r"greedy\.md\.j2") as caught:
        render_letter(_ctx(case), template=greedy)
    assert problem in str(caught.value)


def test_loops_and_repetition_within_bounds_still_render(case: Case, tmp_path: Path) -> None:
    fine = tmp_path / "fine.md.j2"
    fine.write_text("{% for i in range(3) %}{{ '—' * 4 }}{{ i }}{% endfor %}{{ 2 ** 10 }}")
    assert render_letter(_ctx(case), template=fine) == "————0————1————21024"


def test_pack_template_by_path_and_via_context(case: Case, tmp_path: Path) -> None:
    custom = tmp_path / "district.md.j2"
    custom.write_text("{{ org }}｜{{ letter_no }}｜{{ result.label }}", encoding="utf-8")
    expected = "成都高新区营商环境领导小组办公室｜成高甄审〔2020〕3号｜予以支持"
    assert render_letter(_ctx(case), template=custom) == expected
    ctx = _ctx(case, template=str(custom))
    [md, _html] = builtin_renderers.zhenshen_renderers()
    assert md.render(ctx).decode("utf-8") == expected


def test_template_errors_are_located(case: Case, tmp_path: Path) -> None:
    broken = tmp_path / "broken.md.j2"
    broken.write_text("line one\n{% if %}\n", encoding="utf-8")
    with pytest.raises(LetterError, match=r"broken\.md\.j2:2: syntax error"):
        render_letter(_ctx(case), template=broken)
    undefined = tmp_path / "undef.md.j2"
    undefined.write_text("{{ no_such_key }}", encoding="utf-8")
    with pytest.raises(LetterError, match="no_such_key"):
        render_letter(_ctx(case), template=undefined)
    with pytest.raises(LetterError, match="not found"):
        render_letter(_ctx(case), template="nope.j2")


def test_renderer_plugins(case: Case) -> None:
    records = {r.name: r for r in builtin_renderers.zhenshen_renderers()}
    assert set(records) == {"markdown", "html"}
    ctx = _ctx(case)
    md = records["markdown"].render(ctx).decode("utf-8")
    html = records["html"].render(ctx).decode("utf-8")
    assert md.startswith("成都高新区营商环境领导小组办公室") and "# 甄别审查意见书" in md
    assert html.startswith("<!DOCTYPE html>") and "<h1>甄别审查意见书</h1>" in html
    assert records["html"].media_type.startswith("text/html")
    assert records["markdown"].extension == ".md"


def test_names_from_a_real_pack(case_data: dict[str, Any]) -> None:
    from zhenshen_core.desk.letters import pack_names
    from zhenshen_core.rules import load_pack

    pack_dir = (
        Path(__file__).resolve().parents[3]
        / "plugins/zhenshen-chengdu-gaoxin/src/zhenshen_chengdu_gaoxin/pack"
    )
    pack = load_pack(pack_dir)
    names = pack_names(pack)
    # an old id of a renamed bureau (规划建设局) shows the current name
    assert names["department_names"]["gxq.ghjsj"] == "公园城市建设局"
    case_data["opinion"]["measures"][1] = {
        "description": "并联受理报建",
        "department": "gxq.ghjsj",
        "period": "10 working days",
    }
    ctx = letter_context(load_case(case_data), None, pack=pack)
    assert ctx["lead"]["name"] == "规划和自然资源局"
    assert ctx["case"]["domain_label"] == "报规报建/权属证明"
    assert [m["department_name"] for m in ctx["measures"]] == ["规划和自然资源局", "公园城市建设局"]
    # explicit names win over the pack's
    ctx = letter_context(
        load_case(case_data), None, pack=pack, department_names={"gxq.gtj": "自然资源和规划局"}
    )
    assert ctx["lead"]["name"] == "自然资源和规划局"


def test_builtin_renderers_through_the_plugin_host(case: Case) -> None:
    from zhenshen_core.plugins import PluginConfig, PluginHost

    host = PluginHost(PluginConfig(autoload=False))
    assert {"markdown", "html"} <= set(host.renderers())
    html = host.renderer("html").render(_ctx(case)).decode("utf-8")
    assert '<p class="result">甄审结果：予以支持</p>' in html


def test_docx_plugin_takes_over_nothing_and_adds_docx(case: Case) -> None:
    pytest.importorskip("zhenshen_docx")
    from zhenshen_core.plugins import PluginConfig, PluginHost

    host = PluginHost(PluginConfig(autoload=False, explicit=("zhenshen_docx.plugin",)))
    assert {"markdown", "html", "docx"} <= set(host.renderers())
    assert host.renderer("docx").render(_ctx(case))[:2] == b"PK"
