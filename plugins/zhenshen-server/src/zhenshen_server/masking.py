"""Every response body passes through here: masked unless the caller may see personal data.

One place, so the whole service masks in the library's one style (``zhenshen_core.privacy``)
under the desk's ``MaskPolicy``. Who reads decides the audience: the desk's own staff (``desk``,
``admin``, ``auditor``) see a confidential requester masked like anyone else; everyone else
(``intake`` systems, departments) sees 保密 in place of that requester's identity.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from zhenshen_core import Case, CaseEvent
from zhenshen_core.privacy import DEFAULT_MASK_POLICY, Audience, MaskPolicy, mask_document
from zhenshen_core.privacy import mask_events as _mask_events
from zhenshen_server.auth import Principal
from zhenshen_server.roles import Role

_DESK_AUDIENCE = frozenset({Role.DESK, Role.ADMIN, Role.AUDITOR})


def audience(principal: Principal) -> Audience:
    return "desk" if principal.role in _DESK_AUDIENCE else "department"


def shown(
    document: Any, principal: Principal, policy: MaskPolicy = DEFAULT_MASK_POLICY
) -> Any:
    """``document`` (JSON data) as ``principal`` may see it: whole with ``pii``, else masked."""
    if principal.pii:
        return document
    return mask_document(document, policy, audience=audience(principal))


def shown_events(
    events: Iterable[CaseEvent],
    case: Case,
    principal: Principal,
    policy: MaskPolicy = DEFAULT_MASK_POLICY,
) -> list[dict[str, Any]]:
    """A case's history as ``principal`` may see it (the requester's name looked for in
    every event, as in the case itself)."""
    if principal.pii:
        return [e.model_dump(mode="json", context={"unmasked": True}) for e in events]
    return _mask_events(events, case, policy, audience=audience(principal))
