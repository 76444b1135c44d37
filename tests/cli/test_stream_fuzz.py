"""Property: whatever bytes a record stream holds, ``eval``, ``ingest`` and ``diff`` account
for every record (decided or stored, or reported with its line) and exit as documented: never a
traceback, never an "internal error", never a record silently dropped.

The same holds for every shape of input a district hands over: JSON arrays, CSV (hostile
headers, quotes left open, cells of every kind), the 12345 channel's exports, and the payload
of ``cases transition --data``. A seeded run of 8,000 hostile inputs through the CLI once gave
367 internal errors; here none is allowed. Every example runs in-process (``CliRunner``), so
the ``ci`` profile's examples (``HYPOTHESIS_PROFILE=ci``) take seconds, and ``soak`` hunts
longer before a release."""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zhenshen_core.cli.main import build_cli, prepare

PACK = Path(__file__).parents[1] / "rules" / "packs" / "base"


def _case(n: int, content: str) -> bytes:
    record = {
        "external_id": f"FZ-{n}",
        "received_at": "2026-03-02T10:00:00+08:00",
        "domain": "market_entry_operation",
        "content": content,
    }
    return json.dumps(record, ensure_ascii=False).encode()


NO_NEWLINES = st.binary(max_size=60).map(lambda b: b.replace(b"\n", b"").replace(b"\r", b""))
HOSTILE = st.sampled_from(
    [
        b"[" * 3000,  # nesting no parser follows
        b'{"received_at": "2026-03-02T10:00:00+08:00", "facts": {"a": ' + b"[" * 50,
        b'{"received_at": "2026-03-02T10:00:00+08:00", "content": "\xc6\xf3"}',  # GBK
        b'{"received_at": "2026-03-02T10:00:00+08:00", "content": "\\ud800"}',  # lone surrogate
        b'{"received_at": "not a time"}',
        b"[1, 2]",
        b"null",
        b"\xef\xbb\xbf{}",  # a byte-order mark in the middle of a stream
        b'{"received_at": "2026-03-02T10:00:00+08:00", "departments": 7}',
        b'{"received_at": "2026-03-02T10:00:00+08:00", "title": "a\\u0000b"}',  # a NUL
        b'{"received_at": "2026-03-02T10:00:00+08:00", "content": "' + b"x" * 30_000 + b'"}',
        # each of these once ended the whole batch, or was stored wrong:
        b'{"received_at": "2026-03-02T10:00:00+08:00", "facts": {"n": ' + b"9" * 4400 + b"}}",
        b'{"received_at": "2026-03-02T10:00:00+08:00", "facts": {"\\udfff": 1}}',
        b'{"received_at": "2026-03-02T10:00:00+08:00", "facts": {"n": NaN, "m": 1e999}}',
        b'{"external_id": "T", "received_at": "13912345678"}',  # a phone number, not 2410
        b'{"external_id": "T", "received_at": 13912345678}',
        b'{"external_id": "F", "received_at": "2410-11-20T12:34:38+08:00"}',
        b'{"received_at": "2026-03-02T10:00:00+08:00", "facts": '
        + b'{"a":' * 40
        + b"1"
        + b"}" * 41,
        b'{"received_at": "2026-03-02T10:00:00+08:00", "external_id": ' + b"7" * 300 + b"}",
    ]
)
LINE = st.one_of(
    st.builds(_case, st.integers(0, 10**6), st.text(max_size=40)),
    NO_NEWLINES,
    HOSTILE,
)
STREAM = st.lists(LINE, min_size=1, max_size=12)


def _records(lines: list[bytes]) -> int:
    """Records the command should account for: the lines that are not blank."""
    return sum(1 for line in lines if line.decode("utf-8", "surrogateescape").strip() != "")


# Each example runs a whole CLI command in-process over a generated file (a few ms to a few
# tens of ms): the profile's number of examples (dev 50, ci 100, soak 2,000) applies.
FUZZ = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


#: Plugins stay out of the way (CliRunner sets the environment for each run).
ENV = {"ZHENSHEN_DISABLE_PLUGIN_AUTOLOAD": "1", "ZHENSHEN_STORE": None}


@pytest.fixture(scope="module")
def cli() -> click.Group:
    return build_cli()


@FUZZ
@given(lines=STREAM)
def test_eval_accounts_for_every_record(cli: click.Group, lines: list[bytes]) -> None:
    stream = b"\n".join([_case(0, "首行"), *lines]) + b"\n"  # JSONL: the first line is a case
    result = CliRunner(env=ENV).invoke(cli, ["eval", "--pack", str(PACK)], input=stream)
    assert result.exit_code in (0, 1), result.output
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    decided = len(result.stdout.splitlines())
    skipped = re.search(r"(\d+) invalid record\(s\) skipped", result.stderr)
    invalid = int(skipped.group(1)) if skipped else 0
    assert decided + invalid == 1 + _records(lines)
    assert (result.exit_code == 1) == (invalid > 0)


def _on_file(cli: click.Group, lines: list[bytes], arguments: list[str]) -> Result:
    """Run the command with ``{}`` in ``arguments`` naming a JSONL file of ``lines``."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "cases.jsonl"
        path.write_bytes(b"\n".join(lines) + b"\n")
        named = [str(path) if argument == "{}" else argument for argument in arguments]
        return CliRunner(env=ENV).invoke(cli, [*named, "--format", "json"])


@FUZZ
@given(lines=STREAM)
def test_ingest_accounts_for_every_record(cli: click.Group, lines: list[bytes]) -> None:
    result = _on_file(cli, lines, ["ingest", "jsonl", "{}", "--store", "memory://"])
    assert result.exit_code in (0, 1), result.output
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    summary = json.loads(result.stdout)
    assert summary["read"] == _records(lines)
    assert summary["read"] == summary["created"] + summary["duplicates"] + summary["rejected"]
    assert (result.exit_code == 1) == (summary["rejected"] > 0)


@FUZZ
@given(lines=STREAM)
def test_diff_accounts_for_every_record(cli: click.Group, lines: list[bytes]) -> None:
    packs = ["--pack-path", str(PACK.parent), "diff", str(PACK), str(PACK.parent / "district")]
    result = _on_file(cli, lines, [*packs, "--cases", "{}", "--validate-all", "--jobs", "1"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["summary"]["cases"] == _records(lines)
    assert report["summary"]["invalid"] == len(report["invalid"])
    assert all(item["error"] for item in report["invalid"])


def _clean(result: Result) -> None:
    """No traceback and no internal error, whatever the exit code."""
    assert "internal error" not in result.stderr, result.stderr
    assert "Traceback" not in result.output + result.stderr, result.output + result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception


def _accounted(result: Result) -> dict[str, object]:
    """``ingest --format json``: every record read is created, a duplicate or rejected."""
    _clean(result)
    assert result.exit_code in (0, 1), result.output
    summary: dict[str, object] = json.loads(result.stdout)
    read, created, duplicates, rejected = (
        summary["read"], summary["created"], summary["duplicates"], summary["rejected"],
    )  # fmt: skip
    assert read == created + duplicates + rejected  # type: ignore[operator]
    assert (result.exit_code == 1) == (rejected != 0)
    return summary


def _ingest_file(cli: click.Group, data: bytes, name: str, *extra: str) -> Result:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        channel = extra[0] if extra else name.rsplit(".", 1)[1]
        arguments = ["ingest", channel, str(path), "--store", "memory://", "--format", "json"]
        return CliRunner(env=ENV).invoke(cli, [*arguments, *extra[1:]])


@st.composite
def _json_documents(draw: st.DrawFn) -> bytes:
    """A JSON array of case lines, hostile lines and noise, or a document cut anywhere."""
    elements = draw(st.lists(LINE, max_size=10))
    separator = draw(st.sampled_from([b",\n", b",", b", \n\n", b"\n"]))  # "\n": no comma
    text = b"[" + separator.join(elements) + draw(st.sampled_from([b"]", b"\n]\n", b"", b"]]"]))
    if draw(st.booleans()):
        text = text[: draw(st.integers(0, len(text)))]  # cut anywhere
    return draw(st.sampled_from([b"", b"\xef\xbb\xbf", b" \n"])) + text


@FUZZ
@given(document=_json_documents())
def test_ingest_of_a_json_array_accounts_for_every_record(
    cli: click.Group, document: bytes
) -> None:
    _accounted(_ingest_file(cli, document, "cases.json"))


COLUMNS = st.sampled_from(
    [
        "external_id", "received_at", "title", "content", "domain", "tags", "departments",
        "enterprise", "enterprise.name", "enterprise.uscc", "enterprise.", "facts.a",
        "facts.a.b", "requester.phone", "requester.confidential", "recieved_at", "",
        "title", "标题",
    ]
)  # fmt: skip
CELLS = st.one_of(
    st.sampled_from(
        [
            "2026-03-02T10:00:00+08:00", "2026-03-02", "13912345678", "2410-01-01T00:00:00",
            "9" * 4400, '"quoted"', '"open', 'a""b', "x\ny", '"x\ny"', "a;b|c", "d:lead;e:co",
            "91510100MA68NDJH6X", "NaN", "1e999", '{"a": [1, 2]}', "[" * 50, "是", "\u0000",
        ]
    ),
    st.text(max_size=12),
)  # fmt: skip


@st.composite
def _csv_files(draw: st.DrawFn) -> bytes:
    """A header of case fields (some clashing, repeated or unknown) and rows of every cell,
    joined by hand so quotes and line breaks land where a broken export puts them."""
    header = draw(st.lists(COLUMNS, min_size=1, max_size=6))
    rows = draw(st.lists(st.lists(CELLS, max_size=len(header) + 1), max_size=6))
    lines = [",".join(header)] + [",".join(row) for row in rows]
    text = "\n".join(lines).encode("utf-8", "surrogatepass")
    noise = draw(st.sampled_from([b"", b"\xc6\xf3", b"\r\n", b'"', b"\x00"]))
    return text + noise + draw(st.sampled_from([b"", b"\n"]))


@FUZZ
@given(table=_csv_files())
def test_ingest_of_a_csv_file_accounts_for_every_record(cli: click.Group, table: bytes) -> None:
    _accounted(_ingest_file(cli, table, "cases.csv"))


ORDER_FIELDS = [
    "工单编号",
    "来电时间",
    "诉求类型",
    "诉求标题",
    "诉求内容",
    "联系电话",
    "统一社会信用代码",
]


@st.composite
def _work_orders(draw: st.DrawFn) -> bytes:
    """A 12345 export in JSON Lines: objects of the platform's fields with any values."""
    values = st.one_of(CELLS, st.integers(), st.floats(), st.none(), st.lists(st.integers()))
    lines: list[bytes] = []
    for _ in range(draw(st.integers(1, 6))):
        if draw(st.integers(0, 4)) == 0:
            lines.append(draw(st.one_of(NO_NEWLINES, HOSTILE)))
            continue
        order = draw(st.dictionaries(st.sampled_from(ORDER_FIELDS), values, max_size=7))
        lines.append(json.dumps(order, ensure_ascii=False).encode("utf-8", "surrogatepass"))
    return b"\n".join(lines) + b"\n"


@st.composite
def _order_tables(draw: st.DrawFn) -> bytes:
    """A 12345 export in CSV: title rows, the platform's header, rows of any cells."""
    header = draw(st.permutations(ORDER_FIELDS).map(lambda c: c[: 3 + len(c) // 2]))
    rows = draw(st.lists(st.lists(CELLS, max_size=len(header) + 1), max_size=6))
    title = draw(st.sampled_from([[], ["12345工单导出"], ["", ""]]))
    lines = [",".join(t) for t in [title] if t] + [",".join(header)]
    lines += [",".join(row) for row in rows]
    return "\n".join(lines).encode("utf-8", "surrogatepass") + b"\n"


@pytest.fixture(scope="module")
def channels() -> click.Group:
    """The command group with the 12345 channel's plugin (as ``-p`` loads it)."""
    pytest.importorskip("zhenshen_12345")
    group, _ = prepare(["-p", "zhenshen_12345.plugin", "ingest"])
    return group


@FUZZ
@given(
    export=st.one_of(
        _work_orders().map(lambda b: ("orders.jsonl", b)),
        _order_tables().map(lambda b: ("orders.csv", b)),
    )
)
def test_the_12345_channel_accounts_for_every_order(
    channels: click.Group, export: tuple[str, bytes]
) -> None:
    name, data = export
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        arguments = ["-p", "zhenshen_12345.plugin", "ingest", "12345", str(path)]
        result = CliRunner(env=ENV).invoke(
            channels, [*arguments, "--store", "memory://", "--format", "json"]
        )
    if result.exit_code == 3:  # the export as a whole refused (no header with its columns)
        _clean(result)
        assert result.stderr.startswith("error: ") and str(path) in result.stderr
        return
    _accounted(result)


@pytest.fixture(scope="module")
def stored_case(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A SQLite store holding one case: (store URL, case id)."""
    folder = tmp_path_factory.mktemp("transition")
    source = folder / "one.jsonl"
    source.write_bytes(_case(1, "施工许可") + b"\n")
    url = f"sqlite:///{folder / 'desk.db'}"
    result = CliRunner(env=ENV).invoke(
        build_cli(), ["ingest", "jsonl", str(source), "--store", url]
    )
    assert result.exit_code == 0, result.output
    yield url, json.loads(_case(1, ""))["external_id"]


JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=8)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
PAYLOADS = st.one_of(
    JSON_VALUES.map(lambda v: json.dumps(v)),
    st.dictionaries(
        st.sampled_from(
            ["reason", "text", "at", "department", "meeting_at", "result", "actor", "facts"]
        ),
        JSON_VALUES,
        max_size=3,
    ).map(json.dumps),
    HOSTILE.map(lambda b: b.decode("utf-8", "surrogateescape")),
    st.sampled_from(
        [
            '{"reason": ' + "9" * 4400 + "}",
            '{"reason": "\\ud800"}',
            "{" * 5000,
            '{"facts": {"x": "\\ud800"}}',  # an internal error when it was saved
            '{"facts": {"\\udc80": 1}}',
            '{"facts": {"x": NaN}}',  # was stored as null
            '{"facts": {"x": 1e999}}',
        ]
    ),
    st.text(max_size=20),
)
EVENTS = st.sampled_from(
    ["accept", "reject", "return_case", "note", "start_screening", "withdraw", "decide",
     "clock_update", "supervise", "update_facts", "assign_departments", "close", "nope", ""]
)  # fmt: skip


@FUZZ
@given(event=EVENTS, payload=PAYLOADS)
def test_cases_transition_data_never_fails_internally(
    cli: click.Group, stored_case: tuple[str, str], event: str, payload: str
) -> None:
    url, _ = stored_case
    case_id = _case_id(url)
    arguments = ["cases", "transition", case_id, event, "--data", payload, "--store", url]
    result = CliRunner(env=ENV).invoke(cli, arguments)
    _clean(result)
    assert result.exit_code in (0, 1, 2), result.output


def _case_id(url: str) -> str:
    from zhenshen_core.storage import open_store

    with open_store(url) as store:
        return next(iter(store.query())).id


@FUZZ
@given(lines=STREAM)
def test_a_dry_run_says_what_ingest_would_do(cli: click.Group, lines: list[bytes]) -> None:
    """``--dry-run`` rejects what ``ingest`` rejects, and fails on nothing itself."""
    shown = _on_file(cli, lines, ["ingest", "jsonl", "{}", "--dry-run", "--limit", "20"])
    _clean(shown)
    assert shown.exit_code in (0, 1), shown.output
    stored = _on_file(cli, lines, ["ingest", "jsonl", "{}", "--store", "memory://"])
    assert (shown.exit_code == 1) == (json.loads(stored.stdout)["rejected"] > 0)
