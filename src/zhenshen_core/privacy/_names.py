"""A requester's name: which names can be looked for in text, and how a name is shortened.

Han text has no spaces between words, so a name is found wherever its characters stand in that
order. What can reasonably be avoided is avoided: only names that look like Chinese names
(2-4 Han characters, or a transliterated name of Han characters joined by a middle dot) are
looked for — a one-character or Latin-letter "name" would match inside ordinary words
everywhere; when several names are given, of two occurrences starting at the same place the
longer wins, so 欧阳娜 is not reported inside 欧阳娜娜. What cannot be avoided without a word
segmenter is documented in docs/explanation/personal-information.md: a name that is also an
ordinary word (许可, 高峰) is found inside longer words too, which over-masks and never
under-masks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

#: Two-character surnames (复姓) still in use; a name of three or more characters starting
#: with one of them keeps both characters when masked (欧阳**).
COMPOUND_SURNAMES = frozenset(
    (
        "欧阳",
        "司马",
        "上官",
        "诸葛",
        "东方",
        "皇甫",
        "尉迟",
        "公孙",
        "慕容",
        "长孙",
        "宇文",
        "司徒",
        "司空",
        "夏侯",
        "轩辕",
        "令狐",
        "钟离",
        "端木",
        "独孤",
        "南宫",
        "西门",
        "呼延",
        "澹台",
        "公冶",
        "太史",
        "申屠",
        "万俟",
        "闻人",
        "东郭",
        "濮阳",
        "赫连",
        "羊舌",
        "第五",
        "百里",
        "拓跋",
        "完颜",
        "单于",
        "范姜",
        "张简",
        "左丘",
        "谷梁",
        "宰父",
        "梁丘",
        "仲孙",
        "叔孙",
        "乐正",
        "漆雕",
        "巫马",
        "公西",
        "公良",
    )
)
#: Middle dots written between the parts of a transliterated name (买买提·艾力).
NAME_DOTS = "·•‧・･"
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_CHINESE_NAME = re.compile(f"[{_HAN}]{{2,4}}")
_DOTTED_NAME = re.compile(f"[{_HAN}]{{1,10}}(?:[{NAME_DOTS}][{_HAN}]{{1,10}}){{1,3}}")
_DOT_CLASS = f"[{NAME_DOTS}]"
_DOT = re.compile(_DOT_CLASS)


def usable_names(names: Iterable[str]) -> list[str]:
    """The names worth looking for, stripped, without duplicates, longest first (a single
    string is one name, not a sequence of one-character names)."""
    if isinstance(names, str):
        names = (names,)
    found: list[str] = []
    for raw in names:
        name = raw.strip() if raw else ""
        if (
            name
            and name not in found
            and (_CHINESE_NAME.fullmatch(name) or _DOTTED_NAME.fullmatch(name))
        ):
            found.append(name)
    if len(found) > 1:
        found.sort(key=lambda name: (-len(name), name))
    return found


def name_occurrences(text: str, names: Sequence[str]) -> list[tuple[int, int, str]]:
    """(start, end, name) of every occurrence, in text order, none overlapping: the leftmost
    occurrence wins, and of two starting at the same place the longer (names come longest
    first, and the sort is stable)."""
    if len(names) == 1:  # the usual case: one requester; its occurrences cannot overlap
        return [(start, end, names[0]) for start, end in _find(text, names[0])]
    found = sorted(
        ((start, end, name) for name in names for start, end in _find(text, name)),
        key=lambda occurrence: occurrence[0],
    )
    taken: list[tuple[int, int, str]] = []
    last_end = 0
    for start, end, name in found:
        if start >= last_end:
            taken.append((start, end, name))
            last_end = end
    return taken


def _find(text: str, name: str) -> Iterable[tuple[int, int]]:
    if _DOT.search(name):
        # Any middle dot stands for any other: people type the one their keyboard has.
        pattern = _DOT_CLASS.join(map(re.escape, _DOT.split(name)))
        return [m.span() for m in re.finditer(pattern, text)]
    spans = []
    start = text.find(name)
    while start != -1:
        spans.append((start, start + len(name)))
        start = text.find(name, start + len(name))
    return spans


def surname_length(name: str) -> int:
    """How many leading characters are the surname: 2 for a compound surname in a name of
    three or more characters, else 1 (for a dotted name, its first character)."""
    return 2 if len(name) >= 3 and name[:2] in COMPOUND_SURNAMES else 1
