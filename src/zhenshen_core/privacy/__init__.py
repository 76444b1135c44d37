"""Personal information (个人信息) in work orders: finding it and masking it.

``detect_personal_data`` reports mobile and landline numbers, resident ID numbers (check
character verified), bank cards (Luhn verified), e-mail addresses and a requester's name as
non-overlapping spans. USCC codes are an enterprise's identity and never reported.
The rules, their reasons and their limits: docs/explanation/personal-information.md.
"""

from __future__ import annotations

from zhenshen_core.privacy._detect import detect_personal_data
from zhenshen_core.privacy._kinds import PersonalDataKind, PersonalDataSpan

__all__ = ["PersonalDataKind", "PersonalDataSpan", "detect_personal_data"]
