"""How much of each kind of personal data a desk shows: one frozen, validated policy.

A policy is data (a desk reads it from its configuration), so it is a pydantic model: an
unknown key, a negative count or a rule that would show too much is refused with a message
that names the field, before any text is masked with it.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from zhenshen_core.privacy._kinds import PersonalDataKind


class Reveal(BaseModel):
    """How many characters stay visible at the start and at the end of a value."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: int = Field(default=0, ge=0, le=10)
    end: int = Field(default=0, ge=0, le=10)


#: The most a policy may show of the fixed-length kinds, so that every masked number keeps
#: enough hidden: 4 of a mobile's 11 digits, 3 of a 7-digit local number, the birth date
#: and sequence (8) of an ID number, 3 of the shortest (13-digit) card.
MAX_SHOWN = MappingProxyType({"mobile": 7, "landline": 4, "id_number": 10, "bank_card": 10})


class MaskPolicy(BaseModel):
    """Which kinds are masked and how much of each stays visible.

    The defaults are the style 12345 platforms use: ``138****5678``, ``510***********1234``,
    ``6222 **** **** 7890``, ``z***@example.com``, ``张*`` / ``欧阳**``, a landline with its
    area code and last four digits (``028-****3456``), an address down to its district
    (``成都市高新区*******``). A value too short for its rule to keep enough hidden (a phone
    field holding ``8512 3456``) is hidden completely.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kinds: frozenset[PersonalDataKind] = Field(
        default=frozenset(PersonalDataKind),
        description="the kinds that are masked; the others are shown as written",
    )
    mobile: Reveal = Field(default=Reveal(start=3, end=4), description="of the 11 digits")
    landline: Reveal = Field(default=Reveal(start=0, end=4), description="of the local number")
    landline_area_code: bool = Field(default=True, description="show the area code")
    id_number: Reveal = Field(default=Reveal(start=3, end=4), description="of the 18 characters")
    bank_card: Reveal = Field(default=Reveal(start=4, end=4), description="of the digits")
    email: Reveal = Field(
        default=Reveal(start=1, end=0), description="of the part before @; the domain is shown"
    )
    name_surname: bool = Field(default=True, description="show the surname (复姓 too)")
    address: Literal["district", "none"] = Field(
        default="district",
        description="district: show the divisions down to the district or county; none: hide all",
    )
    confidential_label: str = Field(
        default="保密", min_length=1, description="what a confidential requester's fields become"
    )

    @field_validator(*MAX_SHOWN)
    @classmethod
    def _hides_enough(cls, reveal: Reveal, info: ValidationInfo) -> Reveal:
        most = MAX_SHOWN[str(info.field_name)]
        if reveal.start + reveal.end > most:
            raise ValueError(
                f"shows {reveal.start} + {reveal.end} characters; at most {most} in all may be "
                "shown"
            )
        return reveal
