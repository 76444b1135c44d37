"""Personal information (个人信息) in work orders: finding it and masking it.

``detect_personal_data`` reports mobile and landline numbers, resident ID numbers (check
character verified), bank cards (Luhn verified), e-mail addresses and a requester's name as
non-overlapping spans; ``mask_text``, ``mask_value`` and ``mask_document`` mask them in one
style under a desk's ``MaskPolicy``. USCC codes are an enterprise's identity and never masked.
The rules, their reasons and their limits: docs/explanation/personal-information.md.
"""

from __future__ import annotations

from zhenshen_core.privacy._case import mask_case, mask_events, masked_case
from zhenshen_core.privacy._detect import detect_personal_data
from zhenshen_core.privacy._document import (
    AUDIENCES,
    FIELD_KINDS,
    UNMASKED_KEYS,
    Audience,
    mask_document,
)
from zhenshen_core.privacy._kinds import PersonalDataKind, PersonalDataSpan
from zhenshen_core.privacy._mask import DEFAULT_MASK_POLICY, mask_text, mask_value
from zhenshen_core.privacy._policy import MaskPolicy, Reveal

__all__ = [
    "AUDIENCES",
    "DEFAULT_MASK_POLICY",
    "FIELD_KINDS",
    "UNMASKED_KEYS",
    "Audience",
    "MaskPolicy",
    "PersonalDataKind",
    "PersonalDataSpan",
    "Reveal",
    "detect_personal_data",
    "mask_case",
    "mask_document",
    "mask_events",
    "mask_text",
    "mask_value",
    "masked_case",
]
