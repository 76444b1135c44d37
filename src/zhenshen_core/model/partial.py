"""Partial cases: what people write by hand to try a rule, completed into a valid case.

A rule author writes ``{"domain": "financing", "enterprise": {"tags": ["专精特新"]}}`` to see
what a pack decides, in a pack test (``case:``) or on ``zhenshen eval``'s input. Both read it
through :func:`complete_case`, so a partial case that one accepts the other accepts too, and
the conveniences are written down once (the rule-language reference lists them):

* ``received_at`` — only where a default is given: a pack test's ``now``, or 2026-01-05 09:00
  (+08:00). ``zhenshen eval`` gives none: a decision depends on the day a case arrived (its
  deadlines), so a case without ``received_at`` is an invalid record there, never "today";
* ``enterprise`` without ``name`` — named 测试企业 (rules read an enterprise's size, tags,
  industry and code; the name is only for people);
* ``departments`` as plain ids (``["gxq.scjgj"]``) — co-departments with those ids;
* ``returns`` as a number — that many 退单 (at most :data:`MAX_RETURNS`), at ``received_at``,
  from department ``unknown``.

Every other field takes the case model's default. Completing a full case changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DEFAULT_ENTERPRISE_NAME = "测试企业"
UNKNOWN_DEPARTMENT = "unknown"
MAX_RETURNS = 1000
"""The most returns a number stands for: each is a record built in memory, and a draft sent
to the HTTP service (``POST /v1/desks/{desk}/decisions``) must not make a small body into a
billion of them; a larger number is left as it is, for validation to name."""


def complete_case(data: Mapping[str, Any], *, received_at: Any = None) -> dict[str, Any]:
    """A case mapping with the conveniences above filled in (``data`` is not changed).

    ``received_at`` is the default arrival instant, used only when ``data`` has none. What
    cannot be completed is left as it is, so validation then says exactly what is missing.
    """
    out = dict(data)
    received = out.get("received_at")
    if received is None and received_at is not None:
        received = out["received_at"] = received_at
    enterprise = out.get("enterprise")
    if isinstance(enterprise, Mapping) and enterprise.get("name") is None:
        out["enterprise"] = {**enterprise, "name": DEFAULT_ENTERPRISE_NAME}
    departments = out.get("departments")
    if isinstance(departments, list):
        out["departments"] = [{"id": d} if isinstance(d, str) else d for d in departments]
    returns = out.get("returns")
    if (
        isinstance(returns, int)
        and not isinstance(returns, bool)
        and returns <= MAX_RETURNS
        and received is not None
    ):
        out["returns"] = [
            {"at": received, "from_department": UNKNOWN_DEPARTMENT} for _ in range(max(returns, 0))
        ]
    return out


def draft_json_schema(ref_template: str = "#/$defs/{model}") -> dict[str, Any]:
    """The JSON Schema of what :func:`complete_case` completes into a valid case: the case
    model's (``zhenshen schema case``) with the conveniences above written in, so a schema
    of a partial case (the HTTP service's decisions body) says which drafts are read.

    ``received_at`` stays required: the default is the caller's. References to the case
    model's parts follow ``ref_template``, as in ``Case.model_json_schema``.
    """
    from zhenshen_core.model.case import Case

    schema = Case.model_json_schema(ref_template=ref_template)
    defs = schema["$defs"]
    enterprise = dict(defs["Enterprise"])
    enterprise["required"] = [r for r in enterprise.get("required", []) if r != "name"]
    enterprise["properties"] = {
        **enterprise["properties"],
        "name": {
            "anyOf": [enterprise["properties"]["name"], {"type": "null"}],
            "description": f"none: {DEFAULT_ENTERPRISE_NAME}",
        },
    }
    enterprise["title"] = "EnterpriseDraft"
    defs["EnterpriseDraft"] = enterprise
    props = schema["properties"]
    props["enterprise"] = {
        **props["enterprise"],
        "anyOf": [{"$ref": ref_template.format(model="EnterpriseDraft")}, {"type": "null"}],
    }
    department = defs["DepartmentAssignment"]["properties"]["id"]
    props["departments"] = {
        **props["departments"],
        "items": {
            "anyOf": [
                {**department, "description": "a co-department's id"},
                props["departments"]["items"],
            ]
        },
    }
    props["returns"] = {
        "anyOf": [
            {
                "type": "integer",
                "maximum": MAX_RETURNS,
                "description": f"that many returns from department {UNKNOWN_DEPARTMENT!r}, "
                "at received_at (0 or less: none)",
            },
            props["returns"],
        ],
        "title": props["returns"].get("title", "Returns"),
    }
    schema["title"] = "CaseDraft"
    schema["description"] = "A case as zhenshen eval reads it: " + (
        "enterprise.name, departments as ids and returns as a number are completed"
    )
    return schema


__all__ = ["DEFAULT_ENTERPRISE_NAME", "MAX_RETURNS", "complete_case", "draft_json_schema"]
