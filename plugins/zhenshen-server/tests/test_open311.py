"""Open311 GeoReport v2 against a real ``zhenshen serve`` on a loopback port.

Reads go through ``georeport`` (the GeoReport v2 client on PyPI that runs on Python 3; the
older ``open311`` and ``three`` are Python 2 only), unchanged, in JSON and in XML. That client
has no POST, so requests are created as the standard describes: a form-encoded POST with an
``api_key`` field (``requests``, as any client does).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest
import requests
from georeport import GeoReport
from hypothesis import given, settings
from hypothesis import strategies as st
from zhenshen_server.open311_view import public_text, to_xml
from zhenshen_server_testkit import Server, make_key, start_server

from zhenshen_core import Case
from zhenshen_core.model.case import SHANGHAI
from zhenshen_core.privacy import detect_personal_data

PACK = "cn.chengdu.gaoxin"
PHONE = "13912345678"
ID_NUMBER = "11010519491231002X"
NAME = "张三丰"


class Served(Server):
    """A running ``zhenshen serve`` seen from the Open311 side: its root and its API keys."""

    @property
    def root(self) -> str:
        return f"{self.url}/open311/v2"

    def key(self, role: str, desks: Sequence[str] = (), department: str | None = None) -> str:
        return make_key(self.store_url, role, desks=desks, department=department)[1]


def _serve(tmp: Path, args: Sequence[str], store_url: str | None = None) -> Iterator[Served]:
    store_url = store_url or f"sqlite:///{tmp / 'desk.db'}"
    server = start_server(store_url, tmp, ["--sweep-every", "0", *args])
    served = Served(server.url, server.store_url, server.process, server.log)
    try:
        yield served
    finally:
        served.stop()


@pytest.fixture(
    scope="module",
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def one_desk(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """One desk on the reference pack, on a SQLite file and on a fresh PostgreSQL schema."""
    tmp = tmp_path_factory.mktemp("open311-one")
    if request.param == "sqlite":
        yield from _serve(tmp, ["--desk", f"gx={PACK}"])
        return
    if not os.environ.get("ZHENSHEN_TEST_PG_URL"):
        pytest.skip("ZHENSHEN_TEST_PG_URL is not set; the PostgreSQL Open311 tests need it")
    from zhenshen_pg_testkit import drop_schema, new_schema_url

    url, schema = new_schema_url()
    try:
        yield from _serve(tmp, ["--desk", f"gx={PACK}"], url)
    finally:
        drop_schema(schema)


@pytest.fixture(scope="module")
def two_private(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from _serve(
        tmp_path_factory.mktemp("open311-two"),
        ["--desk", f"gx={PACK}", "--desk", f"wh={PACK}", "--open311-private"],
    )


def _post(served: Served, fmt: str = "json", **form: str) -> requests.Response:
    return requests.post(f"{served.root}/requests.{fmt}", data=form, timeout=30)


def _create(served: Served, key: str, **extra: str) -> dict[str, Any]:
    form = {
        "api_key": key,
        "service_code": "market_entry_operation",
        "description": f"取得营业执照后无法经营，请回电{PHONE}，身份证{ID_NUMBER}",
        "lat": "30.5728",
        "long": "104.0668",
        "first_name": NAME[0],
        "last_name": NAME[1:],
        "phone": PHONE,
        "email": "zhang@example.com",
        **extra,
    }
    response = _post(served, **form)
    assert response.status_code == 201, response.text
    (created,) = response.json()
    return dict(created)


# --- with an unchanged client library -------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_georeport_client_reads_services_and_requests(one_desk: Served, fmt: str) -> None:
    key = one_desk.key("intake")
    created = _create(one_desk, key)
    client = GeoReport(one_desk.root, output_format=fmt)

    services = client.get_service_list()
    codes = {s["service_code"]: s for s in services}
    assert codes["market_entry_operation"]["service_name"] == "准入不准营"
    assert set(codes["financing"]) == {"service_code", "service_name", "description",
                                       "metadata", "type", "keywords", "group"}
    definition = client.get_service_definition("financing")
    assert definition["service_code"] == "financing"

    one = client.get_service_request(created["service_request_id"])
    assert one["service_request_id"] == created["service_request_id"]
    assert one["status"] == "open"
    assert one["service_code"] == "market_entry_operation"
    assert one["service_name"] == "准入不准营"
    assert one["agency_responsible"] == "市场监督管理局"  # the lead department's name
    assert one["expected_datetime"]  # the resolve clock's due instant
    assert float(one["lat"]) == pytest.approx(30.5728)
    for field in ("requested_datetime", "updated_datetime", "description", "address",
                  "address_id", "zipcode", "long", "media_url", "status_notes",
                  "service_notice"):
        assert field in one

    listed = client.get_service_requests(service_code="market_entry_operation", status="open")
    rows = listed if isinstance(listed, list) else [listed]
    assert created["service_request_id"] in {r["service_request_id"] for r in rows}


def test_post_answers_a_token_that_finds_the_request(one_desk: Served) -> None:
    created = _create(one_desk, one_desk.key("desk"))
    assert created["token"]
    found = requests.get(f"{one_desk.root}/tokens/{created['token']}.json", timeout=30).json()
    assert found == [{"service_request_id": created["service_request_id"],
                      "token": created["token"]}]
    # The request is a case on channel open311 in the /v1 view, on its desk.
    admin = one_desk.key("admin")
    case = httpx.get(f"{one_desk.url}/v1/desks/gx/cases/{created['service_request_id']}",
                     headers={"Authorization": f"Bearer {admin}"}, timeout=30).json()
    assert case["channel"] == "open311"
    assert case["domain"] == "market_entry_operation"
    assert "desk:gx" in case["tags"]


# --- the public view carries no personal data -------------------------------------------------


def test_public_view_hides_requester_and_personal_numbers(one_desk: Served) -> None:
    created = _create(one_desk, one_desk.key("intake"))
    rid = created["service_request_id"]
    for fmt in ("json", "xml"):
        for url in (f"{one_desk.root}/requests/{rid}.{fmt}", f"{one_desk.root}/requests.{fmt}"):
            text = requests.get(url, timeout=30).text
            assert rid in text
            for secret in (PHONE, ID_NUMBER, NAME, "zhang@example.com", "5678", "002X"):
                assert secret not in text, (url, secret)
    (row,) = requests.get(f"{one_desk.root}/requests/{rid}.json", timeout=30).json()
    assert row["description"].startswith("取得营业执照后无法经营")
    assert detect_personal_data(row["description"]) == []


def test_confidential_case_is_neither_listed_nor_found(one_desk: Served) -> None:
    desk_key = one_desk.key("desk")
    response = httpx.post(
        f"{one_desk.url}/v1/desks/gx/cases",
        headers={"Authorization": f"Bearer {desk_key}"},
        json={"external_id": "CONF-1", "channel": "hotline_12345",
              "received_at": datetime.now(SHANGHAI).isoformat(),
              "content": "保密举报", "domain": "financing",
              "requester": {"name": NAME, "phone": PHONE, "confidential": True}},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    rid = response.json()["id"]
    missing = requests.get(f"{one_desk.root}/requests/{rid}.json", timeout=30)
    assert missing.status_code == 404
    assert missing.json() == [{"code": 404, "description": "service_request_id not found"}]
    listed = requests.get(f"{one_desk.root}/requests.json", timeout=30).json()
    assert rid not in {r["service_request_id"] for r in listed}
    by_id = requests.get(f"{one_desk.root}/requests.json",
                         params={"service_request_id": rid}, timeout=30).json()
    assert by_id == []


def test_status_closed_and_public_notes(one_desk: Served) -> None:
    created = _create(one_desk, one_desk.key("intake"))
    rid = created["service_request_id"]
    desk = {"Authorization": f"Bearer {one_desk.key('desk')}"}
    base = f"{one_desk.url}/v1/desks/gx/cases/{rid}"
    version = httpx.get(base, headers=desk, timeout=30).json()["version"]
    for text in ("【公开】已转市场监管局办理，联系人电话13800001111", "内部：该企业曾多次投诉"):
        moved = httpx.post(f"{base}/events", headers=desk, timeout=30, json={
            "event": "note", "payload": {"text": text}, "expected_version": version})
        assert moved.status_code == 200, moved.text
        version = moved.json()["version"]
    (row,) = requests.get(f"{one_desk.root}/requests/{rid}.json", timeout=30).json()
    assert row["status"] == "open"
    assert row["status_notes"].startswith("已转市场监管局办理")  # the latest public note
    assert "13800001111" not in row["status_notes"]
    moved = httpx.post(f"{base}/events", headers=desk, timeout=30, json={
        "event": "withdraw", "payload": {}, "expected_version": version})
    assert moved.status_code == 200, moved.text
    (row,) = requests.get(f"{one_desk.root}/requests/{rid}.json", timeout=30).json()
    assert row["status"] == "closed"
    closed = requests.get(f"{one_desk.root}/requests.json", params={"status": "closed"},
                          timeout=30).json()
    assert rid in {r["service_request_id"] for r in closed}
    still_open = requests.get(f"{one_desk.root}/requests.json", params={"status": "open"},
                              timeout=30).json()
    assert rid not in {r["service_request_id"] for r in still_open}


def test_request_filters(one_desk: Served) -> None:
    key = one_desk.key("intake")
    a = _create(one_desk, key)["service_request_id"]
    b = _create(one_desk, key, service_code="financing")["service_request_id"]

    def ids(**params: str) -> set[str]:
        rows = requests.get(f"{one_desk.root}/requests.json", params=params, timeout=30).json()
        return {r["service_request_id"] for r in rows}

    assert b in ids(service_code="financing") and a not in ids(service_code="financing")
    assert {a, b} <= ids(service_code="financing,market_entry_operation")
    assert ids(service_request_id=f"{a},{b}") == {a, b}
    assert {a, b} <= ids(start_date="2020-01-01T00:00:00Z")
    assert not ids(end_date="2020-01-01T00:00:00Z") & {a, b}
    bad = requests.get(f"{one_desk.root}/requests.json", params={"start_date": "yesterday"},
                       timeout=30)
    assert bad.status_code == 400 and bad.json()[0]["code"] == 400


# --- credentials and errors -------------------------------------------------------------------


def test_post_needs_an_intake_capable_api_key(one_desk: Served) -> None:
    form = {"service_code": "financing", "description": "融资难", "lat": "30", "long": "104"}
    missing = _post(one_desk, **form)
    assert missing.status_code == 401
    assert missing.json() == [{"code": 401, "description": "api_key required"}]
    wrong = _post(one_desk, api_key="zsk_0000_nothing", **form)
    assert wrong.status_code == 401
    auditor = _post(one_desk, api_key=one_desk.key("auditor"), **form)
    assert auditor.status_code == 403 and auditor.json()[0]["code"] == 403
    department = _post(one_desk, api_key=one_desk.key("department", department="gxq.swj"),
                       **form)
    assert department.status_code == 403
    foreign = _post(one_desk, api_key=one_desk.key("intake", desks=["elsewhere"]), **form)
    assert foreign.status_code == 404
    unknown = _post(one_desk, "xml", api_key=one_desk.key("intake"), service_code="nope",
                    lat="1", long="2", description="x")
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("text/xml")
    assert "<errors><error><code>404</code>" in unknown.text
    unlocated = _post(one_desk, api_key=one_desk.key("intake"), service_code="financing",
                      description="no place")
    assert unlocated.status_code == 400


def test_unknown_format_and_service(one_desk: Served) -> None:
    assert requests.get(f"{one_desk.root}/services.csv", timeout=30).status_code == 404
    missing = requests.get(f"{one_desk.root}/services/nope.json", timeout=30)
    assert missing.status_code == 404
    assert missing.json() == [{"code": 404, "description": "service_code not found"}]
    # Whatever no route takes is answered in the standard's shape, 405 with every method.
    nowhere = requests.get(f"{one_desk.root}/requests/.xml", timeout=30)
    assert nowhere.status_code == 404 and "<errors><error><code>404</code>" in nowhere.text
    wrong = requests.delete(f"{one_desk.root}/requests.json", timeout=30)
    assert wrong.status_code == 405 and wrong.json()[0]["code"] == 405
    assert wrong.headers["allow"] == "GET, POST"


def test_jurisdictions_and_private_reads(two_private: Served) -> None:
    gx_key = two_private.key("intake", desks=["gx"])
    # Two desks: jurisdiction_id is required and names the desk.
    created = _create(two_private, gx_key, jurisdiction_id="gx")
    need = _post(two_private, api_key=gx_key, service_code="financing", description="x",
                 lat="1", long="2")
    assert need.status_code == 400
    # --open311-private: reads need a key too, as a parameter or a bearer credential.
    anonymous = requests.get(f"{two_private.root}/services.json",
                             params={"jurisdiction_id": "gx"}, timeout=30)
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    reader = two_private.key("auditor", desks=["gx"])
    client = GeoReport(two_private.root, jurisdiction="gx", api_key=reader)
    with pytest.raises(requests.HTTPError):
        client.get_service_list()  # the library sends no key on reads
    listed = requests.get(f"{two_private.root}/requests.json",
                          params={"jurisdiction_id": "gx", "api_key": reader}, timeout=30)
    assert listed.status_code == 200
    assert created["service_request_id"] in {r["service_request_id"] for r in listed.json()}
    bearer = requests.get(f"{two_private.root}/requests/{created['service_request_id']}.json",
                          params={"jurisdiction_id": "gx"},
                          headers={"Authorization": f"Bearer {reader}"}, timeout=30)
    assert bearer.status_code == 200
    # The same request is not on the other desk, and a key of gx does not reach wh.
    other = requests.get(f"{two_private.root}/requests/{created['service_request_id']}.json",
                         params={"jurisdiction_id": "wh", "api_key": two_private.key("admin")},
                         timeout=30)
    assert other.status_code == 404
    foreign = requests.get(f"{two_private.root}/services.json",
                           params={"jurisdiction_id": "wh", "api_key": reader}, timeout=30)
    assert foreign.status_code == 404
    nowhere = requests.get(f"{two_private.root}/services.json",
                           params={"jurisdiction_id": "nowhere", "api_key": reader}, timeout=30)
    assert nowhere.status_code == 404


def test_every_create_is_audited(one_desk: Served) -> None:
    created = _create(one_desk, one_desk.key("intake"))
    auditor = one_desk.key("auditor")
    log = httpx.get(f"{one_desk.url}/v1/audit", params={"case": created["service_request_id"]},
                    headers={"Authorization": f"Bearer {auditor}"}, timeout=30)
    assert log.status_code == 200, log.text
    (entry,) = [e for e in log.json()["items"] if e["action"] == "receive_case"]
    assert entry["outcome"] == "ok" and entry["detail"] == {"created": True, "via": "open311"}
    assert entry["case_id"] == created["service_request_id"] and entry["desk"] == "gx"
    # A refused attempt is in the log too, as /v1 logs one.
    refused = _post(one_desk, api_key=one_desk.key("auditor"), service_code="financing",
                    description="x", lat="1", long="2")
    assert refused.status_code == 403
    log = httpx.get(f"{one_desk.url}/v1/audit", headers={"Authorization": f"Bearer {auditor}"},
                    params={"desk": "gx"}, timeout=30).json()["items"]
    assert any(e["action"] == "receive_case" and e["outcome"] == "denied"
               and e["role"] == "auditor" for e in log)


# --- the public text, as a property -----------------------------------------------------------

_MOBILE = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)
_FILLER = st.text(alphabet="营业执照无法经营请联系谢谢，。 ", max_size=20)


@settings(max_examples=60, deadline=None)
@given(before=_FILLER, phone=_MOBILE, after=_FILLER)
def test_public_text_leaves_no_personal_number(before: str, phone: str, after: str) -> None:
    case = Case(received_at="2026-03-02T09:00:00+08:00", content="",
                requester={"name": NAME, "phone": PHONE})
    text = f"{before}{phone}{after}{NAME}{ID_NUMBER}"
    shown = public_text(text, case)
    assert len(shown) == len(text)
    assert detect_personal_data(shown, [NAME]) == []
    assert phone[-4:] not in shown[len(before):len(before) + 11]
    assert NAME not in shown and ID_NUMBER[-4:] not in shown


@settings(max_examples=80, deadline=None)
@given(text=st.text() | st.lists(st.sampled_from("a\r\n\x00\x1f\ud800\ufffe")).map("".join))
def test_xml_answers_stay_readable_whatever_the_text(text: str) -> None:
    """Any free text (control characters, surrogates included) gives a document an XML parser
    reads back, with the text intact but for the characters XML cannot carry."""
    document = to_xml("service_requests", "request", [{"description": text, "lat": None}])
    parsed = ElementTree.fromstring(document)
    shown = parsed.find("request/description")
    assert shown is not None
    expected = "".join(
        c if c in "\t\n\r" or "\x20" <= c <= "\ud7ff" or "\ue000" <= c <= "\ufffd"
        or c >= "\U00010000" else "\ufffd" for c in text
    )
    # An XML parser reads every line break as \n (XML 1.0, 2.11).
    assert (shown.text or "") == expected.replace("\r\n", "\n").replace("\r", "\n")
