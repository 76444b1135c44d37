"""The desk report: names not codes, no empty tables, proposals with their cases, a 督办 view per
department, a stated and reproducible "as of" instant, and counting without loading cases."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from zhenshen_core.cli.main import build_cli
from zhenshen_core.desk import Desk
from zhenshen_core.desk.report import ReportLabels, build_report, render_html, render_text
from zhenshen_core.model.case import SHANGHAI
from zhenshen_core.rules import ResolvedPack, load_pack
from zhenshen_core.storage import MemoryStore, SQLiteStore
from zhenshen_core.storage.digest import case_digests, digest_of, projects_digests
from zhenshen_core.storage.protocol import Record

ROOT = Path(__file__).resolve().parents[3]
REFERENCE_PACK = ROOT / "plugins/zhenshen-chengdu-gaoxin/src/zhenshen_chengdu_gaoxin/pack"
TAG = "联合甄审"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def order(n: int, domain: str, appeal: str = "help", day: str = "2020-03-02") -> dict[str, Any]:
    return {
        "external_id": f"GX{day.replace('-', '')}-{n:06d}",
        "channel": "hotline_12345",
        "received_at": f"{day}T09:00:00+08:00",
        "appeal_type": appeal,
        "title": f"诉求{n}",
        "content": "咨询办理流程",
        "domain": domain,
        "enterprise": {"name": f"成都示例{n}有限公司"},
        "requester": {"name": "张先生", "phone": "13800000000"},
    }


@pytest.fixture(scope="module")
def pack() -> ResolvedPack:
    return load_pack(REFERENCE_PACK)


def _desk(store: Any, pack: ResolvedPack) -> Desk:
    return Desk(store, pack=pack, now=lambda: at("2020-03-02T09:00"))


def populate(desk: Desk) -> dict[str, str]:
    """Five ordinary cases with a known history (税务局 leads tax_service, 人力资源和社会保障局
    social_security; an S1 help request is due in 10 working days, a consult in 3)."""
    ids: dict[str, str] = {}

    def handled(name: str, data: dict[str, Any], done: str, rating: str, closed: str) -> None:
        case = desk.receive(data)
        ids[name] = case.id
        desk.route(case.id, at=at("2020-03-02T10:00"))
        desk.complete_routed(case.id, at=at(done))
        desk.record_feedback(case.id, rating, at=at(closed))
        desk.close_case(case.id, at=at(closed))

    # on time: consult due 3-05, done 3-03; rated very satisfied and closed 3-04
    handled("on_time", order(1, "tax_service", "consult"), "2020-03-03T15:00",
            "very_satisfied", "2020-03-04T10:00")
    # late: help due 3-16 (10 working days), done 3-20; closed in April, basically satisfied
    handled("late", order(2, "tax_service"), "2020-03-20T15:00",
            "basically_satisfied", "2020-04-01T10:00")
    # handed back (退单) by 税务局 on 3-03 and still open: the rules keep 税务局 leading
    case = desk.receive(order(3, "tax_service"))
    ids["returned"] = case.id
    desk.route(case.id, at=at("2020-03-02T10:00"))
    desk.return_case(case.id, "gxq.swj", to_department="gxq.rsj", reason="不属本部门职责",
                     at=at("2020-03-03T10:00"))
    # overdue: a social-security request routed and never finished (due 3-16 24:00)
    case = desk.receive(order(4, "social_security"))
    ids["overdue"] = case.id
    desk.route(case.id, at=at("2020-03-02T10:00"))
    # received in April, still within its time
    case = desk.receive(order(5, "social_security", day="2020-04-20"))
    ids["fresh"] = case.id
    desk.route(case.id, at=at("2020-04-20T10:00"))
    return ids


@pytest.fixture
def store(tmp_path: Path, pack: ResolvedPack) -> SQLiteStore:
    store = SQLiteStore(str(tmp_path / "r.db"))
    populate(_desk(store, pack))
    return store


AS_OF = at("2020-04-22T12:00")


def test_text_and_html_show_names_where_the_pack_has_them(
    store: SQLiteStore, pack: ResolvedPack
) -> None:
    report = build_report(store, AS_OF, labels=ReportLabels.from_pack(pack))
    text, html = render_text(report), render_html(report)
    for shown in (text, html):
        assert "税务服务" in shown and "社会保障" in shown and "一般性问题" in shown
        assert "税务局" in shown and "人力资源和社会保障局" in shown
        for code in ("social_security", "tax_service", "general", "routed", "gxq.swj"):
            assert code not in shown, code
    assert "已转常规办理" in text and "办结" in text  # status and clock labels
    data = report.as_dict()  # the JSON form keeps the codes, with their labels beside them
    assert data["by_domain"]["tax_service"] == 3
    assert data["labels"]["domains"]["tax_service"] == "税务服务"
    assert data["labels"]["statuses"]["routed"] == "已转常规办理"
    assert data["labels"]["tiers"]["general"] == "一般性问题"
    assert data["labels"]["clocks"]["resolve"] == "办结"


def test_department_view_counts_led_on_time_overdue_returns_and_rates(store: SQLiteStore) -> None:
    data = build_report(store, AS_OF).as_dict()
    depts = {d["id"]: d for d in data["departments"]}
    tax, social = depts["gxq.swj"], depts["gxq.rsj"]
    # 税务局 leads the on-time, late and (still) the returned case
    assert (tax["led"], tax["closed"], tax["on_time"], tax["late"]) == (3, 2, 1, 1)
    assert (tax["returned"], tax["handled"], tax["return_rate"]) == (1, 3, 1 / 3)
    assert tax["on_time_rate"] == 0.5
    assert (tax["rated"], tax["satisfied"], tax["satisfied_rate"]) == (2, 2, 1.0)
    # the returned case is still open and past its due day: overdue too
    assert tax["overdue"] == 1
    assert (social["led"], social["overdue"], social["closed"], social["on_time_rate"]) == (
        2, 1, 0, None,
    )
    # the monthly trend: received, closed and rated in the month each happened
    assert tax["months"]["2020-03"]["led"] == 3
    assert (tax["months"]["2020-03"]["closed"], tax["months"]["2020-04"]["closed"]) == (1, 1)
    assert tax["months"]["2020-04"]["late"] == 1
    assert tax["months"]["2020-03"]["returned"] == 1
    assert data["months"]["2020-04"]["led"] == 1
    assert data["departments"][0]["id"] == "gxq.swj"  # most cases led first


def test_overdue_cases_are_listed_with_department_and_days_overdue(store: SQLiteStore) -> None:
    report = build_report(store, AS_OF, labels=ReportLabels(departments={"gxq.rsj": "人社局"}))
    overdue = {o.external_id: o for o in report.overdue}
    social = overdue["GX20200302-000004"]
    # due at 24:00 of 2020-03-16; as of 2020-04-22 12:00 that is 37 days begun
    assert social.due_at == at("2020-03-17T00:00") and social.days_overdue == 37
    assert social.department == "gxq.rsj" and social.clock == "resolve"
    assert "GX20200420-000005" not in overdue  # within its time
    text = render_text(report)
    line = next(x for x in text.splitlines() if "GX20200302-000004" in x)
    assert "人社局" in line and " 37 " in line


def test_empty_sections_say_none_instead_of_an_empty_table(tmp_path: Path) -> None:
    empty = build_report(MemoryStore(), AS_OF)
    text, html = render_text(empty), render_html(empty)
    assert "overdue now: none" in text and "举一反三 proposals: none" in text
    assert "no cases in the store" in text
    assert "<th>工单编号</th>" not in html and "超期未办结 Overdue (0)</h2><p>无 none" in html
    assert "<table>" not in html


def test_proposals_show_their_cases_not_internal_ids(store: SQLiteStore) -> None:
    cases = [c for c in store.query()][:2]
    store.put_record(
        Record(
            kind="generalisation",
            id="G-crosscase.similar-problems-20200302-" + cases[0].id,
            data={"summary": "税务服务：2020-03-02至2020-03-02共2件同类问题",
                  "case_ids": [c.id for c in cases], "suggested_rule": "- id: x"},
        )
    )
    report = build_report(store, AS_OF)
    text, html = render_text(report), render_html(report)
    for shown in (text, html):
        assert "共2件同类问题" in shown
        assert "G-crosscase" not in shown and cases[0].id not in shown
        for case in cases:
            assert case.external_id is not None and case.external_id in shown
            assert case.title in shown
    [proposal] = report.as_dict()["generalisations"]
    assert [c["external_id"] for c in proposal["cases"]] == [c.external_id for c in cases]


def test_sqlite_digests_equal_the_reference_and_no_case_is_loaded(
    store: SQLiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fast path projects in SQL exactly what digesting each case gives."""
    reference = [
        digest_of(
            c,
            tag=TAG,
            closed_at=max((e.at for e in store.events(c.id) if e.type == "close"), default=None),
        )
        for c in store.query()
    ]
    assert list(store.case_digests(TAG)) == reference

    def no_loading(*_: object, **__: object) -> None:
        raise AssertionError("the report loaded whole cases")

    monkeypatch.setattr(SQLiteStore, "query", no_loading)
    monkeypatch.setattr(SQLiteStore, "get", no_loading)
    assert build_report(store, AS_OF).total == 5
    assert list(case_digests(store, tag=TAG)) == reference


def test_every_store_gives_the_same_report(store: SQLiteStore, pack: ResolvedPack) -> None:
    """The memory store has no fast path: its cases are read and digested one by one."""
    memory = MemoryStore()
    populate(_desk(memory, pack))
    assert not projects_digests(memory) and projects_digests(store)
    assert build_report(memory, AS_OF).as_dict() == build_report(store, AS_OF).as_dict()


def _cli(*args: str) -> Any:
    return CliRunner().invoke(build_cli(), list(args))


def test_cli_report_as_of_defaults_to_the_data_and_says_so(
    store: SQLiteStore, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    store.close()
    first = _cli("report", "--store", url, "--pack", str(REFERENCE_PACK), "-o",
                 str(tmp_path / "a.txt"))
    second = _cli("report", "--store", url, "--pack", str(REFERENCE_PACK), "-o",
                  str(tmp_path / "b.txt"))
    assert first.exit_code == 0 and second.exit_code == 0, first.output
    a, b = (tmp_path / "a.txt").read_text(), (tmp_path / "b.txt").read_text()
    assert a == b  # the same data, the same report, whenever it is run
    # the newest event: the April case was routed at 2020-04-20 10:00
    assert "as of 2020-04-20 10:00 (the newest event in the store)" in a
    assert "2020-04-20T10:00:00+08:00" in first.stderr
    as_json = _cli("report", "--store", url, "--pack", str(REFERENCE_PACK), "--format", "json")
    data = json.loads(as_json.stdout)
    assert (data["as_of"], data["as_of_source"]) == ("2020-04-20T10:00:00+08:00", "data")
    now = _cli("report", "--store", url, "--pack", str(REFERENCE_PACK), "--as-of", "now")
    assert "(the time the report was made)" in now.stdout
    given = _cli("report", "--store", url, "--pack", str(REFERENCE_PACK), "--as-of",
                 "2020-04-22T12:00", "--format", "html")
    assert "截至 2020-04-22 12:00（指定时间" in given.stdout
    old = _cli("report", "--store", url, "--pack", str(REFERENCE_PACK), "--now", "2020-04-22")
    assert old.exit_code == 0 and "as of 2020-04-22 00:00 (the instant asked for)" in old.stdout
    bad = _cli("report", "--store", url, "--as-of", "yesterday")
    assert bad.exit_code == 2 and "--as-of" in bad.stderr


def test_sqlite_digest_column_is_backfilled_by_the_migration_and_kept_by_writes(
    store: SQLiteStore, tmp_path: Path
) -> None:
    """Migration 2 fills the digest of cases stored before it (in SQL, from the document and
    the history), and a row without a digest is digested in SQL on the fly: both equal what
    the store writes itself."""
    import sqlite3

    from zhenshen_core.storage.sqlite import SCHEMA_VERSION

    written = list(store.case_digests(TAG))
    store.close()
    raw = sqlite3.connect(tmp_path / "r.db")
    raw.execute("UPDATE cases SET digest = NULL WHERE rowid % 2 = 0")
    raw.commit()
    assert list(SQLiteStore(str(tmp_path / "r.db")).case_digests(TAG)) == written
    # back to a version-1 file: no digest column at all
    raw.execute("ALTER TABLE cases DROP COLUMN digest")
    raw.execute("DELETE FROM schema_migrations WHERE version = 2")
    raw.commit()
    raw.close()
    migrated = SQLiteStore(str(tmp_path / "r.db"))
    assert migrated.schema_version() == SCHEMA_VERSION
    assert list(migrated.case_digests(TAG)) == written
