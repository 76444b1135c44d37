"""The public face of a case in Open311 GeoReport v2: what anyone may read about it.

A 311 service shows its requests to the public, so this view is built from an allow-list of
fields, never by masking a whole case: the requester (name, phone, anything in
``facts.open311`` a client sent about them) is simply not in it, and every personal number or
e-mail address the detector finds in the free text that *is* shown (description, status
notes) is hidden completely, not partly (``mask_text`` with every finding withheld). A case
whose requester asked for confidentiality is not in the view at all.

Which note is public is the desk's choice: only a note written with a public marker
(``[public] …``, ``【公开】…``, ``公开：…``) becomes ``status_notes``; every other note stays
internal. Safe by default, since a note is otherwise staff's working text.

Field names and order follow the GeoReport v2 specification exactly; both formats (JSON and
XML) are rendered from the same dictionaries.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any
from xml.etree import ElementTree

from pydantic import BaseModel, Field

from zhenshen_core import Case
from zhenshen_core.model.enums import DepartmentRole
from zhenshen_core.model.lifecycle import TERMINAL
from zhenshen_core.privacy import PersonalDataKind, detect_personal_data, mask_text, mask_value

#: Where a POST's location and media live on the case (what rules may read as facts.open311).
FACTS_KEY = "open311"
#: Only these ``facts.open311`` entries are public: where the problem is, and its photo.
PUBLIC_FACTS = ("address_id", "zipcode", "lat", "long", "media_url")
PUBLIC_NOTE_MARKERS = ("[public]", "【公开】", "公开：", "公开:")


class Service(BaseModel):
    service_code: str
    service_name: str
    description: str
    metadata: bool
    type: str
    keywords: str
    group: str


class ServiceDefinition(BaseModel):
    service_code: str
    attributes: list[dict[str, Any]] = Field(default_factory=list)


class ServiceRequest(BaseModel):
    service_request_id: str
    status: str = Field(description="open | closed")
    status_notes: str | None
    service_name: str | None
    service_code: str | None
    description: str | None
    agency_responsible: str | None
    service_notice: str | None
    requested_datetime: str | None
    updated_datetime: str | None
    expected_datetime: str | None
    address: str | None
    address_id: str | None
    zipcode: str | None
    lat: float | None
    long: float | None
    media_url: str | None


class CreatedRequest(BaseModel):
    service_request_id: str | None
    token: str | None
    service_notice: str | None
    account_id: str | None


class TokenAnswer(BaseModel):
    service_request_id: str | None
    token: str


class Open311Error(BaseModel):
    code: int
    description: str


def w3c(instant: datetime | None) -> str | None:
    """A W3C date-time with its offset, to the second (what the standard's examples use)."""
    return instant.isoformat(timespec="seconds") if instant is not None else None


def is_public(case: Case) -> bool:
    """Whether the case may appear in the public view at all."""
    return not (case.requester is not None and case.requester.confidential)


def public_text(text: str, case: Case) -> str:
    """``text`` with every personal finding, and the requester's name and phone, hidden whole."""
    if not text:
        return text
    people = []
    if case.requester is not None:
        people = [v for v in (case.requester.name, case.requester.phone) if v]
    names = [case.requester.name] if case.requester is not None and case.requester.name else []
    found = [span.value for span in detect_personal_data(text, names)]
    if not found and not people:
        return text
    return mask_text(text, names=names, withheld=[*found, *people])


def _public_note(case: Case) -> str | None:
    for note in reversed(case.notes):
        stripped = note.strip()
        for marker in PUBLIC_NOTE_MARKERS:
            if stripped.startswith(marker):
                return public_text(stripped[len(marker):].strip(), case)
    return None


#: A coordinate as a form field carries it: decimal degrees, nothing around them (the same
#: pattern in the OpenAPI document, so a client's validator and the service agree).
NUMBER = r"^[+-]?[0-9]{1,3}(?:\.[0-9]{1,15})?$"
_NUMBER = re.compile(NUMBER, re.ASCII)


def number(value: Any) -> float | None:
    """A finite decimal number, or None (never NaN, infinity or ``1_000``)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    if isinstance(value, str) and not _NUMBER.match(value):
        return None
    result = float(value)
    return result if math.isfinite(result) else None


def _text(value: Any) -> str | None:
    return str(value) if isinstance(value, str | int | float) and str(value) else None


def _address(case: Case) -> str | None:
    """The problem's place, as the masking policy shows an address: the district part whole,
    the rest hidden (a requester often gives a home address)."""
    location = case.location
    if location is None:
        return None
    parts = [p for p in (location.district, location.street, location.address) if p]
    if not parts:
        return None
    return mask_value(PersonalDataKind.ADDRESS, " ".join(parts))


def request_view(
    case: Case,
    *,
    domains: Mapping[str, str],
    departments: Mapping[str, str],
    updated: datetime | None,
) -> dict[str, Any]:
    """One GeoReport ``request`` for ``case`` (``domains``/``departments``: id → name)."""
    lead = next((d.id for d in case.departments if d.role is DepartmentRole.LEAD), None)
    resolve = case.clocks.get("resolve")
    extra = case.facts.get(FACTS_KEY)
    facts: Mapping[str, Any] = extra if isinstance(extra, Mapping) else {}
    description = case.content or case.title
    view = ServiceRequest(
        service_request_id=case.id,
        status="closed" if case.status in TERMINAL else "open",
        status_notes=_public_note(case),
        service_name=domains.get(case.domain, case.domain) if case.domain else None,
        service_code=case.domain,
        description=public_text(description, case) if description else None,
        agency_responsible=departments.get(lead, lead) if lead else None,
        service_notice=None,
        requested_datetime=w3c(case.received_at),
        updated_datetime=w3c(updated or case.received_at),
        expected_datetime=w3c(resolve.due_at) if resolve is not None else None,
        address=_address(case),
        address_id=_text(facts.get("address_id")),
        zipcode=_text(facts.get("zipcode")),
        lat=number(facts.get("lat")),
        long=number(facts.get("long")),
        media_url=_text(facts.get("media_url")),
    )
    return view.model_dump()


# --- XML --------------------------------------------------------------------------------------


#: Characters XML 1.0 cannot carry at all (control characters, lone surrogates, U+FFFE/FFFF);
#: a work order's free text may hold them, and one would make the whole document unreadable.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("\ufffd", str(value))


def _append(parent: ElementTree.Element, tag: str, value: Any) -> None:
    element = ElementTree.SubElement(parent, tag)
    if isinstance(value, Mapping):
        for key, item in value.items():
            _append(element, str(key), item)
    elif isinstance(value, list):
        singular = "attribute" if tag == "attributes" else "value"
        for item in value:
            _append(element, singular, item)
    else:
        element.text = _xml_value(value)


def to_xml(root: str, item: str, rows: Iterable[Mapping[str, Any]]) -> bytes:
    """``<root><item>…</item>…</root>``: the standard's list documents (services,
    service_requests, errors)."""
    top = ElementTree.Element(root)
    for row in rows:
        _append(top, item, row)
    return _document(top)


def object_xml(root: str, row: Mapping[str, Any]) -> bytes:
    """One object as its own document (a service definition)."""
    top = ElementTree.Element(root)
    for key, value in row.items():
        _append(top, key, value)
    return _document(top)


def _document(top: ElementTree.Element) -> bytes:
    body: bytes = ElementTree.tostring(top, encoding="utf-8", xml_declaration=True)
    return body


def errors_view(code: int, descriptions: Sequence[str]) -> list[dict[str, Any]]:
    return [Open311Error(code=code, description=d).model_dump() for d in descriptions]
