"""zhenshen diff: changed cases, explanations, the screen, the process pool, CLI forms."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from zhenshen_chengdu_gaoxin.corpus import generate_cases

from zhenshen_core.rules.impact import PackRef, diff_corpus, naive_diff, screen_for
from zhenshen_core.rules.impact import run as impact_run
from zhenshen_core.rules.impact import screen as impact_screen

from ..conftest import CLI_PACKS as PACKS
from ..conftest import Invoke


def write_corpus(path: Path, n: int, seed: int = 5) -> Path:
    with path.open("w", encoding="utf-8") as out:
        for case in generate_cases(n, seed=seed):
            out.write(json.dumps(case, ensure_ascii=False) + "\n")
    return path


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_corpus(tmp_path_factory.mktemp("corpus") / "c.jsonl", 600)


def edited(tmp: Path, change: str) -> Path:
    """A copy of the basic pack with one kind of edit."""
    folder = tmp / f"new-{change}"
    shutil.copytree(PACKS / "basic", folder)
    rules = folder / "rules.yaml"
    text = rules.read_text(encoding="utf-8")
    if change == "severity":
        text = text.replace(
            "severity: {at_least: S3}\n      departments: {lead: gxq.jrj}",
            "severity: {at_least: S4}\n      departments: {lead: gxq.jrj}",
        )
        text = text.replace("facts.loan_wan >= 1000", "facts.amount_wan >= 100")
    elif change == "add":
        text = text.replace(
            "rules:\n",
            "rules:\n  - id: new.credit\n"
            '    when: domain == "credit_repair"\n    then:\n'
            "      tags: [信用]\n      experts: {require: [lawyer]}\n\n",
            1,
        )
    elif change == "remove":
        start = text.index("  - id: severity.cannot-operate")
        end = text.index("  - id: financing.large-loan")
        text = text[:start] + text[end:]
    elif change == "staged":
        text = text.replace(
            "deadlines: {resolve: 20 working days}", "deadlines: {resolve: 15 working days}"
        )
    elif change == "levels":
        (folder / "pack.yaml").write_text(
            (folder / "pack.yaml")
            .read_text(encoding="utf-8")
            .replace("default_chair: office_head", "default_chair: leader_in_charge"),
            encoding="utf-8",
        )
    rules.write_text(text, encoding="utf-8")
    return folder


OLD = PackRef(str(PACKS / "basic"))


@pytest.mark.parametrize(
    ("change", "mode"),
    [
        ("severity", "base"),
        ("add", "base"),
        ("remove", "base"),
        ("staged", "staged"),
        ("levels", "full"),
        ("none", "none"),
    ],
)
def test_screen_agrees_with_evaluating_everything(
    tmp_path: Path, corpus: Path, change: str, mode: str
) -> None:
    new = PackRef(str(edited(tmp_path, change)))
    assert screen_for(OLD.load(), new.load()).mode == mode
    screened = diff_corpus(OLD, new, str(corpus), jobs=1, keep=10_000)
    full = diff_corpus(OLD, new, str(corpus), jobs=1, keep=10_000, screen=False)
    assert screened.changes == full.changes
    assert screened.summary.as_dict() == full.summary.as_dict()
    naive = naive_diff(OLD.load(), new.load(), str(corpus))
    assert naive.changed == full.summary.changed
    if change in ("none", "levels"):  # the tier table always sets the chair
        assert full.summary.changed == 0
    else:
        assert full.summary.changed > 0


def test_changes_are_counted_by_field_and_explained(tmp_path: Path, corpus: Path) -> None:
    new = PackRef(str(edited(tmp_path, "add")))
    result = diff_corpus(OLD, new, str(corpus), jobs=1, keep=3)
    summary = result.summary.as_dict()
    assert summary["cases"] == 600 and summary["invalid"] == 0
    assert summary["fields"]["tags_added"] == summary["changed"]
    assert summary["fields"]["experts_required_added"] == summary["changed"]
    assert summary["by_value"]["experts_required_added"] == {"lawyer": summary["changed"]}
    assert summary["rules"] == {"+new.credit": summary["changed"]}
    first = result.changes[0]
    assert first["rules"] == ["+new.credit"]
    assert first["changes"]["tags"] == {"added": ["信用"], "removed": []}
    assert len(result.changes) == 3
    lines = [c["line"] for c in result.changes]
    assert lines == sorted(lines)


def test_severity_changes_have_a_direction(tmp_path: Path, corpus: Path) -> None:
    new = PackRef(str(edited(tmp_path, "severity")))
    result = diff_corpus(OLD, new, str(corpus), jobs=1, keep=10_000)
    fields = result.summary.as_dict()["fields"]
    assert fields.get("severity_up", 0) > 0
    assert "+financing.large-loan" in result.summary.rules  # now fires on amount_wan
    for change in result.changes:
        if "severity" in change["changes"]:
            assert change["changes"]["severity"]["direction"] == "up"
    assert result.modified_rules == frozenset({"financing.large-loan"})


def test_process_pool_gives_the_same_answer_in_order(
    tmp_path: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(impact_run, "POOL_MIN_CASES", 50)
    new = PackRef(str(edited(tmp_path, "add")))
    pooled = diff_corpus(OLD, new, str(corpus), jobs=2, chunk_size=37, keep=10_000)
    single = diff_corpus(OLD, new, str(corpus), jobs=1, keep=10_000)
    assert pooled.changes == single.changes
    assert pooled.summary.as_dict() == single.summary.as_dict()


def test_invalid_records_and_csv(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"received_at": "2026-01-05T09:00:00+08:00", "domain": "financing", '
        '"facts": {"loan_wan": 5000}}\nnot json\n{"channel": "fax"}\n',
        encoding="utf-8",
    )
    new = PackRef(str(edited(tmp_path, "severity")))
    result = diff_corpus(OLD, new, str(bad), jobs=1)
    # line 3 is settled from the raw record: no differing rule can match it
    assert result.summary.cases == 3 and result.summary.invalid == 1
    assert result.summary.changed == 1
    strict = diff_corpus(OLD, new, str(bad), jobs=1, validate_all=True)
    assert [i["line"] for i in strict.invalid] == [2, 3]
    assert strict.summary.changed == 1
    csv = tmp_path / "c.csv"
    csv.write_text(
        "received_at,domain,facts.loan_wan\n2026-01-05T09:00:00+08:00,financing,5000\n"
        "2026-01-05T09:00:00+08:00,credit_repair,\n",
        encoding="utf-8",
    )
    result = diff_corpus(OLD, new, str(csv), jobs=1)
    assert (result.summary.cases, result.summary.changed) == (2, 1)


def _cli_corpus(tmp_path: Path) -> Path:
    return write_corpus(tmp_path / "c.jsonl", 200)


def test_cli_text_report(zhenshen: Invoke, packs: Path, tmp_path: Path) -> None:
    new = edited(tmp_path, "add")
    result = zhenshen(
        "--pack-path",
        "packs",
        "diff",
        "rt.basic",
        str(new),
        "--cases",
        str(_cli_corpus(tmp_path)),
        "--limit",
        "2",
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    out = result.stdout
    assert out.startswith("rt.basic 1.0.0 → rt.basic 1.0.0 over c.jsonl\ncases 200, changed ")
    assert "changes by field" in out
    assert "required experts added" in out and "lawyer" in out
    assert "first 2 changed cases" in out
    assert "+new.credit" in out
    assert result.stderr == ""


def test_cli_json_lists_every_change_and_fail_on_change(
    zhenshen: Invoke, packs: Path, tmp_path: Path
) -> None:
    new = edited(tmp_path, "add")
    corpus = _cli_corpus(tmp_path)
    result = zhenshen(
        "diff",
        str(PACKS / "basic"),
        str(new),
        "--cases",
        str(corpus),
        "--format",
        "json",
        "--limit",
        "1",
        "--fail-on-change",
    )
    assert result.exit_code == 1
    report: dict[str, Any] = json.loads(result.stdout)
    assert len(report["changes"]) == report["summary"]["changed"] > 1
    assert report["old"]["id"] == report["new"]["id"] == "rt.basic"
    assert report["old"]["sha256"] != report["new"]["sha256"]
    same = zhenshen(
        "diff",
        str(PACKS / "basic"),
        str(PACKS / "basic"),
        "--cases",
        str(corpus),
        "--fail-on-change",
    )
    assert same.exit_code == 0
    assert "changed 0 (0.0%)" in same.stdout


def _disabling_pack(tmp_path: Path, rule_id: str) -> Path:
    """A district pack on top of the basic pack that only removes ``rule_id``."""
    folder = tmp_path / "district"
    folder.mkdir()
    (folder / "pack.yaml").write_text(
        f"schema: 1\nid: rt.district\nversion: '2'\nextends: [rt.basic]\ndisable: [{rule_id}]\n",
        encoding="utf-8",
    )
    return folder


def test_a_rule_removed_with_disable_is_reported_even_when_no_case_changes(
    zhenshen: Invoke, packs: Path, tmp_path: Path
) -> None:
    """A district that disables a base rule must see it in the diff, whatever the corpus."""
    district = _disabling_pack(tmp_path, "financing.large-loan")
    corpus = tmp_path / "empty.jsonl"
    corpus.write_text("", encoding="utf-8")
    text = zhenshen(
        "--pack-path", "packs", "diff", "rt.basic", str(district), "--cases", str(corpus)
    )
    assert text.exit_code == 0, text.stderr
    assert "changed 0 (0.0%)" in text.stdout
    assert "removed rules: financing.large-loan (disable: in rt.district)" in text.stdout
    report = json.loads(
        zhenshen(
            "--pack-path",
            "packs",
            "diff",
            "rt.basic",
            str(district),
            "--cases",
            str(corpus),
            "--format",
            "json",
        ).stdout
    )
    assert report["removed_rules"] == [{"id": "financing.large-loan", "disabled_by": "rt.district"}]
    assert report["added_rules"] == []


def test_rule_changes_name_added_removed_and_tables_once(tmp_path: Path) -> None:
    from zhenshen_core.rules.impact import rule_changes

    old = OLD.load()
    added = rule_changes(old, PackRef(str(edited(tmp_path, "add"))).load())
    assert (added.added, added.removed) == (("new.credit",), ())
    removed = rule_changes(old, PackRef(str(edited(tmp_path, "remove"))).load())
    assert removed.removed == ("severity.cannot-operate",) and removed.disabled_by == {}
    assert rule_changes(old, old) == impact_screen.RuleChanges()
    assert not any("#" in rid for rid in impact_screen._item_ids(old))  # a table counts once


def test_cli_errors(zhenshen: Invoke, packs: Path, tmp_path: Path) -> None:
    missing = zhenshen("diff", "packs/basic", "packs/basic", "--cases", "nope.jsonl")
    assert missing.exit_code == 3
    assert "no such file" in missing.stderr
    as_json = zhenshen(
        "diff", "packs/basic", "packs/basic", "--cases", "nope.jsonl", "--format", "json"
    )
    assert as_json.exit_code == 3 and as_json.stdout == ""  # never half a JSON document
    broken = zhenshen("diff", "packs/basic", "packs/broken", "--cases", "nope.jsonl")
    assert broken.exit_code == 3
    assert "R101 unknown field 'domian'" in broken.stderr
    assert zhenshen("diff", "packs/basic").exit_code == 2


@settings(max_examples=8, deadline=None)
@given(
    threshold=st.integers(0, 3000), level=st.sampled_from(["S2", "S3", "S4"]), bump=st.booleans()
)
def test_screen_property_random_edits(threshold: int, level: str, bump: bool) -> None:
    """Any edit of one rule: screened and full evaluation report the same changes."""
    import tempfile

    corpus = write_corpus(Path(tempfile.mkdtemp()) / "c.jsonl", 150, seed=threshold % 7)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "new"
        shutil.copytree(PACKS / "basic", folder)
        rules = folder / "rules.yaml"
        then = "severity: {bump: 1}" if bump else f"severity: {{at_least: {level}}}"
        text = (
            rules.read_text(encoding="utf-8")
            .replace("facts.loan_wan >= 1000", f"facts.amount_wan >= {threshold}")
            .replace(
                "severity: {at_least: S3}\n      departments: {lead: gxq.jrj}",
                f"{then}\n      departments: {{lead: gxq.jrj}}",
            )
        )
        rules.write_text(text, encoding="utf-8")
        new = PackRef(str(folder))
        screened = diff_corpus(OLD, new, str(corpus), jobs=1, keep=10_000)
        full = diff_corpus(OLD, new, str(corpus), jobs=1, keep=10_000, screen=False)
        assert screened.changes == full.changes


def test_a_store_url_as_corpus(tmp_path: Path) -> None:
    """Cases stored by ``zhenshen ingest`` can be the corpus (``sqlite:///…``)."""
    from zhenshen_core.model import Lifecycle, load_case
    from zhenshen_core.storage.url import open_store

    url = f"sqlite:///{tmp_path / 'cases.db'}"
    store = open_store(url)
    lifecycle = Lifecycle()
    for data in generate_cases(120, seed=9):
        store.ingest(*_received(lifecycle, load_case(data)))
    close = getattr(store, "close", None)
    if close is not None:
        close()
    new = PackRef(str(edited(tmp_path, "add")))
    from_store = diff_corpus(OLD, new, url, jobs=1, keep=1000)
    assert from_store.summary.cases == 120
    assert from_store.summary.changed > 0
    assert all(c["line"] >= 1 for c in from_store.changes)


def _received(lifecycle: Any, case: Any) -> tuple[Any, list[Any]]:
    received, event = lifecycle.receive(case, actor="test")
    return received, [event]


@pytest.mark.parametrize("both", [False, True])
def test_a_pack_reading_a_fact_as_a_date_is_diffed_with_its_own_view(
    tmp_path: Path, both: bool
) -> None:
    """The new pack reads facts.since as a date (a date() cell); the corpus has it as JSON
    strings. Whether or not the old pack reads it as a date too, the screened and full diffs
    and the naive loop agree, and the cases on the date's side are the ones that change."""
    rows = [
        {"received_at": "2026-03-02T10:00:00+08:00", "title": f"t{i}", "domain": "financing",
         "facts": {"since": since}}
        for i, since in enumerate(["2026-01-15", "2026-02-28", "2026-03-01", "soon", None])
    ]  # fmt: skip
    corpus = tmp_path / "c.jsonl"
    corpus.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    table = (
        "tables:\n  - id: since\n    stage: classify\n    inputs: [facts.since]\n"
        "    outputs: [tags]\n    rows:\n      - ['{cell}', 新企业]\n"
    )
    old = tmp_path / "old"
    shutil.copytree(PACKS / "basic", old)
    if both:
        (old / "since.yaml").write_text(table.format(cell='< date("2026-01-01")'), "utf-8")
    new = tmp_path / "new"
    shutil.copytree(PACKS / "basic", new)
    (new / "since.yaml").write_text(table.format(cell='>= date("2026-02-01")'), "utf-8")
    screened = diff_corpus(PackRef(str(old)), PackRef(str(new)), str(corpus), jobs=1)
    full = diff_corpus(PackRef(str(old)), PackRef(str(new)), str(corpus), jobs=1, screen=False)
    assert screened.changes == full.changes
    assert [c["line"] for c in full.changes] == [2, 3]
    naive = naive_diff(PackRef(str(old)).load(), PackRef(str(new)).load(), str(corpus))
    assert naive.changed == full.summary.changed == 2
