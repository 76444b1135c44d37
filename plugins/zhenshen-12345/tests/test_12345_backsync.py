"""Back-sync: the desk's lifecycle events become the platform's status documents (签收, 受理,
退单, 延期申请, 办结, 回访), each written to the folder once per notice."""

from __future__ import annotations

import json
import threading
from datetime import datetime
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from zhenshen_12345.backsync import ACTIONS, SCHEMA, action_of, status_document
from zhenshen_12345.folder import StatusFolder, file_name

from zhenshen_core.desk import Desk
from zhenshen_core.model.case import SHANGHAI, Case
from zhenshen_core.plugins import Notification, Notifier, PluginConfig, PluginHost, hookimpl
from zhenshen_core.storage import MemoryStore

ORDER = {
    "external_id": "GD2026030400001",
    "channel": "hotline_12345",
    "received_at": "2026-03-02T09:30:00+08:00",
    "title": "已取得执照但无法经营",
    "requester": {"name": "王先生", "phone": "13800001234"},
}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


class Collect:
    def __init__(self) -> None:
        self.seen: list[Notification] = []

    @hookimpl
    def zhenshen_notifiers(self) -> list[Notifier]:
        return [Notifier("collect", "keeps what it hears", self.seen.append)]


def desk_with(collect: Collect) -> Desk:
    host = PluginHost(PluginConfig(autoload=False))
    host.register(collect, name="collect")
    return Desk(MemoryStore(), host=host, now=lambda: at("2026-03-02T10:00"))


def documents(collect: Collect) -> list[dict[str, object]]:
    found = [status_document(n, desk="gaoxin") for n in collect.seen]
    return [d for d in found if d is not None]


def test_an_ordinary_work_order_signed_returned_handled_revisited() -> None:
    collect = Collect()
    desk = desk_with(collect)
    case = desk.receive(ORDER)
    desk.route(case.id, reason="single department")
    desk.return_case(case.id, "gxq.scjgj", reason="不属于本部门职责", at=at("2026-03-03T09:00"))
    desk.complete_routed(case.id, at=at("2026-03-05T09:00"))
    desk.record_feedback(case.id, "satisfied", comment="办得快", at=at("2026-03-06T09:00"))
    desk.close_case(case.id, at=at("2026-03-06T10:00"))
    docs = documents(collect)
    assert [d["action"] for d in docs] == ["sign", "return", "complete", "revisit", "complete"]
    assert [d["action_label"] for d in docs] == ["签收", "退单", "办结", "回访", "办结"]
    sign, returned, _, revisit, closed = docs
    assert sign["work_order"] == "GD2026030400001" and sign["schema"] == SCHEMA
    assert sign["at"] == "2026-03-02T09:30:00+08:00"
    assert returned["reason"] == "不属于本部门职责"
    assert returned["from_department"] == "gxq.scjgj"
    assert returned["at"] == "2026-03-03T09:00:00+08:00"
    assert revisit["satisfaction"] == "satisfied" and revisit["satisfaction_label"] == "满意"
    assert revisit["comment"] == "办得快"
    assert closed["status"] == "closed"
    # Never the requester's identity: the platform has it.
    text = json.dumps(docs, ensure_ascii=False)
    assert "王先生" not in text and "13800001234" not in text


def test_accept_and_reject_and_the_reason_from_the_notice() -> None:
    collect = Collect()
    desk = desk_with(collect)
    case = desk.receive(ORDER)
    desk.screen(case.id)
    other = desk.receive({**ORDER, "external_id": "GD2"})
    desk.reject(other.id, "已进入诉讼程序")
    docs = documents(collect)
    assert [d["action"] for d in docs] == ["sign", "accept", "sign", "return"]
    # The desk's notice carries the event's payload and time (a reject's reason is on no
    # field of the case).
    assert docs[-1]["reason"] == "已进入诉讼程序"
    assert docs[-1]["at"] == "2026-03-02T10:00:00+08:00"
    rejected = next(n for n in collect.seen if n.event_type == "reject")
    # The same from a notice built by hand, as a later delivery from the outbox gives it.
    notice = Notification(
        rejected.kind,
        rejected.case,
        "reject",
        {"at": "2026-03-02T11:00:00+08:00", "payload": {"reason": "已进入诉讼程序"}},
        key="ZS1:3:case_transitioned:12345-backsync",
    )
    document = status_document(notice, desk="gaoxin")
    assert document is not None
    assert (document["reason"], document["at"]) == ("已进入诉讼程序", "2026-03-02T11:00:00+08:00")
    assert document["key"] == "ZS1:3:case_transitioned:12345-backsync"


def test_an_extension_is_a_request_for_more_time_with_period_and_reason() -> None:
    from zhenshen_core.model.clock import Clock

    clock = Clock(
        name="handling",
        period="5 working days",
        started_at=at("2026-03-02T09:30"),
        due_at=at("2026-03-09T00:00"),
    )
    # A deadline_changed notice for an approved extension, as the desk sends it.
    extended = Case.model_validate(
        {
            **ORDER,
            "clocks": {
                "handling": {
                    **clock.model_dump(mode="json"),
                    "extensions": [
                        {
                            "period": "5 working days",
                            "approver": "主任",
                            "reason": "需现场核查",
                            "at": "2026-03-05T09:00:00+08:00",
                        }
                    ],
                }
            },
        }
    )
    notice = Notification(
        "deadline_changed",
        extended,
        "clock_update",
        {
            "clock": "handling",
            "previous_due": "2026-03-09T00:00:00+08:00",
            "due": "2026-03-16T00:00:00+08:00",
            "reason": "extension",
        },
    )
    document = status_document(notice, desk="gaoxin")
    assert document is not None
    assert document["action_label"] == "延期申请"
    assert (document["period"], document["reason"], document["approver"]) == (
        "5 working days",
        "需现场核查",
        "主任",
    )
    assert document["due"] == "2026-03-16T00:00:00+08:00"
    assert document["at"] == "2026-03-05T09:00:00+08:00"
    # Another reason to move a deadline (a new calendar) is not the platform's business.
    other = Notification("deadline_changed", extended, "clock_update", {"reason": "calendar"})
    assert status_document(other, desk="gaoxin") is None


def test_a_case_from_no_work_order_and_untracked_events_give_no_document() -> None:
    case = Case.model_validate({**ORDER, "external_id": None, "title": "来访"})
    assert status_document(Notification("case_received", case, "receive"), desk="d") is None
    order = Case.model_validate(ORDER)
    for kind, event in [
        ("decision_made", "decide"),
        ("clock_alert", None),
        ("case_transitioned", "schedule_meeting"),
    ]:
        assert status_document(Notification(kind, order, event), desk="d") is None


@given(
    kind=st.sampled_from(["case_received", "case_transitioned", "deadline_changed", "x"]),
    event=st.sampled_from(
        [
            "accept",
            "reject",
            "return_case",
            "close",
            "record_feedback",
            "complete",
            "decide",
            "note",
            None,
        ]
    ),
    key=st.text(max_size=40),
)
def test_the_document_is_a_pure_function_of_the_notice(
    kind: str, event: str | None, key: str
) -> None:
    case = Case.model_validate(ORDER)
    notice = Notification(kind, case, event, {"reason": "extension"}, key=key)
    first = status_document(notice, desk="d")
    assert first == status_document(notice, desk="d")
    action = action_of(notice)
    assert (first is None) == (action is None)
    if first is not None:
        assert first["action_label"] == ACTIONS[str(action)] and first["key"] == key
        json.dumps(first)  # JSON as it is
        name = file_name(first)
        assert "/" not in name and name.endswith(".json") and not name.startswith(".")
        assert len(name.encode()) < 255


@given(st.lists(st.text(min_size=1, max_size=200), min_size=2, max_size=2, unique=True))
def test_two_keys_never_share_a_file(keys: list[str]) -> None:
    first, second = ({"key": key} for key in keys)
    assert file_name(first) != file_name(second)


def test_the_folder_holds_each_notice_once_however_often_it_is_delivered(
    tmp_path: Path,
) -> None:
    folder = StatusFolder(tmp_path / "outbox", desk="gaoxin")
    case = Case.model_validate(ORDER)
    notice = Notification("case_received", case, "receive", key="ZS1:1:case_received:12345")
    errors: list[BaseException] = []

    def deliver() -> None:
        try:
            folder.send(notice)
        except BaseException as exc:  # a thread's failure must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    folder.send(notice)  # a later redelivery from the outbox
    files = sorted(p.name for p in (tmp_path / "outbox").iterdir())
    assert len(files) == 1 and files[0].startswith("ZS1_1_case_received_12345-")  # no temp file
    written = json.loads((tmp_path / "outbox" / files[0]).read_text())
    assert written["action"] == "sign" and written["key"] == "ZS1:1:case_received:12345"
    # A notice the platform does not track writes nothing.
    folder.send(Notification("decision_made", case, "decide", key="k2"))
    assert len(list((tmp_path / "outbox").iterdir())) == 1
