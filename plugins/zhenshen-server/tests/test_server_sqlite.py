"""One real ``zhenshen serve`` on SQLite with two desks (``a`` and ``b``) and JWTs: roles ×
endpoints on the own and the foreign desk, tokens, keys, masking, audit, limits, reload."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from zhenshen_server_testkit import (
    AUDIENCE,
    ISSUER,
    Issuer,
    Server,
    b64,
    make_key,
    start_server,
    unsigned_token,
)

pytest.importorskip("zhenshen_chengdu_gaoxin", reason="needs the reference pack plugin")

import zhenshen_chengdu_gaoxin

PACK = Path(zhenshen_chengdu_gaoxin.__file__).parent / "pack"
DEPARTMENT = "gxq.scjgj"  # the lead department the reference pack gives ORDER
COUNTER = itertools.count()


def order(**over: Any) -> dict[str, Any]:
    return {
        "external_id": f"GX-T-{next(COUNTER)}",
        "channel": "hotline_12345",
        "received_at": "2026-03-02T09:00:00+08:00",
        "title": "无法经营",
        "content": "取得执照后无法经营，联系电话13800002222",
        "domain": "market_entry_operation",
        "requester": {"name": "张三", "phone": "13800002222"},
        **over,
    }


def serve_two_desks(
    store_url: str, tmp: Path, jwks_url: str | None = None
) -> Iterator[dict[str, Any]]:
    """A server with desks ``a`` and ``b`` (b on a copy of the pack), JWTs (the JWKS a file,
    or at ``jwks_url``), a key per role, and one case on each desk."""
    pack_b = tmp / "pack-b"
    shutil.copytree(PACK, pack_b)
    issuer = Issuer.create(tmp)
    keys = {
        "intake": make_key(store_url, "intake", desks=["a"])[1],
        "desk": make_key(store_url, "desk", desks=["a"])[1],
        "department": make_key(store_url, "department", desks=["a"], department=DEPARTMENT)[1],
        "auditor": make_key(store_url, "auditor", desks=["a"])[1],
        "admin": make_key(store_url, "admin")[1],
        "desk_b": make_key(store_url, "desk", desks=["b"])[1],
        "pii": make_key(store_url, "desk", desks=["a"], pii=True)[1],
    }
    server = start_server(
        store_url, tmp,
        ["--desk", f"a={PACK}", "--desk", f"b={pack_b}", "--body-limit", "20000",
         "--sweep-every", "0", *issuer.args(jwks_url)],
    )
    server.keys = keys
    with server.client(keys["desk"]) as c:
        case_a = c.post("/v1/desks/a/cases", json=order()).json()
    with server.client(keys["desk_b"]) as c:
        case_b = c.post("/v1/desks/b/cases", json=order()).json()
    try:
        yield {"server": server, "issuer": issuer, "a": case_a["id"], "b": case_b["id"],
               "pack_b": pack_b, "tmp": tmp}
    finally:
        assert server.stop() == 0, server.output()


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("server")
    yield from serve_two_desks(f"sqlite:///{tmp / 'desk.db'}", tmp)


def call(server: Server, token: str | None, method: str, path: str, **kw: Any) -> httpx.Response:
    with server.client(token) as c:
        return c.request(method, path, **kw)


# --- the role × endpoint matrix ---------------------------------------------------------------

ROLES = ["intake", "desk", "department", "auditor", "admin"]


def endpoints(case: str) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """name → (method, path under the desk, request keywords); ``{desk}`` is filled in."""
    return {
        "receive": ("POST", "/v1/desks/{desk}/cases", {"json": None}),
        "list": ("GET", "/v1/desks/{desk}/cases", {}),
        "get": ("GET", f"/v1/desks/{{desk}}/cases/{case}", {}),
        "events": ("GET", f"/v1/desks/{{desk}}/cases/{case}/events", {}),
        "event": ("POST", f"/v1/desks/{{desk}}/cases/{case}/events",
                  {"json": {"event": "no_such_event", "expected_version": 0}}),
        "letter": ("GET", f"/v1/desks/{{desk}}/cases/{case}/letter", {}),
        "decisions": ("POST", "/v1/desks/{desk}/decisions",
                      {"json": {"received_at": "2026-03-02T09:00:00+08:00",
                                "content": "无法经营", "domain": "market_entry_operation"}}),
        "report": ("GET", "/v1/desks/{desk}/report", {}),
    }


#: Expected status on the own desk (a) for a case the desk key submitted.
OWN = {
    "intake": {"receive": 201, "list": 200, "get": 404, "events": 404, "event": 403,
               "letter": 404, "decisions": 403, "report": 403},
    "desk": {"receive": 201, "list": 200, "get": 200, "events": 200, "event": 422,
             "letter": 409, "decisions": 200, "report": 200},
    "department": {"receive": 403, "list": 200, "get": 200, "events": 200, "event": 422,
                   "letter": 409, "decisions": 403, "report": 403},
    "auditor": {"receive": 403, "list": 200, "get": 200, "events": 200, "event": 403,
                "letter": 409, "decisions": 200, "report": 200},
    "admin": {"receive": 201, "list": 200, "get": 200, "events": 200, "event": 422,
              "letter": 409, "decisions": 200, "report": 200},
}


def foreign(role: str, name: str) -> int:
    """On desk b (out of reach but for admin): 403 where the role may never call, else 404."""
    own = OWN[role][name]
    if own == 403 or role == "admin":
        return own
    return 404


@pytest.mark.parametrize("role", ROLES)
def test_role_endpoint_matrix_on_own_and_foreign_desk(env: dict[str, Any], role: str) -> None:
    server: Server = env["server"]
    token = server.keys[role]
    seen: dict[str, tuple[int, int]] = {}
    for desk, case in (("a", env["a"]), ("b", env["b"])):
        for name, (method, path, kw) in endpoints(case).items():
            kw = {"json": order()} if kw.get("json", 0) is None else kw
            response = call(server, token, method, path.format(desk=desk), **kw)
            expected = OWN[role][name] if desk == "a" else foreign(role, name)
            seen[f"{desk}:{name}"] = (response.status_code, expected)
            body = response.json() if "json" in response.headers.get("content-type", "") else {}
            if response.status_code >= 400:
                assert set(body["error"]) == {"type", "message", "details"}
    wrong = {k: v for k, v in seen.items() if v[0] != v[1]}
    assert not wrong, f"{role}: (got, expected) {wrong}"
    # Outside any desk.
    deadline = call(server, token, "GET", "/v1/deadline",
                    params={"start": "2026-02-13", "period": "2 working days"})
    assert deadline.status_code == (403 if role in ("intake", "department") else 200)
    audit = call(server, token, "GET", "/v1/audit")
    assert audit.status_code == (200 if role in ("auditor", "admin") else 403)


def test_no_or_bad_credentials_are_401_with_www_authenticate(env: dict[str, Any]) -> None:
    server: Server = env["server"]
    for token in (None, "zsk_0000_nope", "not-a-token"):
        for method, path, kw in endpoints(env["a"]).values():
            response = call(server, token, method, path.format(desk="a"), **(
                {"json": order()} if kw.get("json", 0) is None else kw))
            assert response.status_code == 401, (token, path)
            assert response.headers["www-authenticate"].startswith("Bearer")
            assert response.json()["error"]["type"] == "unauthorized"
    with server.client() as c:
        basic = c.get("/v1/desks/a/cases", headers={"Authorization": "Basic dTpw"})
    assert basic.status_code == 401


# --- tokens and keys ---------------------------------------------------------------------------


def test_a_valid_jwt_plays_the_part_of_a_key(env: dict[str, Any]) -> None:
    server, issuer = env["server"], env["issuer"]
    ok = call(server, issuer.token(), "GET", f"/v1/desks/a/cases/{env['a']}")
    assert ok.status_code == 200
    assert ok.json()["requester"]["phone"] == "138****2222"
    # Its desks bound it like a key's.
    assert call(server, issuer.token(), "GET", f"/v1/desks/b/cases/{env['b']}").status_code == 404
    dept = issuer.token(zhenshen_role="department", zhenshen_department="gxq.other")
    assert call(server, dept, "GET", f"/v1/desks/a/cases/{env['a']}").status_code == 404


def test_refused_tokens(env: dict[str, Any]) -> None:
    server, issuer = env["server"], env["issuer"]
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = issuer.private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    header = b64(b'{"alg":"HS256","typ":"JWT","kid":"k1"}')
    import json as _json

    body = b64(_json.dumps(issuer.claims()).encode())
    mac = hmac.new(public_pem, f"{header}.{body}".encode(), hashlib.sha256).digest()
    refused = {
        "expired": issuer.token(exp=1_600_000_000, iat=1_599_999_000),
        "wrong issuer": issuer.token(iss="https://evil.example"),
        "wrong audience": issuer.token(aud="someone-else"),
        "bad signature": issuer.token(key=other_key),
        "alg none": unsigned_token(issuer.claims()),
        "hmac with the public key": f"{header}.{body}.{b64(mac)}",
        "no role": issuer.token(zhenshen_role="root"),
        "no exp": unsigned_token({"iss": ISSUER, "aud": AUDIENCE, "sub": "x"}, "RS256"),
    }
    for what, token in refused.items():
        response = call(server, token, "GET", "/v1/desks/a/cases")
        assert response.status_code == 401, what
        assert "www-authenticate" in response.headers
        assert token not in response.text


def test_a_revoked_key_is_refused_at_once(env: dict[str, Any]) -> None:
    server: Server = env["server"]
    from zhenshen_server.keys import revoke_key

    from zhenshen_core import PluginConfig, PluginHost
    from zhenshen_core.storage import open_store

    key_id, key = make_key(server.store_url, "desk", desks=["a"])
    assert call(server, key, "GET", "/v1/desks/a/cases").status_code == 200
    store = open_store(server.store_url, PluginHost(PluginConfig.from_env()))
    try:
        revoke_key(store, key_id)
    finally:
        store.close()
    assert call(server, key, "GET", "/v1/desks/a/cases").status_code == 401
    wrong_secret = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
    assert call(server, wrong_secret, "GET", "/v1/desks/a/cases").status_code == 401


# --- cases --------------------------------------------------------------------------------------


def test_a_case_is_sent_as_stored_whatever_json_writer_can_take_it(env: dict[str, Any]) -> None:
    """Responses are written by orjson, which refuses integers beyond 64 bits: such a case is
    still answered, whole, by the standard library's writer."""
    server: Server = env["server"]
    big = 2**70
    made = call(server, server.keys["intake"], "POST", "/v1/desks/a/cases",
                json=order(facts={"registered_capital_fen": big, "名称": "甲"}))
    assert made.status_code == 201, made.text
    assert made.json()["facts"]["registered_capital_fen"] == big
    got = call(server, server.keys["desk"], "GET", f"/v1/desks/a/cases/{made.json()['id']}")
    assert got.status_code == 200 and got.json()["facts"]["registered_capital_fen"] == big
    assert got.headers["content-type"] == "application/json"
    assert "甲" in got.text  # UTF-8, not \u escapes


def test_intake_is_idempotent_and_reads_only_what_it_submitted(env: dict[str, Any]) -> None:
    server: Server = env["server"]
    intake = server.keys["intake"]
    work_order = order()
    first = call(server, intake, "POST", "/v1/desks/a/cases", json=work_order)
    again = call(server, intake, "POST", "/v1/desks/a/cases", json=work_order)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert first.json()["severity"] and first.json()["clocks"]
    case_id = first.json()["id"]
    assert call(server, intake, "GET", f"/v1/desks/a/cases/{case_id}").status_code == 200
    listed = call(server, intake, "GET", "/v1/desks/a/cases", params={"limit": 500}).json()
    assert case_id in {c["id"] for c in listed["items"]}
    assert env["a"] not in {c["id"] for c in listed["items"]}
    # The same work order sent to the other desk is not handed out from desk a.
    other = call(server, server.keys["admin"], "POST", "/v1/desks/b/cases", json=work_order)
    assert other.status_code == 409


def test_invalid_work_orders_are_400_naming_each_field(env: dict[str, Any]) -> None:
    server: Server = env["server"]
    token = server.keys["desk"]
    smuggled = call(server, token, "POST", "/v1/desks/a/cases", json=order(tags=["desk:b"]))
    assert smuggled.status_code == 201 and "desk:b" not in smuggled.json()["tags"]
    assert call(server, token, "POST", "/v1/desks/a/cases",
                json=order(tags="desk:b")).status_code == 400
    ancient = call(server, token, "POST", "/v1/desks/a/cases",
                   json=order(received_at="2000-01-01T00:00:00Z"))
    assert ancient.status_code == 400  # before the calendar's data: the request, not the desk
    # ... refused by the received window, which starts where the calendar does, so the
    # answer names the field (it was an unlocated error of the deadline arithmetic).
    assert [d["field"] for d in ancient.json()["error"]["details"]] == ["received_at"]
    assert "is before 2004-01-01" in ancient.json()["error"]["message"]
    bad = order(received_at="yesterday", appeal_type="shouting")
    response = call(server, token, "POST", "/v1/desks/a/cases", json=bad)
    assert response.status_code == 400
    fields = {d["field"] for d in response.json()["error"]["details"]}
    assert {"received_at", "appeal_type"} <= fields
    broken = call(server, token, "POST", "/v1/desks/a/cases", content=b"{oops",
                  headers={"content-type": "application/json"})
    assert broken.status_code == 400
    assert "Traceback" not in broken.text


def test_events_conflicts_and_allowed_events(env: dict[str, Any]) -> None:
    server: Server = env["server"]
    token = server.keys["desk"]
    case = call(server, token, "POST", "/v1/desks/a/cases", json=order()).json()
    path = f"/v1/desks/a/cases/{case['id']}/events"
    stale = call(server, token, "POST", path, json={"event": "accept", "expected_version": 0})
    assert stale.status_code == 409
    desk_only = call(server, token, "POST", path, json={
        "event": "decide", "expected_version": case["version"]})
    assert desk_only.status_code == 422
    assert "accept" in desk_only.json()["error"]["details"]
    assert "decide" not in desk_only.json()["error"]["details"]
    moved = call(server, token, "POST", path, json={
        "event": "accept", "expected_version": case["version"]})
    assert moved.status_code == 200 and moved.json()["status"] == "accepted"
    history = call(server, token, "GET", path).json()
    assert history[-1]["type"] == "accept"
    # A department may post only the events it owns.
    dept = call(server, server.keys["department"], "POST", path, json={
        "event": "start_screening", "expected_version": moved.json()["version"]})
    assert dept.status_code == 422 and dept.json()["error"]["details"] == ["return_case"]


def test_personal_data_masked_unless_pii_and_each_unmasked_read_audited(
    env: dict[str, Any],
) -> None:
    server: Server = env["server"]
    path = f"/v1/desks/a/cases/{env['a']}"
    masked = call(server, server.keys["desk"], "GET", path).json()
    assert masked["requester"] == {**masked["requester"], "name": "张*", "phone": "138****2222"}
    assert "13800002222" not in call(server, server.keys["desk"], "GET", path + "/events").text
    # A masked case is still a valid case, as the OpenAPI document says (a Case).
    from zhenshen_core import Case, CaseEvent

    Case.model_validate(masked)
    for event in call(server, server.keys["desk"], "GET", path + "/events").json():
        CaseEvent.model_validate(event)
    whole = call(server, server.keys["pii"], "GET", path).json()
    assert whole["requester"]["phone"] == "13800002222"
    log = call(server, server.keys["auditor"], "GET", "/v1/audit",
               params={"case": env["a"]}).json()["items"]
    reads = [r for r in log if r["action"] == "read_personal_data"]
    assert reads and reads[-1]["case_id"] == env["a"] and reads[-1]["remote"] == "127.0.0.1"
    writes = [r for r in log if r["action"] == "receive_case"]
    assert writes and writes[0]["actor"].startswith("key:") and writes[0]["desk"] == "a"


def test_cursor_pagination_visits_every_case_once(env: dict[str, Any]) -> None:
    server: Server = env["server"]
    token = server.keys["desk"]
    for _ in range(5):
        call(server, token, "POST", "/v1/desks/a/cases", json=order())
    everything = call(server, token, "GET", "/v1/desks/a/cases", params={"limit": 500}).json()
    ids, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = call(server, token, "GET", "/v1/desks/a/cases", params=params).json()
        ids += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert ids == [c["id"] for c in everything["items"]] and len(ids) == len(set(ids)) >= 6
    bad = call(server, token, "GET", "/v1/desks/a/cases", params={"cursor": "!!"})
    assert bad.status_code == 400


def test_deadline_and_decision_match_the_cli(env: dict[str, Any]) -> None:
    import json
    import subprocess

    from zhenshen_server_testkit import ZHENSHEN

    server: Server = env["server"]
    got = call(server, server.keys["desk"], "GET", "/v1/deadline",
               params={"start": "2026-02-13", "period": "2 working days"}).json()
    cli = subprocess.run([ZHENSHEN, "deadline", "2026-02-13", "2 working days", "--format",
                          "json"], capture_output=True, text=True, check=True)
    assert got == json.loads(cli.stdout)
    bad = call(server, server.keys["desk"], "GET", "/v1/deadline",
               params={"start": "2026-02-13", "period": "soon"})
    assert bad.status_code == 400 and bad.json()["error"]["details"][0]["field"] == "period"


# --- limits -------------------------------------------------------------------------------------


def test_bodies_over_the_limit_are_413_counted_on_the_bytes_read(env: dict[str, Any]) -> None:
    server: Server = env["server"]
    token = server.keys["desk"]
    big = order(content="无法经营" * 3000)  # > 20,000 bytes
    declared = call(server, token, "POST", "/v1/desks/a/cases", json=big)
    assert declared.status_code == 413 and declared.json()["error"]["type"] == "too_large"
    import json

    data = json.dumps(big).encode()

    def chunks() -> Iterator[bytes]:  # no Content-Length: only the bytes tell
        for i in range(0, len(data), 4096):
            yield data[i:i + 4096]

    streamed = call(server, token, "POST", "/v1/desks/a/cases", content=chunks(),
                    headers={"content-type": "application/json"})
    assert streamed.status_code == 413


def test_health_ready_metrics_openapi_need_no_credentials(env: dict[str, Any]) -> None:
    server: Server = env["server"]
    assert call(server, None, "GET", "/healthz").json() == {"status": "ok"}
    assert call(server, None, "GET", "/readyz").json()["desks"] == ["a", "b"]
    metrics = call(server, None, "GET", "/metrics")
    assert "zhenshen_http_requests_total" in metrics.text
    schema = call(server, None, "GET", "/openapi.json").json()
    assert "/v1/desks/{desk}/cases/{case_id}/events" in schema["paths"]
    assert "HTTPBearer" in schema["components"]["securitySchemes"]


# --- reload (last: it changes desk b's pack) ---------------------------------------------------


def test_reload_refuses_a_broken_pack_and_keeps_the_old_one(env: dict[str, Any]) -> None:
    server: Server = env["server"]
    admin = server.keys["admin"]
    pack_yaml = env["pack_b"] / "pack.yaml"
    good = pack_yaml.read_text(encoding="utf-8")
    assert call(server, admin, "POST", "/v1/admin/reload").status_code == 200
    pack_yaml.write_text(good + "\nnot_a_key: [1, 2\n", encoding="utf-8")
    try:
        refused = call(server, admin, "POST", "/v1/admin/reload")
        assert refused.status_code == 422
        problems = refused.json()["error"]["details"]
        assert problems and problems[0]["desk"] == "b" and "pack.yaml:" in problems[0]["problem"]
        still = call(server, server.keys["desk_b"], "POST", "/v1/desks/b/cases", json=order())
        assert still.status_code == 201 and still.json()["severity"]
    finally:
        pack_yaml.write_text(good, encoding="utf-8")
    assert call(server, admin, "POST", "/v1/admin/reload").status_code == 200


def test_reload_reads_a_rotated_jwks_file(env: dict[str, Any]) -> None:
    server: Server = env["server"]
    issuer: Issuer = env["issuer"]
    jwks = issuer.jwks_path.read_text(encoding="utf-8")
    rotated = Issuer.create(env["tmp"] / "rotated")
    token = rotated.token()
    assert call(server, token, "GET", "/v1/desks/a/cases").status_code == 401
    issuer.jwks_path.write_text(rotated.jwks_path.read_text(encoding="utf-8"), encoding="utf-8")
    try:
        assert call(server, server.keys["admin"], "POST", "/v1/admin/reload").status_code == 200
        assert call(server, token, "GET", "/v1/desks/a/cases").status_code == 200
    finally:
        issuer.jwks_path.write_text(jwks, encoding="utf-8")
        assert call(server, server.keys["admin"], "POST", "/v1/admin/reload").status_code == 200


def _raw(server: Server, head: str, body: bytes = b"") -> int:
    """Send a hand-made request on a real socket; the status code of the answer."""
    import socket
    from urllib.parse import urlsplit

    where = urlsplit(server.url)
    with socket.create_connection((where.hostname, where.port), timeout=10) as sock:
        sock.sendall(head.encode() + b"\r\n" + body)
        answer = b""
        while b"\r\n" not in answer:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    return int(answer.split(b" ", 2)[1])


def test_lying_and_invalid_content_lengths_on_a_real_socket(env: dict[str, Any]) -> None:
    server: Server = env["server"]
    auth = f"Authorization: Bearer {server.keys['desk']}\r\n"
    path = "POST /v1/desks/a/cases HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    assert _raw(server, f"{path}{auth}Content-Length: -1\r\n") == 400
    # A length over the limit is refused before anything is read.
    assert _raw(server, f"{path}{auth}Content-Length: 999999999\r\n") == 413
    # Only the bytes a length announces are read: the rest is not taken as the work order.
    import json

    data = json.dumps(order()).encode()
    assert _raw(server, f"{path}{auth}Content-Length: 5\r\n", data) == 400


def test_the_opinion_letter_as_md_html_and_docx(env: dict[str, Any]) -> None:
    from datetime import datetime, timedelta

    from zhenshen_core import Desk, PluginConfig, PluginHost, load_pack
    from zhenshen_core.storage import open_store

    server: Server = env["server"]
    token = server.keys["desk"]
    case = call(server, token, "POST", "/v1/desks/a/cases", json=order()).json()
    host = PluginHost(PluginConfig.from_env())
    desk = Desk(open_store(server.store_url, host), pack=load_pack(str(PACK)), host=host)
    try:  # the joint review happens at the desk; the letter is fetched over HTTP
        start = datetime.fromisoformat("2026-03-02T10:00:00+08:00")
        desk.screen(case["id"], at=start)
        desk.schedule_meeting(case["id"], start + timedelta(days=1), at=start)
        desk.hold_meeting(case["id"], start + timedelta(days=1))
        for expert in desk.get(case["id"]).experts:
            if expert.required:
                desk.record_expert_advice(case["id"], expert.kind, "意见",
                                          at=start + timedelta(days=1, hours=1))
        desk.issue_opinion(case["id"], result="supported", reasons="理由",
                           at=start + timedelta(days=2))
    finally:
        desk.store.close()
    path = f"/v1/desks/a/cases/{case['id']}/letter"
    md = call(server, token, "GET", path, params={"format": "md"})
    assert md.status_code == 200 and md.headers["content-type"].startswith("text/markdown")
    assert "理由" in md.text and "13800002222" not in md.text
    html = call(server, token, "GET", path, params={"format": "html"})
    assert html.status_code == 200 and "<" in html.text
    import io
    import zipfile

    def docx_text(response: httpx.Response) -> str:
        assert response.status_code == 200 and response.content[:2] == b"PK"
        with zipfile.ZipFile(io.BytesIO(response.content)) as docx:
            return docx.read("word/document.xml").decode("utf-8")

    masked = docx_text(call(server, token, "GET", path, params={"format": "docx"}))
    whole = docx_text(call(server, server.keys["pii"], "GET", path, params={"format": "docx"}))
    assert "理由" in masked and "13800002222" not in masked
    assert "13800002222" in whole or "张三" in whole, "the pii letter shows the requester"


def test_refused_writes_are_audited_as_denied(env: dict[str, Any]) -> None:
    server: Server = env["server"]
    auditor = server.keys["auditor"]
    assert call(server, auditor, "POST", "/v1/desks/a/cases", json=order()).status_code == 403
    outsider = call(server, server.keys["desk_b"], "POST",
                    f"/v1/desks/b/cases/{env['a']}/events",
                    json={"event": "accept", "expected_version": 1})
    assert outsider.status_code == 404
    log = call(server, server.keys["admin"], "GET", "/v1/audit", params={"limit": 1000})
    denied = [(r["action"], r["desk"], r["case_id"]) for r in log.json()["items"]
              if r["outcome"] == "denied"]
    assert ("receive_case", "a", None) in denied
    assert ("post_event", "b", env["a"]) in denied


def test_a_confidential_requester_is_withheld_from_all_but_the_desk(env: dict[str, Any]) -> None:
    server: Server = env["server"]
    secret = order(requester={"name": "李四", "phone": "13900003333", "confidential": True})
    case = call(server, server.keys["desk"], "POST", "/v1/desks/a/cases", json=secret).json()
    path = f"/v1/desks/a/cases/{case['id']}"
    desk_view = call(server, server.keys["desk"], "GET", path).json()["requester"]
    dept_view = call(server, server.keys["department"], "GET", path).json()["requester"]
    assert desk_view["name"] == "李*" and desk_view["phone"] == "139****3333"
    assert dept_view["name"] == "保密" and "3333" not in dept_view["phone"]
    history = call(server, server.keys["department"], "GET", path + "/events").text
    assert "李四" not in history and "13900003333" not in history


def test_405_names_every_method_and_bad_query_values_are_400(env: dict[str, Any]) -> None:
    server: Server = env["server"]
    admin = server.keys["admin"]
    refused = call(server, admin, "DELETE", "/v1/desks/a/cases")
    assert refused.status_code == 405 and refused.headers["allow"] == "GET, POST"
    assert refused.json()["error"]["type"] == "method_not_allowed"
    since = call(server, admin, "GET", "/v1/audit", params={"since": "0"})
    assert since.status_code == 400 and since.json()["error"]["details"][0]["field"] == "since"


# --- what the OpenAPI document declares is what is accepted ----------------------------------


def _fields(response: httpx.Response) -> list[str]:
    return [d["field"] for d in response.json()["error"]["details"]]


def test_a_value_of_the_wrong_json_type_is_400_naming_the_field(env: dict[str, Any]) -> None:
    """The library reads "1" and false as integers (lax, as for spreadsheets); the document
    declares JSON integers, so the service refuses the others and names the field."""
    server: Server = env["server"]
    token = server.keys["desk"]
    draft = {"received_at": "2026-03-02T09:00:00+08:00", "content": "无法经营"}
    for version in (False, "1"):
        decided = call(server, token, "POST", "/v1/desks/a/decisions",
                       json={**draft, "version": version})
        assert decided.status_code == 400 and _fields(decided) == ["version"], decided.text
        received = call(server, token, "POST", "/v1/desks/a/cases", json=order(version=version))
        assert received.status_code == 400 and _fields(received) == ["version"]
    nested = call(server, token, "POST", "/v1/desks/a/cases",
                  json=order(requester={"name": "张三", "confidential": 1}, tags=["x", 2]))
    assert sorted(_fields(nested)) == ["requester.confidential", "tags.1"]
    # As deep as the JSON reader goes: the field is named, not a 500.
    deep = json.dumps(order())[:-1] + ', "facts": {"x": ' + "[" * 900 + "]" * 900 + "}"
    deep += ', "tags": ' + "[" * 900 + "1" + "]" * 900 + "}"
    refused = call(server, token, "POST", "/v1/desks/a/cases", content=deep,
                   headers={"content-type": "application/json"})
    assert refused.status_code == 400 and _fields(refused) == ["tags"], refused.text
    # zhenshen eval's conveniences are in the decisions body's schema (CaseDraft), and read.
    easy = {**draft, "departments": [DEPARTMENT], "returns": 2, "enterprise": {"tags": []}}
    assert call(server, token, "POST", "/v1/desks/a/decisions", json=easy).status_code == 200
    # ... up to 1000 returns: a small body no longer stands for a billion records in memory.
    many = call(server, token, "POST", "/v1/desks/a/decisions",
                json={**draft, "returns": 10**9})
    assert many.status_code == 400 and _fields(many) == ["returns"]
    case = call(server, token, "POST", "/v1/desks/a/cases", json=order()).json()
    path = f"/v1/desks/a/cases/{case['id']}/events"
    for version in ("1", True):
        moved = call(server, token, "POST", path,
                     json={"event": "accept", "expected_version": version})
        assert moved.status_code == 400 and _fields(moved) == ["expected_version"]
    stale = call(server, token, "POST", path, json={"event": "accept", "expected_version": 0.0})
    assert stale.status_code == 409  # 0.0 is a JSON Schema integer: read, and stale


def test_a_cursor_of_the_declared_form_is_a_page(env: dict[str, Any]) -> None:
    server: Server = env["server"]
    token = server.keys["desk"]
    declared = httpx.get(f"{server.url}/openapi.json").json()
    params = declared["paths"]["/v1/desks/{desk}/cases"]["get"]["parameters"]
    (cursor,) = [p for p in params if p["name"] == "cursor"]
    pattern = cursor["schema"]["pattern"]  # beside anyOf [string, null]: for the string
    first = call(server, token, "GET", "/v1/desks/a/cases", params={"limit": 1}).json()
    assert re.fullmatch(pattern, first["next_cursor"])
    past = call(server, token, "GET", "/v1/desks/a/cases", params={"cursor": "9" * 15})
    assert past.status_code == 200 and past.json() == {"items": [], "next_cursor": None}
    for bad in ("", "!!", "-1", "01", "9" * 16, "eyJvIjogMn0"):
        assert re.fullmatch(pattern, bad) is None
        refused = call(server, token, "GET", "/v1/desks/a/cases", params={"cursor": bad})
        assert refused.status_code == 400 and _fields(refused) == ["cursor"], bad


def test_query_values_are_refused_exactly_where_the_document_says(env: dict[str, Any]) -> None:
    """since, start and period have the pattern the document declares: a value it matches is
    read (a day that exists, in years a calendar counts), any other is 400 naming it."""
    server: Server = env["server"]
    admin, desk = server.keys["admin"], server.keys["desk"]
    declared = httpx.get(f"{server.url}/openapi.json").json()["paths"]

    def pattern(path: str, name: str) -> str:
        (param,) = [p for p in declared[path]["get"]["parameters"] if p["name"] == name]
        return str(param["schema"]["pattern"])

    since = pattern("/v1/audit", "since")
    for value, ok in (("2024-02-29", True), ("2024-02-29T10:00+08:00", True),
                      ("2024-02-29 10:00:00Z", True), ("", False), ("2023-02-29", False),
                      ("2026-04-31", False), ("0000000000", False), ("9999-12-31", False)):
        assert (re.fullmatch(since, value) is not None) == ok, value
        got = call(server, admin, "GET", "/v1/audit", params={"since": value})
        assert got.status_code == (200 if ok else 400), (value, got.text)
        assert ok or _fields(got) == ["since"]
    start, period = pattern("/v1/deadline", "start"), pattern("/v1/deadline", "period")
    for value in ("2026-02-30", "0000000000", "2026-02-13T9:00", "2200-01-01"):
        assert re.fullmatch(start, value) is None
        got = call(server, desk, "GET", "/v1/deadline", params={"start": value, "period": "2wd"})
        assert got.status_code == 400 and _fields(got) == ["start"], value
    for value in ("0 days", "2\tdays", "2 weeks"):
        assert re.fullmatch(period, value) is None
        got = call(server, desk, "GET", "/v1/deadline",
                   params={"start": "2026-02-13", "period": value})
        assert got.status_code == 400 and _fields(got) == ["period"], value
    # A well-formed period past the last day Python can name: 400 (it was a 500).
    assert re.fullmatch(period, "9999999 years")
    far = call(server, desk, "GET", "/v1/deadline",
               params={"start": "2020-01-01", "period": "9999999 years", "policy": "weekdays"})
    assert far.status_code == 400 and "beyond the data of calendar" in far.text


def test_the_declared_years_are_those_a_calendar_counts() -> None:
    from zhenshen_server import forms
    from zhenshen_server.routes import tools

    from zhenshen_core.deadlines import CalendarPolicy, national_calendar

    calendars = [national_calendar(p) for p in CalendarPolicy]
    assert (min(c.first_day.year for c in calendars),
                           max(c.last_day.year for c in calendars)) == forms.YEARS
    assert re.fullmatch(forms.INSTANT, f"{forms.YEARS[0]}-01-01")
    assert re.fullmatch(forms.INSTANT, f"{forms.YEARS[1]}-12-31T23:59:59.999999+08:00")
    assert not re.fullmatch(forms.INSTANT, f"{forms.YEARS[0] - 1}-12-31")
    assert not re.fullmatch(forms.INSTANT, f"{forms.YEARS[1] + 1}-01-01")
    # The 400 of GET /v1/deadline names the strict calendar's first day in words.
    strict = national_calendar(CalendarPolicy.STRICT).first_day.isoformat()
    assert f"(from {strict})" in tools._OUTSIDE


def test_the_desks_see_what_the_store_offers_through_its_watch(tmp_path: Path) -> None:
    """The service's desks write through ``IngestWatch``, which forwards every other method
    with ``__getattr__``: the store's optional capabilities (PostgreSQL's claims for the
    sweep in every worker, its one-statement look-up, the report's digests) stay visible."""
    from zhenshen_server.created import IngestWatch

    from zhenshen_core.storage import MemoryStore, SQLiteStore
    from zhenshen_core.storage.digest import projects_digests
    from zhenshen_core.storage.protocol import claims_due_clocks, finds_received

    class Claiming(MemoryStore):
        def claim_due_clocks(self, now: Any, *, node: str, limit: int = 1000,
                             lease: Any = None) -> list[Any]:
            return []

        def release_claims(self, node: str) -> int:
            return 0

        def find_received(self, refs: Any, case_id: str) -> Any:
            return None

    sqlite = SQLiteStore(str(tmp_path / "w.db"))
    assert claims_due_clocks(IngestWatch(Claiming())) and finds_received(IngestWatch(Claiming()))
    assert projects_digests(IngestWatch(sqlite)) and not projects_digests(IngestWatch(Claiming()))
    assert not claims_due_clocks(IngestWatch(MemoryStore()))
    sqlite.close()
