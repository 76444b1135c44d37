"""The append-only history of a case.

The current state of a case is a fold of its events (``Lifecycle.replay``); storage keeps the
events as written and never updates them, which is what an auditor needs.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from zhenshen_core.model.case import AwareDatetime
from zhenshen_core.model.enums import CaseStatus


class CaseEvent(BaseModel):
    """One thing that happened to a case: who, when, what, from which state to which."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    case_id: str
    seq: int = Field(ge=1, description="1-based position in the case's history")
    at: AwareDatetime
    actor: str
    type: str
    from_status: CaseStatus | None
    to_status: CaseStatus
    payload: dict[str, Any] = Field(default_factory=dict)
    rule_ids: list[str] = Field(default_factory=list)
