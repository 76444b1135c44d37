"""The kinds of personal data the detector reports, and the span it reports them as."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

_LABELS = {
    "mobile": "手机号码",
    "landline": "固定电话",
    "id_number": "居民身份证号码",
    "bank_card": "银行卡号",
    "email": "电子邮箱",
    "name": "姓名",
    "address": "地址",
}


class PersonalDataKind(StrEnum):
    """Stable English codes (policies and spans carry them); ``label`` is what staff read.

    ``address`` is never detected in free text (no rule tells an address from other place
    names reliably); it names the address *fields* a document masker knows.
    """

    MOBILE = "mobile"
    LANDLINE = "landline"
    ID_NUMBER = "id_number"
    BANK_CARD = "bank_card"
    EMAIL = "email"
    NAME = "name"
    ADDRESS = "address"

    @property
    def label(self) -> str:
        return _LABELS[self.value]


@dataclass(frozen=True, slots=True)
class PersonalDataSpan:
    """One finding: ``text[start:end]`` is the data as written, ``value`` its normalised form.

    Normalised forms: a mobile as its 11 ASCII digits (country code dropped); a landline as
    ``0AA-LLLLLLLL`` or ``0AA-LLLLLLLL-EXT``; an ID number as 18 characters with an upper-case
    ``X``; a bank card as its digits; an e-mail address with ASCII characters and a lower-case
    domain; a name as given.
    """

    start: int
    end: int
    kind: PersonalDataKind
    value: str
