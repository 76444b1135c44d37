"""Masking JSON-like documents: a stored case, an event, a page of cases."""

from __future__ import annotations

import copy
import json
from typing import Any

from zhenshen_core import Lifecycle, dump_case, load_case
from zhenshen_core.privacy import MaskPolicy, PersonalDataKind, mask_document

PHONE = "13912345678"
ID_NUMBER = "11010519491231002X"
USCC = "91510100MA68NDJH6X"


def work_order(**requester: Any) -> dict[str, Any]:
    return {
        "external_id": "GD-2020-0001",
        "channel": "hotline_12345",
        "received_at": "2020-04-13T09:30:00+08:00",
        "title": f"王芳反映施工许可缓慢（{PHONE}）",
        "content": f"市民王芳来电，电话{PHONE}，身份证号码{ID_NUMBER}，邮箱wangfang@example.com。",
        "enterprise": {"name": "成都某科技有限公司", "uscc": USCC},
        "requester": {"name": "王芳", "phone": PHONE, **requester},
        "location": {
            "district": "成都高新区",
            "street": "桂溪街道",
            "address": "成都市高新区天府大道北段1700号",
        },
        "facts": {"contact": {"tel": "028-85123456", "note": f"回电{PHONE}"}, "amount_wan": 1200},
        "notes": ["王芳又来电，留卡号4111 1111 1111 1111"],
    }


def stored(**requester: Any) -> dict[str, Any]:
    """A case as storage holds it: the model's own JSON, unmasked."""
    return dump_case(load_case(work_order(**requester)))


def test_a_stored_case_is_masked_in_its_fields_and_its_text() -> None:
    document = stored()
    masked = mask_document(document)
    assert masked["requester"] == {
        "name": "王*",
        "phone": "139****5678",
        "anonymous": False,
        "confidential": False,
    }
    assert masked["title"] == "王*反映施工许可缓慢（139****5678）"
    assert masked["content"] == (
        "市民王*来电，电话139****5678，身份证号码110***********002X，邮箱w*******@example.com。"
    )
    assert masked["location"] == {
        "district": "成都高新区",
        "street": "桂溪街道",
        "address": "成都市高新区***********",
    }
    assert masked["facts"] == {
        "contact": {"tel": "028-****3456", "note": "回电139****5678"},
        "amount_wan": 1200,
    }
    assert masked["notes"] == ["王*又来电，留卡号4111 **** **** 1111"]


def test_ids_and_the_uscc_are_left_alone() -> None:
    document = stored()
    masked = mask_document(document)
    assert masked["id"] == document["id"]
    assert masked["external_id"] == "GD-2020-0001"
    assert masked["external_refs"] == document["external_refs"]
    assert masked["enterprise"] == document["enterprise"]


def test_in_facts_no_key_is_an_identifier() -> None:
    """A fact's key is whatever a channel mapped: ``id`` there may hold a phone number."""
    masked = mask_document(
        {"id": "ZS1", "facts": {"id": "13912345678", "rows": [{"uscc": "13912345670"}]}}
    )
    assert masked == {
        "id": "ZS1", "facts": {"id": "139****5678", "rows": [{"uscc": "139****5670"}]}
    }


def test_the_document_is_not_changed_in_place() -> None:
    document = stored()
    before = copy.deepcopy(document)
    mask_document(document)
    assert document == before


def test_a_confidential_requester_is_withheld_entirely() -> None:
    masked = mask_document(stored(confidential=True))
    assert masked["requester"]["name"] == "保密"
    assert masked["requester"]["phone"] == "保密"
    assert masked["title"] == "**反映施工许可缓慢（***********）"
    assert masked["content"].startswith("市民**来电，电话***********，")
    assert masked["facts"]["contact"]["note"] == "回电***********"
    # Other people's data is masked as usual.
    assert "110***********002X" in masked["content"]
    assert masked["facts"]["contact"]["tel"] == "028-****3456"


def test_the_confidential_label_is_the_desks() -> None:
    policy = MaskPolicy(confidential_label="保密（confidential）")
    masked = mask_document(stored(confidential=True), policy)
    assert masked["requester"]["name"] == "保密（confidential）"


def test_an_event_carries_the_case_it_was_received_with() -> None:
    case, event = Lifecycle().receive(load_case(work_order()), actor="intake")
    document = event.model_dump(mode="json")
    assert document["payload"]["case"]["requester"]["phone"] == PHONE
    masked = json.dumps(mask_document(document), ensure_ascii=False)
    assert PHONE not in masked and ID_NUMBER not in masked and "王芳" not in masked
    assert case.id in masked


def test_each_case_in_a_page_is_its_own_scope() -> None:
    other = work_order()
    other["requester"] = {"name": "李雷", "phone": "13700001111"}
    other["external_id"] = "GD-2020-0002"
    other["content"] = "李雷说王芳是他的同事。"
    page = {"cases": [stored(confidential=True), dump_case(load_case(other))]}
    first, second = mask_document(page)["cases"]
    assert first["requester"]["name"] == "保密"
    # 王芳 is withheld in her own case; in 李雷's case she is a name nobody asked to look for.
    assert second["content"] == "李*说王芳是他的同事。"


def test_names_given_are_looked_for_everywhere() -> None:
    page = {"rows": [{"title": "王芳来电"}, {"title": "张伟来电"}]}
    assert mask_document(page, names=["王芳", "张伟"]) == {
        "rows": [{"title": "王*来电"}, {"title": "张*来电"}]
    }


def test_personal_fields_by_key_outside_the_requester() -> None:
    document = {
        "contact_name": "张伟",
        "contact_phone": "8512 3456",
        "id_card": "510107900101123",
        "email": "zw@example.com",
        "mobile": 13812345678,
        "enterprise": {"name": "成都某科技有限公司"},
        "name": "成都某科技有限公司",
    }
    assert mask_document(document) == {
        "contact_name": "张*",
        "contact_phone": "**** ****",
        "id_card": "510********1123",
        "email": "z*@example.com",
        "mobile": "138****5678",
        "enterprise": {"name": "成都某科技有限公司"},
        "name": "成都某科技有限公司",
    }


def test_a_policy_without_a_kind_leaves_its_fields() -> None:
    kinds = frozenset(PersonalDataKind) - {PersonalDataKind.ADDRESS, PersonalDataKind.NAME}
    masked = mask_document(stored(), MaskPolicy(kinds=kinds))
    assert masked["requester"]["name"] == "王芳"
    assert masked["location"]["address"] == "成都市高新区天府大道北段1700号"
    assert masked["requester"]["phone"] == "139****5678"


def test_scalars_and_empty_values_pass_through() -> None:
    document = {"requester": {"name": None, "phone": "", "anonymous": True}, "n": 3, "ok": True}
    assert mask_document(document) == document
    assert mask_document("电话13812345678") == "电话138****5678"
    assert mask_document([1, None, 2.5]) == [1, None, 2.5]
