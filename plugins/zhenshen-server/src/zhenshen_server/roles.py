"""Who may do what: the role × action matrix in one table, so every route asks the same place.

A role either may call an action at all (else 403) or not; *which* cases it sees is scope,
decided by :func:`in_scope` (a case outside it is 404, so existence does not leak).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType


class Role(StrEnum):
    INTAKE = "intake"
    DESK = "desk"
    DEPARTMENT = "department"
    AUDITOR = "auditor"
    ADMIN = "admin"


ROLES: tuple[str, ...] = tuple(r.value for r in Role)

_ALL = frozenset(Role)
_R = Role

#: action → roles that may call it. Reading a case includes its events and its letter (which
#: cases: :meth:`zhenshen_server.deps.DeskCall.sees`). An intake system receives and reads back
#: what it sent, nothing else; a department reads and moves its cases, nothing else.
MATRIX: Mapping[str, frozenset[Role]] = MappingProxyType(
    {
        "case.create": frozenset({_R.INTAKE, _R.DESK, _R.ADMIN}),
        "case.read": _ALL,
        "case.event": frozenset({_R.DESK, _R.DEPARTMENT, _R.ADMIN}),
        "decision": frozenset({_R.DESK, _R.AUDITOR, _R.ADMIN}),
        "deadline": frozenset({_R.DESK, _R.AUDITOR, _R.ADMIN}),
        "report": frozenset({_R.DESK, _R.AUDITOR, _R.ADMIN}),
        "audit.read": frozenset({_R.AUDITOR, _R.ADMIN}),
        "admin": frozenset({_R.ADMIN}),
    }
)

#: The events a department owns: a task done, a return (退单), a request for materials.
DEPARTMENT_EVENTS: frozenset[str] = frozenset({"complete_task", "return_case", "request_info"})


def allows(role: Role, action: str) -> bool:
    return role in MATRIX[action]
