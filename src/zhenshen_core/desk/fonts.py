"""CJK font stacks for the HTML the desk produces (the report, the opinion letter).

A browser draws a character with the first family of the stack that has it; without any CJK
font every Chinese character is the same empty box ("tofu"). So each stack names the faces a
Chinese government PC has (Windows: SimSun/FangSong/SimHei/Microsoft YaHei; macOS: STSong/
STFangsong/PingFang SC), then the free Noto/Source Han CJK families that Linux distributions
package (Debian: ``fonts-noto-cjk``), then WenQuanYi (``fonts-wqy-zenhei``, a lighter
alternative) and the generic family. Letters follow GB/T 9704 habits: body in 仿宋, headings in
黑体, the title in 小标宋 (a bold 宋体 where that face is missing); the report is a sans page.
"""

from __future__ import annotations

from collections.abc import Mapping


def _stack(*families: str) -> str:
    return ", ".join(f if f in GENERIC else f'"{f}"' for f in families)


GENERIC = frozenset({"serif", "sans-serif"})

SANS = _stack(
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "思源黑体",
    "Microsoft YaHei",
    "微软雅黑",
    "PingFang SC",
    "Hiragino Sans GB",
    "SimHei",
    "黑体",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "sans-serif",
)
"""The report's face: a CJK sans (黑体-style)."""

HEITI = _stack(
    "SimHei",
    "黑体",
    "STHeiti",
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "Microsoft YaHei",
    "PingFang SC",
    "WenQuanYi Zen Hei",
    "sans-serif",
)
"""Letter headings (一、二、…) in 黑体."""

FANGSONG = _stack(
    "FangSong",
    "仿宋",
    "FangSong_GB2312",
    "仿宋_GB2312",
    "STFangsong",
    "华文仿宋",
    "Noto Serif CJK SC",
    "Source Han Serif SC",
    "Source Han Serif CN",
    "思源宋体",
    "SimSun",
    "宋体",
    "Songti SC",
    "AR PL UMing CN",
    "WenQuanYi Zen Hei",
    "serif",
)
"""Letter body text in 仿宋, falling back to a 宋体 (serif) face."""

XIAOBIAOSONG = _stack(
    "FZXiaoBiaoSong-B05S",
    "方正小标宋简体",
    "STZhongsong",
    "华文中宋",
    "Noto Serif CJK SC",
    "Source Han Serif SC",
    "Source Han Serif CN",
    "SimSun",
    "宋体",
    "Songti SC",
    "WenQuanYi Zen Hei",
    "serif",
)
"""The letter's title and masthead in 小标宋 (drawn bold where only a regular 宋体 exists)."""

LETTER: Mapping[str, str] = {"body": FANGSONG, "heading": HEITI, "title": XIAOBIAOSONG}
