"""What a notifier sends leaves the desk: it receives personal data masked unless it says it
needs it (``Notifier(personal_data=True)``, an SMS gateway texting the requester)."""

from __future__ import annotations

from typing import Any

from zhenshen_core.desk import Desk
from zhenshen_core.plugins import Notification, Notifier, PluginConfig, PluginHost, hookimpl
from zhenshen_core.storage import MemoryStore

ORDER: dict[str, Any] = {
    "external_id": "GX20260302-000009",
    "channel": "hotline_12345",
    "received_at": "2026-03-02T09:30:00+08:00",
    "title": "王芳反映审批慢",
    "content": "王芳来电，电话13912345678，身份证号码11010519491231002X。",
    "requester": {"name": "王芳", "phone": "13912345678"},
}


class Notifiers:
    def __init__(self) -> None:
        self.masked: list[Notification] = []
        self.raw: list[Notification] = []

    @hookimpl
    def zhenshen_notifiers(self) -> list[Notifier]:
        def broken(n: Notification) -> None:
            raise ConnectionError(f"gateway refused {n.case.requester.phone}")  # type: ignore[union-attr]

        return [
            Notifier("mail", "weekly digest to departments", self.masked.append),
            Notifier("sms", "texts the requester", self.raw.append, personal_data=True),
            Notifier("broken-sms", "a gateway that fails", broken, personal_data=True),
        ]


def test_notifiers_receive_masked_cases_unless_they_need_personal_data() -> None:
    host = PluginHost(PluginConfig(autoload=False))
    notifiers = Notifiers()
    host.register(notifiers, name="notifiers")
    desk = Desk(MemoryStore(), host=host)
    desk.receive(ORDER)
    assert notifiers.masked and notifiers.raw
    for sent in notifiers.masked:
        assert sent.case.requester is not None
        assert sent.case.requester.phone == "139****5678" and sent.case.requester.name == "王*"
        assert sent.case.content == "王*来电，电话139****5678，身份证号码110***********002X。"
        assert "王芳" not in sent.case.title
    assert notifiers.raw[0].case.content == ORDER["content"]
    # a failure's message is printed by the CLI: it never repeats the number it failed on
    failures = [f for f in desk.failures if f.plugin.endswith("broken-sms")]
    assert failures and all("13912345678" not in f.error for f in failures)
    assert "139****5678" in failures[0].error
