from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from zhenshen_core import __version__
from zhenshen_core.errors import (
    CaseNotFoundError,
    CaseValidationError,
    ConcurrencyError,
    GuardError,
    IllegalTransitionError,
    PluginLoadError,
    StoreUnavailableError,
    StoreURLError,
    UnknownNameError,
)

Run = Callable[..., Result]


def test_version(run: Run) -> None:
    result = run("--version")
    assert result.exit_code == 0 and __version__ in result.stdout


def test_every_command_has_help(run: Run) -> None:
    from docsgen import _walk

    from zhenshen_core.cli.main import build_cli

    for path, command in _walk(build_cli(), ["zhenshen"]):
        assert command.help or command.short_help, f"{' '.join(path)} has no help"
        assert run(*path[1:], "--help").exit_code == 0


def test_ingest_list_show_history_transition(run: Run, corpus: Path, store_url: str) -> None:
    result = run("ingest", "jsonl", str(corpus), "--store", store_url)
    assert result.exit_code == 0, result.output
    assert "2 read, 2 created" in result.stdout

    listed = run("cases", "list", "--store", store_url, "--format", "json")
    cases = json.loads(listed.stdout)
    assert len(cases) == 2
    assert cases[0]["requester"]["phone"] == "138****1234"
    case_id = cases[0]["id"]

    shown = run("cases", "show", case_id, "--store", store_url)
    assert shown.exit_code == 0 and "138****1234" in shown.stdout
    assert "13800001234" not in shown.stdout

    moved = run("cases", "transition", case_id, "accept", "--store", store_url, "--format", "json")
    assert moved.exit_code == 0, moved.output
    assert json.loads(moved.stdout)["to_status"] == "accepted"

    history = run("cases", "history", case_id, "--store", store_url, "--format", "json")
    assert [e["type"] for e in json.loads(history.stdout)] == ["receive", "accept"]

    filtered = run(
        "cases", "list", "--store", store_url, "--status", "accepted", "--format", "json"
    )
    assert [c["id"] for c in json.loads(filtered.stdout)] == [case_id]
    by_dept = run(
        "cases", "list", "--store", store_url, "--department", "gxq.sthcsglj", "--format", "json"
    )
    assert len(json.loads(by_dept.stdout)) == 1


def test_reingest_is_idempotent(run: Run, corpus: Path, store_url: str) -> None:
    run("ingest", "jsonl", str(corpus), "--store", store_url)
    again = run("ingest", "jsonl", str(corpus), "--store", store_url, "--format", "json")
    assert json.loads(again.stdout)["created"] == 0
    assert json.loads(again.stdout)["duplicates"] == 2


def test_rejected_records_exit_1_with_line_numbers(
    run: Run, tmp_path: Path, store_url: str
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"received_at": "2020-01-02T09:00:00", "title": "ok"}\n'
        '{"received_at": "x"\n'
        '{"received_at": "2020-01-02",'
        ' "enterprise": {"name": "a", "uscc": "91510100MA68NDJH6Y"}}\n',
        encoding="utf-8",
    )
    result = run("ingest", "jsonl", str(bad), "--store", store_url)
    assert result.exit_code == 1
    assert "1 created" in result.stdout and "2 rejected" in result.stdout
    assert f"{bad}:2: rejected: malformed JSON" in result.stderr
    assert f"{bad}:3: rejected:" in result.stderr and "checksum" in result.stderr
    assert "Traceback" not in result.output


def test_unknown_channel_lists_known_ones(run: Run, corpus: Path, store_url: str) -> None:
    result = run("ingest", "fax", str(corpus), "--store", store_url)
    assert result.exit_code == 3
    assert "unknown intake channel 'fax'" in result.stderr and "jsonl" in result.stderr


def test_missing_source_is_a_usage_error(run: Run, store_url: str) -> None:
    result = run("ingest", "jsonl", "nope.jsonl", "--store", store_url)
    assert result.exit_code == 2 and "no such file" in result.stderr


def test_unwritable_database_path(run: Run, corpus: Path) -> None:
    result = run("ingest", "jsonl", str(corpus), "--store", "sqlite:////proc/forbidden/x.db")
    assert result.exit_code == 3
    assert "Traceback" not in result.output and result.stderr.startswith("error:")


def test_unknown_store_scheme(run: Run, corpus: Path) -> None:
    result = run("cases", "list", "--store", "mongodb://localhost/x")
    assert result.exit_code == 3 and "memory" in result.stderr and "sqlite" in result.stderr


def test_unknown_case_and_illegal_transition(run: Run, corpus: Path, store_url: str) -> None:
    run("ingest", "jsonl", str(corpus), "--store", store_url)
    missing = run("cases", "show", "ZSNOPE", "--store", store_url)
    assert missing.exit_code == 2 and "no case with id 'ZSNOPE'" in missing.stderr
    case_id = json.loads(run("cases", "list", "--store", store_url, "--format", "json").stdout)[0][
        "id"
    ]
    illegal = run("cases", "transition", case_id, "confirm", "--store", store_url)
    assert illegal.exit_code == 1  # the user's request, refused: not a load or internal error
    assert illegal.stderr.startswith(
        "error: event 'confirm' is not allowed in state 'received'; allowed events: accept, "
    )
    bad_json = run(
        "cases", "transition", case_id, "reject", "--data", "{oops", "--store", store_url
    )
    assert bad_json.exit_code == 2 and "--data" in bad_json.stderr
    deep = "[" * 5000
    too_deep = run("cases", "transition", case_id, "reject", "--data", deep, "--store", store_url)
    assert too_deep.exit_code == 2 and "nested too deeply" in too_deep.stderr
    guard = run("cases", "transition", case_id, "reject", "--data", "{}", "--store", store_url)
    assert guard.exit_code == 1 and "reason" in guard.stderr


def test_bad_date_filter_is_usage_error(run: Run, store_url: str) -> None:
    result = run("cases", "list", "--store", store_url, "--received-from", "yesterday")
    assert result.exit_code == 2 and "--received-from" in result.stderr


def test_schema_case(run: Run) -> None:
    result = run("schema", "case")
    schema = json.loads(result.stdout)
    assert result.exit_code == 0 and "received_at" in schema["properties"]


def test_plugins_lists_builtins(run: Run) -> None:
    result = run("plugins", "--format", "json")
    assert result.exit_code == 0
    plugins = {p["name"]: p for p in json.loads(result.stdout)}
    assert plugins["zhenshen_core.builtin.stores"]["registers"]["storage"] == ["memory", "sqlite"]
    text = run("plugins")
    assert "zhenshen_core.builtin.intake" in text.stdout


def test_failing_local_plugin_exits_3_naming_it(run: Run, tmp_path: Path) -> None:
    (tmp_path / "zhenshen_local.py").write_text("raise RuntimeError('boom')\n")
    result = run("--local-plugins", "zhenshen_local.py", "plugins")
    assert result.exit_code == 3 and "zhenshen_local" in result.stderr and "boom" in result.stderr
    assert run("--no-plugins", "plugins").exit_code == 0


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (IllegalTransitionError("received", "confirm", ["accept"]), 1),
        (GuardError("received", "reject", "invalid payload: reason: Field required"), 1),
        (CaseValidationError("invalid case: title: too long"), 1),
        (ConcurrencyError("ZS1", 2, 3), 75),
        (StoreUnavailableError("sqlite:///x.db: database is locked"), 75),
        (CaseNotFoundError("ZSNOPE"), 2),
        (StoreURLError("unknown store scheme 'mongodb'"), 3),
        (UnknownNameError("intake channel", "fax", ["jsonl"]), 3),
        (PluginLoadError("broken", RuntimeError("boom")), 3),
    ],
)
def test_library_errors_map_to_documented_exit_codes(error: Exception, code: int) -> None:
    """A request the data refuses is a problem found (1), not a load or internal error (3); a
    conflict or a busy store is worth trying again (75), neither a problem nor an error."""
    from zhenshen_core.cli.exits import exit_code_for

    assert exit_code_for(error) == code  # type: ignore[arg-type]
