"""Partial cases: what a test, a snippet or an upstream system gives instead of a full case.

People who only care about the rules write the few fields a rule reads. One function completes
such a mapping for everyone who accepts it — the YAML tests of ``zhenshen test``, and
``engine.evaluate(mapping)`` — so a case means the same wherever it is written:

* ``received_at`` is the caller's ``now`` when missing (tests: the test's ``now`` or
  2026-01-05 09:00 Asia/Shanghai); without a ``now`` it stays required, as in ``zhenshen eval``;
* ``departments`` may list plain ids (co-departments);
* ``returns`` may be a number (that many returns between departments);
* an ``enterprise`` without a ``name`` is named 测试企业;
* every other field takes the case model's documented default (``zhenshen schema case``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from zhenshen_core.model.case import Case

DEFAULT_ENTERPRISE_NAME = "测试企业"


def complete_case(data: Mapping[str, Any], *, now: datetime | str | None = None) -> dict[str, Any]:
    """The full case mapping for a partial one (see the module docstring); ``data`` is not
    changed."""
    full = dict(data)
    received = full.get("received_at")
    if received is None and now is not None:
        received = full["received_at"] = now
    departments = full.get("departments")
    if isinstance(departments, list):
        full["departments"] = [{"id": d} if isinstance(d, str) else d for d in departments]
    returns = full.get("returns")
    if isinstance(returns, int) and not isinstance(returns, bool):
        full["returns"] = [
            {"at": received, "from_department": "unknown"} for _ in range(max(returns, 0))
        ]
    enterprise = full.get("enterprise")
    if isinstance(enterprise, dict) and "name" not in enterprise:
        full["enterprise"] = {"name": DEFAULT_ENTERPRISE_NAME, **enterprise}
    return full


def as_case(case: Case | Mapping[str, Any], *, now: datetime | str | None = None) -> Case:
    """``case`` itself, or the partial case mapping completed and validated.

    Raises ``CaseValidationError`` (located, one line per problem) for a mapping that is not a
    case, and ``TypeError`` for anything that is neither.
    """
    if isinstance(case, Case):
        return case
    if not isinstance(case, Mapping):
        raise TypeError(f"expected a Case or a mapping of case fields, got {type(case).__name__}")
    from zhenshen_core.model.lifecycle import load_case

    return load_case(complete_case(case, now=now))


__all__ = ["DEFAULT_ENTERPRISE_NAME", "as_case", "complete_case"]
