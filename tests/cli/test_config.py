from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from click.testing import Result

Run = Callable[..., Result]


def test_store_named_in_config_is_the_default(run: Run, corpus: Path, tmp_path: Path) -> None:
    (tmp_path / "zhenshen.toml").write_text('store = "sqlite:///from-config.db"\n')
    assert run("ingest", "jsonl", str(corpus)).exit_code == 0
    assert (tmp_path / "from-config.db").is_file()
    listed = run("cases", "list", "--format", "json")
    assert len(json.loads(listed.stdout)) == 2


def test_env_store_wins_over_config(
    run: Run, corpus: Path, tmp_path: Path, monkeypatch: object
) -> None:
    (tmp_path / "zhenshen.toml").write_text('store = "sqlite:///from-config.db"\n')
    result = run("ingest", "jsonl", str(corpus), "--store", f"sqlite:///{tmp_path / 'flag.db'}")
    assert result.exit_code == 0 and (tmp_path / "flag.db").is_file()
    assert not (tmp_path / "from-config.db").exists()


def test_bad_config_is_a_located_usage_error(run: Run, tmp_path: Path) -> None:
    (tmp_path / "zhenshen.toml").write_text('store = "x"\nstore = \n')
    result = run("cases", "list")
    assert result.exit_code == 2 and "zhenshen.toml" in result.stderr and "line 2" in result.stderr
    (tmp_path / "zhenshen.toml").write_text('stor = "sqlite:///x.db"\n')
    result = run("cases", "list")
    assert result.exit_code == 2 and "stor" in result.stderr and "Traceback" not in result.output


def test_config_can_disable_a_plugin(run: Run, tmp_path: Path) -> None:
    (tmp_path / "zhenshen.toml").write_text('disable_plugins = ["intake"]\n')
    result = run("plugins", "--format", "json")
    names = {p["name"] for p in json.loads(result.stdout)}
    assert "zhenshen_core.builtin.intake" not in names
