"""``mask_case``, ``masked_case`` and ``mask_events``: a case and its history for a reader."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.privacy.strategies import bank_cards, id_numbers, mobiles

from zhenshen_core import Case, Lifecycle, mask_case, mask_events
from zhenshen_core.privacy import MaskPolicy, mask_document, masked_case

ORDER: dict[str, Any] = {
    "external_id": "GX20260302-000001",
    "channel": "hotline_12345",
    "received_at": "2026-03-02T09:30:00+08:00",
    "title": "王芳反映审批慢",
    "content": "王芳来电，电话13912345678。",
    "requester": {"name": "王芳", "phone": "13912345678"},
    "location": {"district": "成都高新区", "address": "成都市高新区天府大道北段1700号"},
}


def _case(**overrides: Any) -> Case:
    return Case.model_validate({**ORDER, **overrides})


def test_a_case_for_a_department_and_for_the_desk() -> None:
    case = _case()
    for audience in ("department", "desk"):
        masked = mask_case(case, audience=audience)  # type: ignore[arg-type]
        assert masked["requester"]["phone"] == "139****5678"
        assert masked["content"] == "王*来电，电话139****5678。"
        assert masked["id"] == case.id and masked["external_id"] == case.external_id


def test_a_confidential_requester_is_withheld_from_all_but_the_desk() -> None:
    case = _case(requester={**ORDER["requester"], "confidential": True})
    department = mask_case(case)
    assert department["requester"]["name"] == department["requester"]["phone"] == "保密"
    assert department["content"] == "**来电，电话***********。"
    desk = mask_case(case, audience="desk")
    assert desk["requester"]["name"] == "王*" and desk["content"] == "王*来电，电话139****5678。"
    with pytest.raises(ValueError, match="audience"):
        mask_document({}, audience="public")  # type: ignore[arg-type]


def test_masked_case_is_a_valid_case_with_nothing_personal() -> None:
    shown = masked_case(_case(), MaskPolicy(address="none"))
    assert isinstance(shown, Case) and shown.requester is not None
    assert shown.requester.phone == "139****5678"
    assert shown.location is not None and set(shown.location.address or "") == {"*"}


def test_events_are_masked_in_the_cases_scope() -> None:
    case, received = Lifecycle().receive(_case(), actor="intake")
    case, note = Lifecycle().fire(
        case, "note", actor="desk", at=case.received_at, payload={"text": "王芳再次来电"}
    )
    history = mask_events([received, note], case)
    raw = json.dumps(history, ensure_ascii=False)
    assert "13912345678" not in raw and "王芳" not in raw
    assert history[1]["payload"]["text"] == "王*再次来电"
    assert history[0]["payload"]["case"]["requester"]["phone"] == "139****5678"


@given(mobile=mobiles(), id_number=id_numbers(), card=bank_cards(), confidential=st.booleans())
def test_no_number_in_a_case_survives_mask_case(
    mobile: tuple[str, str], id_number: tuple[str, str], card: tuple[str, str], confidential: bool
) -> None:
    content = f"来电{mobile[0]}，证件{id_number[0]}，卡号{card[0]}。"
    case = _case(
        content=content,
        title=f"反映{mobile[0]}",
        requester={"name": "王芳", "phone": mobile[1], "confidential": confidential},
    )
    shown = json.dumps(mask_case(case), ensure_ascii=False)
    for raw in (mobile[0], mobile[1], id_number[0], id_number[1], card[0], card[1], "王芳"):
        assert raw not in shown
    masked_case(case)  # and the masked document is still a valid case
