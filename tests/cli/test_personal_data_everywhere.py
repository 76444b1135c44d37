"""Personal data masked in every output: the sweep the issue asks for, and each reported leak.

Cases whose text carries every kind of personal number (mobile, landline, ID number with a valid
check character, a Luhn-valid bank card, an e-mail address, the requester's name, an address)
are ingested into a real SQLite store, driven to an issued opinion, and every command that
reads them is run: its stdout, stderr and written files must hold none of the raw values. With
``--show-personal-data`` the same commands show them (so the checks can fail) and the store's
access log names each read.
"""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from zhenshen_core.cli.main import build_cli
from zhenshen_core.desk import Desk
from zhenshen_core.model.case import SHANGHAI
from zhenshen_core.rules import load_pack
from zhenshen_core.storage import SQLiteStore

ROOT = Path(__file__).resolve().parents[2]
REFERENCE_PACK = ROOT / "plugins/zhenshen-chengdu-gaoxin/src/zhenshen_chengdu_gaoxin/pack"

MOBILE = "13912345678"
LANDLINE = "028-85123456"
ID_NUMBER = "11010519491231002X"
BANK_CARD = "6222021234567890128"
EMAIL = "zhang.san@example.com"
NAME = "王芳"
ADDRESS_TAIL = "天府大道北段1700号"
SECRET_NAME = "李娜"
SECRET_PHONE = "13712345670"

#: What must never appear in a masked output (a piece of each value that masking hides).
RAW = (
    MOBILE,
    "85123456",
    ID_NUMBER,
    BANK_CARD,
    "zhang.san",
    NAME,
    ADDRESS_TAIL,
    SECRET_NAME,
    SECRET_PHONE,
)

CONTENT = (
    f"市民{NAME}来电反映：已取得营业执照但至今无法经营，已停产。联系电话{MOBILE}，"
    f"办公室{LANDLINE}，身份证号码{ID_NUMBER}，退款请打入银行卡{BANK_CARD}，"
    f"邮箱{EMAIL}。{NAME}要求尽快回复。"
)
ORDER: dict[str, Any] = {
    "external_id": "GX20260210-000123",
    "channel": "hotline_12345",
    "received_at": "2026-02-10T09:30:00+08:00",
    "appeal_type": "complaint",
    "title": f"{NAME}（{MOBILE}）反映无法经营",
    "content": CONTENT,
    "domain": "market_entry_operation",
    "enterprise": {"name": "成都示例智造科技有限公司", "uscc": "91510100MA68NDJH6X"},
    "requester": {"name": NAME, "phone": MOBILE},
    "location": {"district": "成都高新区", "address": f"成都市高新区{ADDRESS_TAIL}"},
    "facts": {"prior_contacts": 1, "callback": f"请回电{MOBILE}或{LANDLINE}", "id_card": ID_NUMBER},
}
CONFIDENTIAL: dict[str, Any] = {
    **ORDER,
    "external_id": "GX20260210-000124",
    "title": "企业反映无法经营（要求保密）",
    "content": f"{SECRET_NAME}来电，电话{SECRET_PHONE}，已停产无法经营，要求对其身份保密。",
    "requester": {"name": SECRET_NAME, "phone": SECRET_PHONE, "confidential": True},
}
#: A record intake refuses (a phone number where the time belongs): a dead letter.
BROKEN: dict[str, Any] = {**ORDER, "external_id": "GX20260210-000125", "received_at": MOBILE}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


class World:
    """One store with the cases, and a way to run commands against it."""

    def __init__(self, tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.tmp = tmp
        self.url = f"sqlite:///{tmp / 'desk.db'}"
        self.pack = str(REFERENCE_PACK)
        self.monkeypatch = monkeypatch
        self.corpus = tmp / "orders.jsonl"
        self.corpus.write_text(
            "".join(
                json.dumps(o, ensure_ascii=False) + "\n" for o in (ORDER, CONFIDENTIAL, BROKEN)
            ),
            encoding="utf-8",
        )
        self.outputs: list[tuple[str, str]] = []

    def run(self, *args: str) -> Result:
        result = CliRunner().invoke(build_cli(), list(args), catch_exceptions=False)
        self.outputs.append((" ".join(args), result.stdout + result.stderr))
        return result


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    monkeypatch = pytest.MonkeyPatch()
    tmp = tmp_path_factory.mktemp("pii")
    monkeypatch.setenv("ZHENSHEN_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("ZHENSHEN_ACTOR", "auditor-test")
    monkeypatch.delenv("ZHENSHEN_STORE", raising=False)
    monkeypatch.chdir(tmp)
    w = World(tmp, monkeypatch)
    result = w.run("ingest", "jsonl", str(w.corpus), "--store", w.url, "--pack", w.pack)
    assert result.exit_code == 1, result.output  # the broken record is a dead letter
    with SQLiteStore.from_url(w.url) as store:
        desk = Desk(store, pack=load_pack(REFERENCE_PACK), now=lambda: at("2026-02-24T16:00"))
        for case in list(store.query()):
            cid = case.id
            assert case.requester is not None
            who, phone = case.requester.name, case.requester.phone
            desk.screen(cid, at=at("2026-02-10T11:00"))
            desk.schedule_meeting(cid, at("2026-02-13T09:00"), at=at("2026-02-11T10:00"))
            desk.hold_meeting(cid, at("2026-02-13T10:00"), minutes=f"{who}到会，电话{phone}")
            for expert in case.experts:
                if expert.required:
                    desk.record_expert_advice(cid, expert.kind, "意见", at=at("2026-02-13T11:00"))
            desk.issue_opinion(
                cid,
                result="supported",
                reasons=f"经核实，{who}（身份证{ID_NUMBER}，电话{phone}）所述属实。",
                measures=["市场监管局牵头，三个工作日内组织联合踏勘"],
                at=at("2026-02-24T16:00"),
            )
        w.ids = [c.id for c in store.query()]  # type: ignore[attr-defined]
    yield w
    monkeypatch.undo()


def _files(world: World, *names: str) -> str:
    texts = []
    for name in names:
        data = (world.tmp / name).read_bytes()
        if name.endswith(".docx"):
            with zipfile.ZipFile(io.BytesIO(data)) as docx:
                texts.append(
                    "".join(
                        docx.read(n).decode("utf-8") for n in docx.namelist() if n.endswith(".xml")
                    )
                )
        else:
            texts.append(data.decode("utf-8"))
    return "\n".join(texts)


def _assert_masked(where: str, text: str) -> None:
    leaked = [raw for raw in RAW if raw in text]
    assert not leaked, f"{where} shows {leaked}"


COMMANDS: list[Callable[[World], str]] = []


def command(fn: Callable[[World], str]) -> Callable[[World], str]:
    COMMANDS.append(fn)
    return fn


@command
def cases_show(w: World) -> str:
    out = [w.run("cases", "show", i, "--store", w.url) for i in w.ids]
    out += [w.run("cases", "show", i, "--store", w.url, "--format", "json") for i in w.ids]
    assert all(r.exit_code == 0 for r in out)
    return "".join(r.stdout + r.stderr for r in out)


@command
def cases_list(w: World) -> str:
    a = w.run("cases", "list", "--store", w.url)
    b = w.run("cases", "list", "--store", w.url, "--format", "json")
    assert a.exit_code == b.exit_code == 0 and len(json.loads(b.stdout)) == 2
    return a.stdout + a.stderr + b.stdout + b.stderr


@command
def cases_history(w: World) -> str:
    out = [
        w.run("cases", "history", i, "--store", w.url, *f)
        for i in w.ids
        for f in ((), ("--format", "json"))
    ]
    assert all(r.exit_code == 0 for r in out)
    return "".join(r.stdout + r.stderr for r in out)


@command
def eval_explain(w: World) -> str:
    a = w.run("eval", "--pack", w.pack, "--input", str(w.corpus), "--explain")
    b = w.run("eval", "--pack", w.pack, "--input", str(w.corpus), "--format", "json")
    assert a.exit_code == b.exit_code == 1  # the broken record, reported on stderr
    return a.stdout + a.stderr + b.stdout + b.stderr


@command
def report(w: World) -> str:
    text = ""
    for fmt in ("text", "json", "html"):
        r = w.run(
            "report", "--store", w.url, "--pack", w.pack, "--format", fmt, "-o", f"report.{fmt}"
        )
        assert r.exit_code == 0, r.output
        r2 = w.run("report", "--store", w.url, "--pack", w.pack, "--format", fmt)
        text += r.stdout + r.stderr + r2.stdout + r2.stderr
    return text + _files(w, "report.text", "report.json", "report.html")


@command
def letters(w: World) -> str:
    text = ""
    for i, case_id in enumerate(w.ids):
        for renderer, ext in (("markdown", "md"), ("html", "html"), ("docx", "docx")):
            name = f"letter{i}.{ext}"
            r = w.run(
                "-p",
                "zhenshen_docx.plugin",
                "letter",
                case_id,
                "--store",
                w.url,
                "--pack",
                w.pack,
                "--renderer",
                renderer,
                "-o",
                name,
            )
            assert r.exit_code == 0, r.output
            text += r.stdout + r.stderr + _files(w, name)
        r = w.run("letter", case_id, "--store", w.url, "--pack", w.pack)
        text += r.stdout + r.stderr
    return text


@command
def diff(w: World) -> str:
    changed = w.tmp / "changed-pack"
    if not changed.exists():
        shutil.copytree(REFERENCE_PACK, changed)
        severity = changed / "severity.yaml"
        severity.write_text(
            severity.read_text(encoding="utf-8")
            .replace("至少为重大疑难", "至少为重大疑难（改）")
            .replace("S3", "S4", 1),
            encoding="utf-8",
        )
    text = ""
    for cases in (str(w.corpus), w.url):
        for fmt in ("text", "json"):
            r = w.run("diff", w.pack, str(changed), "--cases", cases, "--format", fmt)
            text += r.stdout + r.stderr
    return text


@command
def sweep(w: World) -> str:
    a = w.run("sweep", "--store", w.url, "--now", "2026-06-01T09:00", "-v")
    b = w.run("sweep", "--store", w.url, "--now", "2026-07-01T09:00", "--format", "json")
    return a.stdout + a.stderr + b.stdout + b.stderr


@command
def dead_letters_at_intake(w: World) -> str:
    r = w.run("ingest", "jsonl", str(w.corpus), "--store", w.url, "--pack", w.pack)
    j = w.run(
        "ingest", "jsonl", str(w.corpus), "--store", w.url, "--pack", w.pack, "--format", "json"
    )
    assert "rejected" in r.stderr and json.loads(j.stdout)["rejected"] == 1
    with SQLiteStore.from_url(w.url) as store:  # what every display of a dead letter shows
        reasons = [letter.reason for letter in store.dead_letters()]
    assert reasons and "received_at" in reasons[0]
    return r.stdout + r.stderr + j.stdout + j.stderr + "\n".join(reasons)


@command
def ingest_dry_run(w: World) -> str:
    a = w.run("ingest", "jsonl", str(w.corpus), "--dry-run")
    b = w.run("ingest", "jsonl", str(w.corpus), "--dry-run", "--format", "json")
    assert a.exit_code == b.exit_code == 1 and len(json.loads(b.stdout)) == 3
    return a.stdout + a.stderr + b.stdout + b.stderr


@pytest.mark.parametrize("run", COMMANDS, ids=[c.__name__ for c in COMMANDS])
def test_no_command_shows_personal_data(world: World, run: Callable[[World], str]) -> None:
    _assert_masked(run.__name__, run(world))


def test_masked_output_keeps_the_shape_people_know(world: World) -> None:
    result = world.run("cases", "show", world.ids[0], "--store", world.url, "--format", "json")
    case = json.loads(result.stdout)
    if case["requester"].get("confidential"):
        result = world.run("cases", "show", world.ids[1], "--store", world.url, "--format", "json")
        case = json.loads(result.stdout)
    assert case["requester"] == {
        "name": "王*",
        "phone": "139****5678",
        "anonymous": False,
        "confidential": False,
    }
    assert "110***********002X" in case["content"] and "6222 *" not in case["content"]
    assert "028-****3456" in case["content"] and "z********@example.com" in case["content"]
    assert case["location"]["address"] == "成都市高新区" + "*" * len(ADDRESS_TAIL)


def test_history_json_masks_the_case_in_the_receive_payload(world: World) -> None:
    for case_id in world.ids:
        result = world.run("cases", "history", case_id, "--store", world.url, "--format", "json")
        received = json.loads(result.stdout)[0]
        assert received["type"] == "receive"
        assert received["payload"]["case"]["requester"]["phone"] in ("139****5678", "保密")


def test_a_transition_echoes_its_payload_masked(world: World) -> None:
    data = json.dumps({"text": f"来电人补充电话{MOBILE}"}, ensure_ascii=False)
    args = ("cases", "transition", world.ids[0], "note", "--data", data, "--store", world.url)
    result = world.run(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    assert MOBILE not in result.stdout
    assert json.loads(result.stdout)["payload"]["text"] == "来电人补充电话139****5678"


def test_an_error_does_not_repeat_a_number_typed_in_the_wrong_place(world: World) -> None:
    result = world.run("cases", "list", "--store", world.url, "--received-from", MOBILE)
    assert result.exit_code == 2 and "139****5678" in result.stderr
    result = world.run("cases", "show", MOBILE, "--store", world.url)
    assert result.exit_code == 2 and MOBILE not in result.stderr
    data = json.dumps({"reason": f"电话{MOBILE}"}, ensure_ascii=False)[:-1]  # not JSON
    result = world.run(
        "cases", "transition", world.ids[0], "reject", "--data", data, "--store", world.url
    )
    assert result.exit_code == 2 and MOBILE not in result.stderr, result.stderr


def test_a_confidential_requester_is_withheld(world: World) -> None:
    shown = [
        json.loads(world.run("cases", "show", i, "--store", world.url, "--format", "json").stdout)
        for i in world.ids
    ]
    [secret] = [c for c in shown if c["requester"]["confidential"]]
    assert secret["requester"]["name"] == secret["requester"]["phone"] == "保密"
    assert secret["content"].startswith("**来电，电话***********，")


def test_show_personal_data_shows_it_and_logs_the_read(world: World) -> None:
    case_id = world.ids[0]
    before = json.loads(world.run("audit", "list", "--store", world.url, "--format", "json").stdout)
    shown = world.run(
        "cases", "show", case_id, "--store", world.url, "--show-personal-data", "--format", "json"
    )
    history = world.run(
        "cases",
        "history",
        case_id,
        "--store",
        world.url,
        "--show-personal-data",
        "--format",
        "json",
    )
    letter = world.run(
        "letter", case_id, "--store", world.url, "--pack", world.pack, "--show-personal-data"
    )
    assert shown.exit_code == history.exit_code == letter.exit_code == 0
    assert MOBILE in shown.stdout and ID_NUMBER in shown.stdout
    assert MOBILE in history.stdout
    assert ID_NUMBER in letter.stdout
    after = json.loads(
        world.run(
            "audit", "list", "--store", world.url, "--case", case_id, "--format", "json"
        ).stdout
    )
    mine = [r for r in after if r["id"] not in {b["id"] for b in before}]
    assert [(r["action"], r["actor"], r["detail"]["command"]) for r in mine] == [
        ("read_personal_data", "auditor-test", "cases show"),
        ("read_personal_data", "auditor-test", "cases history"),
        ("read_personal_data", "auditor-test", "letter"),
    ]
    for record in mine:  # the log never holds the data it records a read of
        _assert_masked("the access log", json.dumps(record, ensure_ascii=False))


def test_a_read_that_cannot_be_logged_shows_nothing(world: World) -> None:
    result = world.run(
        "cases", "show", world.ids[0], "--store", world.url + "?mode=ro", "--show-personal-data"
    )
    assert result.exit_code == 3
    assert "could not be recorded" in result.stderr
    assert MOBILE not in result.stdout + result.stderr


def test_the_desks_policy_comes_from_zhenshen_toml(world: World, tmp_path: Path) -> None:
    (tmp_path / "policy.toml").write_text(
        '[privacy]\nkinds = ["mobile"]\nmobile = {start = 0, end = 4}\n', encoding="utf-8"
    )
    result = world.run(
        "--config",
        str(tmp_path / "policy.toml"),
        "cases",
        "show",
        world.ids[-1],
        "--store",
        world.url,
        "--format",
        "json",
    )
    data = json.loads(result.stdout)
    if data["requester"]["confidential"]:
        return
    assert data["requester"]["phone"] == "*******5678"
    assert ID_NUMBER in data["content"]  # only mobiles are masked under this policy
