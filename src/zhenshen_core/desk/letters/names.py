"""Display names for what a letter names: departments, experts, domains — from the rule pack.

A letter is read and signed by people, so it names a bureau 公园城市建设局, never ``gxq.gycsjsj``.
The pack is where names live; :class:`Names` gathers them once and answers both ways: the name
of an id (old ids of renamed bureaus included), and the department an id, alias, full name or
short name (简称) written in free text stands for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

DEFAULT_EXPERT_NAMES: Mapping[str, str] = {
    "lawyer": "律师",
    "think_tank": "智库专家",
    "industry": "行业专家",
}
EXPERT_PREFIX = "expert:"
"""How the desk lists an expert among a meeting's attendees (``expert:lawyer``)."""


def pack_names(pack: Any) -> dict[str, dict[str, str]]:
    """Department, expert and domain names from a resolved rule pack, as the keyword arguments
    of :func:`~zhenshen_core.desk.letters.letter_context`. Old department ids (aliases of renamed
    bureaus) map to the current name, so a case routed before a renaming still shows a
    readable 责任单位."""
    departments: dict[str, str] = {}
    for spec in getattr(pack, "departments", {}).values():
        name = spec.name or spec.id
        for alias in getattr(spec, "aliases", ()) or ():
            departments.setdefault(alias, name)
        departments[spec.id] = name
    experts = {e.id: e.name or e.id for e in getattr(pack, "experts", {}).values()}
    domains = {d.id: d.name or d.id for d in getattr(pack, "domains", {}).values()}
    return {"department_names": departments, "expert_names": experts, "domain_names": domains}


@dataclass(frozen=True)
class Names:
    """Every name a letter may print, and the ways staff write a department."""

    departments: Mapping[str, str] = field(default_factory=dict)
    """department id or old id (alias) → display name"""
    experts: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_EXPERT_NAMES))
    domains: Mapping[str, str] = field(default_factory=dict)
    spellings: Mapping[str, str] = field(default_factory=dict)
    """id, alias, display name or short name → department id"""
    prose: Mapping[str, str] = field(default_factory=dict)
    """display name or short name → department id: how prose names a department"""

    @classmethod
    def build(
        cls,
        pack: Any | None = None,
        *,
        department_names: Mapping[str, str] | None = None,
        expert_names: Mapping[str, str] | None = None,
        domain_names: Mapping[str, str] | None = None,
    ) -> Names:
        """Names from ``pack`` (a resolved rule pack), explicit maps winning over it."""
        from_pack = pack_names(pack) if pack is not None else {}
        departments = {**from_pack.get("department_names", {}), **(department_names or {})}
        spellings: dict[str, str] = {}
        prose: dict[str, str] = {}
        for spec in (getattr(pack, "departments", {}) or {}).values():
            for text in (spec.id, *spec.aliases):
                spellings.setdefault(text, spec.id)
            for text in (spec.name, *getattr(spec, "short_names", ())):
                if text:
                    prose.setdefault(text, spec.id)
        for dept_id, name in (department_names or {}).items():
            spellings.setdefault(dept_id, dept_id)
            prose[name] = spellings[dept_id]
        for text, dept_id in prose.items():
            spellings.setdefault(text, dept_id)
        return cls(
            departments=departments,
            experts={
                **DEFAULT_EXPERT_NAMES,
                **from_pack.get("expert_names", {}),
                **(expert_names or {}),
            },
            domains={**from_pack.get("domain_names", {}), **(domain_names or {})},
            spellings=spellings,
            prose=prose,
        )

    def department(self, dept_id: str) -> str:
        """The display name, or the id itself when the pack does not name it (which the
        letter's check then reports)."""
        return self.departments.get(dept_id, dept_id)

    def attendee(self, attendee: str) -> str:
        """A meeting attendee as the desk records it: a department id or ``expert:<kind>``."""
        if attendee.startswith(EXPERT_PREFIX):
            kind = attendee[len(EXPERT_PREFIX) :]
            return self.experts.get(kind, attendee)
        if attendee in self.departments:
            return self.departments[attendee]
        return self.experts.get(attendee, attendee)

    def department_id(self, text: str) -> str | None:
        """The department ``text`` names exactly (id, old id, name or short name)."""
        return self.spellings.get(text.strip())

    def department_in(self, text: str) -> str | None:
        """The department named first in free text (the longest name where two start at the
        same place: 公园城市建设局 rather than 城市建设局). Only names and short names count:
        ids do not occur in prose."""
        best: tuple[int, int, str] | None = None
        for spelling, dept_id in self.prose.items():
            at = text.find(spelling)
            if at >= 0 and (best is None or (at, -len(spelling)) < (best[0], -best[1])):
                best = (at, len(spelling), dept_id)
        return best[2] if best else None
