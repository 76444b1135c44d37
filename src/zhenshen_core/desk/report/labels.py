"""The names a report shows for the codes it counts.

People reading a report compare 社会保障 with 税务服务, not ``social_security`` with
``tax_service``: domains and departments are named by the rule pack, tiers, statuses and
ratings by the library's enums, deadline clocks by :data:`CLOCK_LABELS` (packs name clocks in
rules only, so the desk names the usual ones; a district can pass its own). A code nobody
names is shown as it is. The JSON form of a report keeps the codes and carries these labels
beside them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from zhenshen_core.model.enums import CaseStatus, LabeledEnum, Satisfaction, Tier

CLOCK_LABELS: Mapping[str, str] = {
    "contact": "首次联系企业",
    "meeting": "召开甄审会议",
    "opinion": "出具意见书",
    "resolve": "办结",
    "permit": "施工许可",
    "task": "落实措施",
}
NONE = "(none)"
"""The code of a missing domain, tier or department in counts."""
NONE_LABEL = "未填写"


def _enum_label(enum: type[LabeledEnum], code: str) -> str:
    try:
        return enum(code).label
    except ValueError:
        return code


@dataclass(frozen=True)
class ReportLabels:
    """Code → display name, for everything a report shows."""

    domains: Mapping[str, str] = field(default_factory=dict)
    departments: Mapping[str, str] = field(default_factory=dict)
    clocks: Mapping[str, str] = field(default_factory=lambda: dict(CLOCK_LABELS))

    @classmethod
    def from_pack(
        cls, pack: Any | None, *, clocks: Mapping[str, str] | None = None
    ) -> ReportLabels:
        """Names from a resolved rule pack (old department ids show the current name)."""
        from zhenshen_core.desk.letters.names import pack_names

        names = pack_names(pack) if pack is not None else {}
        return cls(
            domains=names.get("domain_names", {}),
            departments=names.get("department_names", {}),
            clocks={**CLOCK_LABELS, **(clocks or {})},
        )

    def domain(self, code: str | None) -> str:
        return NONE_LABEL if code in (None, NONE) else self.domains.get(str(code), str(code))

    def department(self, code: str | None) -> str:
        if code in (None, NONE):
            return "未指定牵头部门"
        return self.departments.get(str(code), str(code))

    def clock(self, name: str) -> str:
        """``task:T2`` (a measure's own clock) is 落实措施（T2）."""
        kind, _, task = name.partition(":")
        label = self.clocks.get(name) or self.clocks.get(kind, kind)
        return f"{label}（{task}）" if task and name not in self.clocks else label

    @staticmethod
    def tier(code: str | None) -> str:
        return NONE_LABEL if code in (None, NONE) else _enum_label(Tier, str(code))

    @staticmethod
    def status(code: str) -> str:
        return _enum_label(CaseStatus, code)

    @staticmethod
    def satisfaction(code: str) -> str:
        return _enum_label(Satisfaction, code)

    def as_dict(self, *, domains: set[str], departments: set[str], clocks: set[str],
                tiers: set[str], statuses: set[str]) -> dict[str, dict[str, str]]:
        """The labels of the codes a report uses, for its JSON form."""
        return {
            "domains": {c: self.domain(c) for c in sorted(domains)},
            "departments": {c: self.department(c) for c in sorted(departments)},
            "clocks": {c: self.clock(c) for c in sorted(clocks)},
            "tiers": {c: self.tier(c) for c in sorted(tiers)},
            "statuses": {c: self.status(c) for c in sorted(statuses)},
            "satisfaction": Satisfaction.choices(),
        }
