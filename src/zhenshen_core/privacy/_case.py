"""A case and its history as a reader may see them: the one entry point every output uses.

The CLI, the letters, the report, notifications and the HTTP service all call these, so a case
looks the same wherever it is read: its stored (unmasked) JSON form is masked by
``mask_document`` — requester fields by key, everything else by detection, the requester's name
wherever it recurs, a confidential requester withheld (保密) from every audience but the desk.
The events of a case are masked inside the case's scope, so a note that repeats the
requester's name or a ``receive`` payload holding the whole case is masked the same way.

Rules never see these: the engines read the real case. Only outputs do.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from zhenshen_core.privacy._document import Audience, mask_document
from zhenshen_core.privacy._mask import DEFAULT_MASK_POLICY
from zhenshen_core.privacy._policy import MaskPolicy

if TYPE_CHECKING:
    from zhenshen_core.model.case import Case
    from zhenshen_core.model.events import CaseEvent

__all__ = ["mask_case", "mask_events", "masked_case"]


def _stored(case: Case) -> dict[str, Any]:
    from zhenshen_core.model.lifecycle import dump_case

    return dump_case(case)


def mask_case(
    case: Case, policy: MaskPolicy = DEFAULT_MASK_POLICY, *, audience: Audience = "department"
) -> dict[str, Any]:
    """The case as a JSON document with its personal data masked for ``audience``."""
    masked: dict[str, Any] = mask_document(_stored(case), policy, audience=audience)
    return masked


def masked_case(
    case: Case, policy: MaskPolicy = DEFAULT_MASK_POLICY, *, audience: Audience = "department"
) -> Case:
    """:func:`mask_case` as a ``Case`` again, for code that takes a case (a letter's context,
    a renderer, a notifier): the same case with every personal value masked."""
    from zhenshen_core.model.lifecycle import load_case

    return load_case(mask_case(case, policy, audience=audience))


def mask_events(
    events: Iterable[CaseEvent],
    case: Case | None,
    policy: MaskPolicy = DEFAULT_MASK_POLICY,
    *,
    audience: Audience = "department",
) -> list[dict[str, Any]]:
    """The events as JSON documents, masked inside ``case``'s scope (its requester's name
    looked for in every event, a confidential requester withheld)."""
    docs = [event.model_dump(mode="json", context={"unmasked": True}) for event in events]
    requester = _stored(case).get("requester") if case is not None else None
    if requester is None:
        masked: list[dict[str, Any]] = mask_document(docs, policy, audience=audience)
        return masked
    wrapped = mask_document({"requester": requester, "events": docs}, policy, audience=audience)
    events_out: list[dict[str, Any]] = wrapped["events"]
    return events_out
