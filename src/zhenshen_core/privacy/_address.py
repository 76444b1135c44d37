"""How much of an address stays visible: its administrative divisions down to the district.

A district (区), county (县) or banner (旗) says where a case is — what statistics and routing
need — without saying where a person lives. The address is read from its start as a chain of
divisions, each a short run of Han characters ending in a division word (省, 自治区, 市, 州,
地区, 盟, 区, 县, 旗 …); the chain stops after the first district-level one. Words that end in
区 or 市 but name something smaller (小区, 社区, 园区, 校区 …, 城市, 超市 …) end the chain
instead, so "天府花园小区3栋" keeps nothing; nor does an address that does not start with a
division.
"""

from __future__ import annotations

import re

_UNIT = re.compile(
    "[\u4e00-\u9fff]{1,9}?"
    "(?P<level>特别行政区|自治区|自治州|自治县|自治旗|地区|省|市|州|盟|区|县|旗)"
)
_DISTRICT_LEVEL = frozenset(("区", "县", "旗", "自治县", "自治旗"))
_NOT_DIVISIONS = (
    *("小区", "社区", "园区", "校区", "街区", "厂区", "景区", "片区", "营区", "矿区"),
    *("城市", "超市", "夜市", "集市", "门市"),
)
_MAX_UNITS = 4


def district_prefix_length(address: str) -> int:
    """How many leading characters of ``address`` are its divisions down to the district."""
    end = 0
    for _ in range(_MAX_UNITS):
        unit = _UNIT.match(address, end)
        if unit is None or unit.group().endswith(_NOT_DIVISIONS):
            break
        end = unit.end()
        if unit.group("level") in _DISTRICT_LEVEL:
            break
    return end
