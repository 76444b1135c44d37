"""Every response body passes through :func:`shown`: masked unless the caller may see personal
data. One function, so the whole service masks in one style (``zhenshen_core.privacy``)."""

from __future__ import annotations

from typing import Any

from zhenshen_core.privacy import mask_document
from zhenshen_server.auth import Principal


def shown(document: Any, principal: Principal) -> Any:
    """``document`` as ``principal`` may see it: whole with ``pii``, else masked."""
    if principal.pii:
        return document
    return mask_document(document)
