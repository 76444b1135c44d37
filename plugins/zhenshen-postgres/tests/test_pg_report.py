"""The report's case digests, projected by jsonb operators, equal digesting each case."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest
from zhenshen_pg_testkit import ENV, SKIP_REASON
from zhenshen_postgres import PostgresStore

from zhenshen_core.desk import Desk
from zhenshen_core.desk.report import build_report
from zhenshen_core.model.case import SHANGHAI
from zhenshen_core.rules import load_pack
from zhenshen_core.storage import MemoryStore
from zhenshen_core.storage.digest import digest_of

if not os.environ.get(ENV):
    pytest.skip(SKIP_REASON, allow_module_level=True)

PACK = Path(__file__).resolve().parents[2] / (
    "zhenshen-chengdu-gaoxin/src/zhenshen_chengdu_gaoxin/pack"
)
TAG = "联合甄审"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def _populate(desk: Desk) -> None:
    for n, domain in enumerate(["tax_service", "social_security", "tax_service"], start=1):
        case = desk.receive(
            {
                "external_id": f"PG-{n}",
                "channel": "hotline_12345",
                "received_at": "2020-03-02T09:00:00+08:00",
                "title": f"诉求{n}",
                "content": "咨询办理流程",
                "domain": domain,
                "requester": {"name": "张先生"},
            }
        )
        desk.route(case.id, at=at("2020-03-02T10:00"))
        if n == 1:
            desk.complete_routed(case.id, at=at("2020-03-03T10:00"))
            desk.record_feedback(case.id, "satisfied", at=at("2020-03-04T10:00"))
            desk.close_case(case.id, at=at("2020-03-04T11:00"))
        if n == 3:
            desk.return_case(case.id, "gxq.swj", reason="不属本部门", at=at("2020-03-03T09:00"))


def test_digests_and_report_equal_the_reference(pg_store: PostgresStore) -> None:
    pack = load_pack(PACK)
    _populate(Desk(pg_store, pack=pack, now=lambda: at("2020-03-02T09:00")))
    reference = [
        digest_of(
            case,
            tag=TAG,
            closed_at=max(
                (e.at for e in pg_store.events(case.id) if e.type == "close"), default=None
            ),
        )
        for case in pg_store.query()
    ]
    assert list(pg_store.case_digests(TAG)) == reference
    assert pg_store.latest_event_at() == at("2020-03-04T11:00")
    memory = MemoryStore()
    _populate(Desk(memory, pack=pack, now=lambda: at("2020-03-02T09:00")))
    as_of = at("2020-04-01T12:00")
    assert build_report(pg_store, as_of).as_dict() == build_report(memory, as_of).as_dict()
