"""Cross-case rules: repeated requests raise severity, two returns escalate, similar cases
produce a 举一反三 proposal with a suggested rule and test."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from zhenshen_core.desk import Desk
from zhenshen_core.desk.monitor import CrossCaseMonitor, CrossCaseSpec, CrossCaseThen
from zhenshen_core.model.case import SHANGHAI
from zhenshen_core.model.enums import CaseStatus
from zhenshen_core.rules import ResolvedPack, parse_expression
from zhenshen_core.storage import MemoryStore
from zhenshen_core.testing.storage_contract import make_case

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)

REPEAT = CrossCaseSpec(
    "crosscase.repeat",
    "receive",
    ("enterprise.uscc",),
    3,
    30,
    CrossCaseThen(facts={"repeat_requests_30d": 3}),
)
RETURNS = CrossCaseSpec(
    "crosscase.returns",
    "return",
    ("case_id",),
    2,
    30,
    CrossCaseThen(escalate=True),
    description="两次退单升级联合甄审",
)
SIMILAR = CrossCaseSpec(
    "crosscase.similar",
    "receive",
    ("domain",),
    3,
    90,
    CrossCaseThen(generalise=True),
    when=parse_expression('tags contains "联合甄审"'),
)


def test_monitor_counts_within_the_window_and_never_storms() -> None:
    monitor = CrossCaseMonitor([REPEAT])
    hits = []
    for i, days in enumerate([0, 5, 10, 12, 50, 51, 52]):
        case = make_case(
            i,
            received_at=T0 + timedelta(days=days),
            enterprise={"name": "成都某公司", "uscc": "91510100MA68NDJH6X"},
        )
        hits += monitor.observe(case, "receive")
    # cases 0,1,2 complete one pattern; 3 alone does not re-fire; 4,5,6 are a new window
    assert [len(h.case_ids) for h in hits] == [3, 3]
    assert all(h.rule.id == "crosscase.repeat" for h in hits)
    monitor.close()


def _pack_with(pack: ResolvedPack, *specs: CrossCaseSpec) -> Any:
    class WithCrossCase:
        def __getattr__(self, name: str) -> Any:
            return getattr(pack, name)

        crosscase = specs

    return WithCrossCase()


def test_desk_escalates_after_two_returns(
    reference_pack: ResolvedPack, work_order: dict[str, Any]
) -> None:
    desk = Desk(MemoryStore(), pack=_pack_with(reference_pack, RETURNS), now=lambda: T0)
    order = dict(
        work_order, domain="tax_service", content="发票咨询", appeal_type="consult", facts={}
    )
    case = desk.receive(order)
    case = desk.route(case.id, at=T0)
    case = desk.return_case(case.id, "gxq.swj", reason="非本部门职责", at=T0 + timedelta(hours=1))
    assert case.status is CaseStatus.ROUTED
    case = desk.return_case(case.id, "gxq.rsj", reason="非本部门职责", at=T0 + timedelta(days=1))
    assert case.status is CaseStatus.SCREENING
    assert [e.type for e in desk.history(case.id)][-1] in ("escalate", "clock_update")


def test_desk_proposes_a_generalisation(
    tmp_path: Path, reference_pack: ResolvedPack, work_order: dict[str, Any]
) -> None:
    clock = {"now": T0}
    desk = Desk(MemoryStore(), pack=_pack_with(reference_pack, SIMILAR), now=lambda: clock["now"])
    for i in range(3):
        clock["now"] = T0 + timedelta(days=7 * i)
        desk.receive(dict(work_order, external_id=f"GX-{i}", received_at=clock["now"].isoformat()))
    records = desk.store.records("generalisation")
    assert len(records) == 1
    data = records[0].data
    assert len(data["case_ids"]) == 3 and data["key"] == ["market_entry_operation"]
    yaml = YAML(typ="safe")
    rule = yaml.load(data["suggested_rule"])[0]
    assert rule["when"] == 'domain == "market_entry_operation"'
    test = yaml.load(data["suggested_test"])[0]
    assert test["case"]["domain"] == "market_entry_operation"
    assert test["fired"] == [rule["id"]]


def test_repeated_requests_set_a_fact_and_regrade(
    reference_pack: ResolvedPack, work_order: dict[str, Any]
) -> None:
    clock = {"now": T0}
    desk = Desk(MemoryStore(), pack=_pack_with(reference_pack, REPEAT), now=lambda: clock["now"])
    case = None
    for i in range(3):
        clock["now"] = T0 + timedelta(days=i)
        case = desk.receive(
            dict(
                work_order,
                external_id=f"R-{i}",
                domain="tax_service",
                content="咨询",
                facts={},
                received_at=clock["now"].isoformat(),
            )
        )
    assert case is not None
    assert case.facts["repeat_requests_30d"] == 3
    assert case.facts["crosscase.crosscase.repeat"] == 3
    assert [e.actor for e in desk.history(case.id)].count("crosscase") >= 2


def test_warm_up_rebuilds_windows_after_restart(
    reference_pack: ResolvedPack, work_order: dict[str, Any]
) -> None:
    store = MemoryStore()
    clock = {"now": T0}
    first = Desk(store, pack=_pack_with(reference_pack, SIMILAR), now=lambda: clock["now"])
    for i in range(2):
        first.receive(dict(work_order, external_id=f"W-{i}"))
    second = Desk(store, pack=_pack_with(reference_pack, SIMILAR), now=lambda: clock["now"])
    second.receive(dict(work_order, external_id="W-2"))
    assert len(store.records("generalisation")) == 1


PACK_YAML = """schema: 1
id: test.crosscase
version: "1"
severity_levels: [S1, S2, S3]
domains: [{id: tax_service, name: 税务}]
"""

RULES_YAML = """rules:
  - id: severity.repeat
    when: facts.repeat_requests_30d >= 3
    then: {severity: {at_least: S2}}
crosscase:
  - id: crosscase.repeat-enterprise
    description: 同一企业30日内第三次诉求
    key: enterprise.uscc
    count: 3
    window: 30 days
    then: {facts: {repeat_requests_30d: 3}}
  - id: crosscase.similar
    event: receive
    when: tags contains "联合甄审"
    key: [domain]
    count: 3
    window: 90 days
    then: {generalise: true}
"""


def _write_pack(tmp_path: Path, rules: str) -> Path:
    folder = tmp_path / "pack"
    folder.mkdir()
    (folder / "pack.yaml").write_text(PACK_YAML, encoding="utf-8")
    (folder / "rules.yaml").write_text(rules, encoding="utf-8")
    return folder


def test_pack_declares_cross_case_rules(tmp_path: Path) -> None:
    from zhenshen_core.rules import load_pack

    pack = load_pack(_write_pack(tmp_path, RULES_YAML))
    specs = {s.id: s for s in pack.crosscase}
    assert specs["crosscase.repeat-enterprise"].key == ("enterprise.uscc",)
    assert specs["crosscase.repeat-enterprise"].window_days == 30
    similar = specs["crosscase.similar"]
    assert similar.when is not None and similar.then.generalise and similar.event == "receive"


def test_cross_case_errors_are_located(tmp_path: Path) -> None:
    import pytest

    from zhenshen_core.rules import PackError, load_pack

    bad = RULES_YAML.replace("key: enterprise.uscc", "key: enterprise.usc").replace(
        "window: 90 days", "window: 3 months")
    with pytest.raises(PackError) as info:
        load_pack(_write_pack(tmp_path, bad))
    text = "\n".join(str(d) for d in info.value.diagnostics)
    assert "rules.yaml:8:10: R101" in text and "enterprise.uscc" in text  # with a suggestion
    assert "rules.yaml:17:13: R106" in text and "calendar days" in text
