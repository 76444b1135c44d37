"""Error messages never repeat a value that might be a secret (``zhenshen_core.echo``).

An unknown key is named, its value never shown, in every file people hand over: pack files,
pack tests, mapping profiles, calendar data and ``zhenshen.toml``, in text and JSON output. A
value in a known field is shown only for a closed set of values (a code, a number, a date),
shortened.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, ValidationError

from zhenshen_core.cli.main import build_cli
from zhenshen_core.echo import MAX_SHOWN, shown, shown_input
from zhenshen_core.rules import load_documents
from zhenshen_core.rules.diagnostics import PackError

SECRET = "hunter2-SECRET-9f8e7d"
BASE_PACK = Path(__file__).parent / "rules" / "packs" / "base"


def _run(tmp_path: Path, *args: str) -> str:
    result = CliRunner().invoke(
        build_cli(),
        ["--no-plugins", *args],
        env={"ZHENSHEN_DISABLE_PLUGIN_AUTOLOAD": "1", "COLUMNS": "200", "NO_COLOR": "1"},
    )
    assert result.exit_code != 0, result.output
    return result.output


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_zhenshen_check_names_an_unknown_key_and_never_shows_its_value(workdir: Path) -> None:
    pack = workdir / "pk"
    shutil.copytree(BASE_PACK, pack)
    with (pack / "pack.yaml").open("a", encoding="utf-8") as handle:
        handle.write(f"db_password: {SECRET}\n")
    for fmt in ("text", "json"):
        out = _run(workdir, "check", "--format", fmt, str(pack))
        assert "db_password" in out and "unknown key" in out
        assert SECRET not in out


def test_unknown_keys_in_rule_files_at_any_depth(workdir: Path) -> None:
    pack = workdir / "pk"
    shutil.copytree(BASE_PACK, pack)
    (pack / "extra.yaml").write_text(
        "rules:\n"
        "  - id: x.y\n"
        '    when: domain == "financing"\n'
        f"    token: {SECRET}\n"
        f"    then: {{tags: [a], severity: {{at_least: S2, api_key: {SECRET}}}}}\n",
        encoding="utf-8",
    )
    (pack / "more.yaml").write_text(
        f"tables: []\nsecret_section: {{nested: {SECRET}}}\n", encoding="utf-8"
    )
    out = _run(workdir, "check", str(pack))
    assert "rules.0.token: unknown key" in out and "rules.0.then.severity.api_key" in out
    assert "secret_section: unknown key" in out
    assert SECRET not in out


def test_pack_tests_profiles_calendars_and_config(workdir: Path) -> None:
    pack = workdir / "pk"
    shutil.copytree(BASE_PACK, pack)
    (pack / "tests").mkdir()
    (pack / "tests" / "t.yaml").write_text(
        f"password: {SECRET}\ntests:\n"
        f"  - name: one\n    secret: {SECRET}\n    case: {{domain: financing}}\n"
        f"    expect: {{severity: S1, token: {SECRET}}}\n",
        encoding="utf-8",
    )
    out = _run(workdir, "test", str(pack))
    assert "unknown key 'password'" in out and "unknown key 'secret'" in out
    assert SECRET not in out

    (workdir / "prof.yaml").write_text(
        f"profile: 1\nname: x\nchannel: api\npassword: {SECRET}\n"
        f"fields:\n  external_id: {{from: 工单编号, required: true, secret: {SECRET}}}\n"
        f"  title: {{from: [{SECRET}], required: {{nested: {SECRET}}}}}\n",
        encoding="utf-8",
    )
    out = _run(workdir, "profile", "check", "prof.yaml")
    assert "unknown key 'password'" in out and "unknown key 'secret'" in out
    assert SECRET not in out

    (workdir / "cal.yaml").write_text(
        f"year: 2030\npassword: {SECRET}\n"
        f"holidays:\n  - {{date: 2030-01-01, name: x, secret: {SECRET}}}\n",
        encoding="utf-8",
    )
    out = _run(workdir, "calendar", "check", "cal.yaml")
    assert "unknown key 'password'" in out and "unknown key 'secret'" in out
    assert SECRET not in out

    (workdir / "zhenshen.toml").write_text(
        f'db_password = "{SECRET}"\n[nested]\ntoken = "{SECRET}"\n', encoding="utf-8"
    )
    out = _run(workdir, "cases", "list")
    assert "db_password" in out and SECRET not in out


def test_a_typo_in_a_known_field_is_shown_shortened(workdir: Path) -> None:
    pack = workdir / "pk"
    shutil.copytree(BASE_PACK, pack)
    long_typo = "clasify" + "x" * 200
    (pack / "extra.yaml").write_text(
        "rules:\n"
        "  - id: x.y\n"
        '    when: domain == "financing"\n'
        f"    stage: {long_typo}\n"
        f"    description: [{SECRET}]\n"
        f"    then: {{tags: {SECRET}}}\n",
        encoding="utf-8",
    )
    out = _run(workdir, "check", str(pack))
    assert "rules.0.stage: Input should be 'classify'" in out
    assert "(got 'clasifyxxxx" in out and long_typo not in out  # shown, shortened
    assert "rules.0.then.tags: Input should be a valid list (got text)" in out  # described
    assert SECRET not in out


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = ""
    stage: int = 0


@given(
    key=st.text(min_size=1, max_size=30).filter(lambda k: k not in ("name", "stage")),
    value=st.text(min_size=8, max_size=200),
    where=st.sampled_from(["top", "rule", "then"]),
)
def test_no_unknown_key_value_ever_reaches_a_pack_diagnostic(
    key: str, value: str, where: str
) -> None:
    marked = "SECRET" + value  # long enough that a substring match means it was shown
    rule: dict[str, object] = {"id": "r1", "when": 'domain == "financing"', "then": {"tags": ["a"]}}
    pack: dict[str, object] = {"schema": 1, "id": "p", "version": "1", "severity_levels": ["S1"]}
    if where == "top":
        pack[key] = marked
    elif where == "rule":
        rule[key] = marked
    else:
        rule["then"] = {"tags": ["a"], key: marked}
    with pytest.raises(PackError) as caught:
        load_documents({"p": {"pack.yaml": pack, "rules.yaml": {"rules": [rule]}}}, "p")
    text = str(caught.value)
    assert "unknown key" in text
    assert marked not in text and repr(marked) not in text
    assert all(d.input is None for d in caught.value.diagnostics)


@given(value=st.text(min_size=1, max_size=500))
def test_shown_input_follows_the_rule(value: str) -> None:
    with pytest.raises(ValidationError) as caught:
        _Strict.model_validate({"stage": value, "name": [value], "other": value})
    by_field = {e["loc"][0]: e for e in caught.value.errors()}
    assert shown_input(by_field["other"]) == ""  # unknown key: never
    assert shown_input(by_field["name"]) == ""  # a list: never
    if "stage" in by_field:  # a number typed wrong: shown, shortened
        assert shown_input(by_field["stage"]) == f" (got {shown(value)})"
        assert len(shown(value)) <= MAX_SHOWN
