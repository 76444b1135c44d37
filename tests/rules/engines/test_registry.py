"""Engines by name: one ``make_engine``, the ``zhenshen_engines`` hook, one engine class."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from zhenshen_core.cli.main import build_cli
from zhenshen_core.errors import DuplicateNameError
from zhenshen_core.plugins import PluginHost, hookimpl
from zhenshen_core.plugins.records import RuleEngine
from zhenshen_core.rules import (
    CompiledEngine,
    MatcherEngine,
    UnknownEngineError,
    engine_names,
    load_pack,
    make_engine,
)
from zhenshen_core.rules.engines.compiled import InterpretedEngine

from . import engine_plugin

DEMO = Path(__file__).resolve().parents[3] / "examples" / "packs" / "demo"
TESTED = Path(__file__).resolve().parents[1] / "tester" / "packs" / "basic"  # has pack tests
CASE = {"received_at": "2026-03-02T10:00:00+08:00", "domain": "financing", "title": "融资难"}


def test_builtin_engines_are_made_by_name_without_a_host() -> None:
    pack = load_pack(DEMO)
    engine = make_engine("compiled", pack)
    assert isinstance(engine, CompiledEngine) and engine.pack is pack


def test_an_unknown_engine_lists_the_choices() -> None:
    pack = load_pack(DEMO)
    host = PluginHost()
    with pytest.raises(UnknownEngineError) as caught:
        make_engine("fast", pack, host=host)
    assert str(caught.value) == "unknown rule engine 'fast'; choose one of: compiled, durable"
    assert isinstance(caught.value, ValueError)  # what Desk(engine=...) raised before


def test_a_plugin_engine_is_found_through_the_host() -> None:
    host = PluginHost()
    host.register(engine_plugin, "reference")
    assert engine_names(host=host) == ["compiled", "durable", "reference"]
    pack = load_pack(DEMO)
    engine = make_engine("reference", pack, host=host)
    assert engine.name == "reference"
    assert engine.evaluate(CASE) == make_engine("compiled", pack).evaluate(CASE)


def test_a_plugin_cannot_take_a_builtin_name() -> None:
    class Impostor:
        @hookimpl
        def zhenshen_engines(self) -> list[RuleEngine]:
            return [RuleEngine("compiled", "not the real one", engine_plugin.reference)]

    host = PluginHost()
    host.register(Impostor(), "impostor")
    with pytest.raises(DuplicateNameError, match="compiled"):
        engine_names(host=host)


def test_the_builtin_engines_are_one_class_over_a_matcher() -> None:
    from zhenshen_core.rules.engines.durable import DurableEngine

    for cls in (CompiledEngine, InterpretedEngine, DurableEngine):
        assert issubclass(cls, MatcherEngine)
        for method in ("evaluate", "evaluate_json", "evaluate_facts", "evaluate_many"):
            assert getattr(cls, method) is getattr(MatcherEngine, method), (cls, method)


def test_zhenshen_plugins_lists_the_builtin_engines() -> None:
    runner = CliRunner()
    done = runner.invoke(
        build_cli(),
        ["--no-plugins", "plugins", "--format", "json"],
        env={"ZHENSHEN_DISABLE_PLUGIN_AUTOLOAD": "1"},
    )
    assert done.exit_code == 0, done.output
    engines = {
        name
        for plugin in json.loads(done.stdout)
        for name in plugin.get("registers", {}).get("engines", [])
    }
    assert engines == {"compiled", "durable"}


@pytest.mark.parametrize("command", ["eval", "test"])
def test_cli_engine_choice(command: str, tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"ZHENSHEN_DISABLE_PLUGIN_AUTOLOAD": "1", "COLUMNS": "100"}
    args = ["--pack", str(DEMO), "--input", "-"] if command == "eval" else [str(TESTED)]
    bad = runner.invoke(build_cli(), [command, *args, "--engine", "fast"], env=env)
    assert bad.exit_code == 2
    assert "unknown rule engine 'fast'; choose one of: compiled, durable" in bad.stderr
    plugin = ["-p", "rules.engines.engine_plugin"]
    good = runner.invoke(
        build_cli(),
        [*plugin, command, *args, "--engine", "reference"],
        env=env,
        input=json.dumps(CASE),
    )
    assert good.exit_code == 0, good.output
