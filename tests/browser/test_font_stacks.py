"""The CSS of the report and of the HTML letter declares a CJK font stack (no browser needed).

Without one, a machine whose default fonts lack Chinese draws boxes even when a CJK font is
installed under a name the page never asks for. The stacks name the faces of Windows, macOS and
the free Noto / Source Han families Linux distributions package, in GB/T 9704's habits for
letters (仿宋 body, then 宋体-style serifs; 黑体 headings) and a sans for the report.
"""

from __future__ import annotations

import re

from .documents import desk_documents

SANS = ["Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC"]
FANGSONG = ["FangSong", "STFangsong", "Noto Serif CJK SC", "Source Han Serif SC", "SimSun"]
HEITI = ["SimHei", "Noto Sans CJK SC", "Source Han Sans SC"]


def _families(css_rule: str) -> list[str]:
    declared = re.search(r"font-family:\s*([^;}]+)", css_rule)
    assert declared, css_rule
    return [f.strip().strip("\"'") for f in declared.group(1).split(",")]


def _in_order(expected: list[str], declared: list[str]) -> bool:
    positions = [declared.index(f) for f in expected if f in declared]
    return len(positions) == len(expected) and positions == sorted(positions)


def test_report_and_letter_declare_cjk_font_stacks() -> None:
    report, letter = desk_documents()
    body = _families(re.search(r"body\s*\{[^}]*\}", report).group(0))  # type: ignore[union-attr]
    assert _in_order(SANS, body) and body[-1] == "sans-serif", body
    letter_body = _families(re.search(r"body \{[^}]*\}", letter).group(0))  # type: ignore[union-attr]
    assert _in_order(FANGSONG, letter_body) and letter_body[-1] == "serif", letter_body
    heading = _families(re.search(r"h2 \{[^}]*\}", letter).group(0))  # type: ignore[union-attr]
    assert _in_order(HEITI, heading) and heading[-1] == "sans-serif", heading
