"""The lazy command table in ``cli.main`` must match what the command modules register."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from zhenshen_core.cli.main import BUILTIN_COMMANDS, COMMAND_MODULES, _command_name


def test_builtin_command_table_matches_the_modules() -> None:
    found: dict[str, set[str]] = {}
    for module in COMMAND_MODULES:
        group = click.Group("scratch")
        importlib.import_module(module).register(group)
        for name in group.commands:
            found.setdefault(name, set()).add(module)
    assert {k: set(v) for k, v in BUILTIN_COMMANDS.items()} == found


@pytest.mark.parametrize(
    ("argv", "name"),
    [
        (["eval", "--pack", "p"], "eval"),
        (["--no-plugins", "-p", "no:x", "check", "p"], "check"),
        (["--config", "z.toml", "--pack-path", "d", "schema", "pack"], "schema"),
        (["-pmod", "test"], "test"),
        (["--help"], None),
        ([], None),
    ],
)
def test_command_name_skips_group_options(argv: list[str], name: str | None) -> None:
    assert _command_name(argv) == name


@pytest.mark.slow  # a fresh interpreter per run
def test_a_builtin_command_imports_only_its_modules() -> None:
    code = (
        "import sys\n"
        "from zhenshen_core.cli.main import main\n"
        "try:\n"
        "    main(['schema', 'pack'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('zhenshen_core.cli.')), "
        "file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    loaded = done.stderr.strip()
    assert "zhenshen_core.cli.rules" in loaded
    assert "zhenshen_core.cli.desk_cmds" not in loaded
    assert "zhenshen_core.cli.tester" not in loaded
    assert "zhenshen_core.cli.impact" not in loaded


BASE_PACK = Path(__file__).parents[1] / "rules" / "packs" / "base"


def _modules_after_eval(*, autoload: bool) -> set[str]:
    """The modules a fresh process has imported after ``zhenshen eval`` of a folder pack."""
    code = (
        "import sys\n"
        "from zhenshen_core.cli.main import main\n"
        "try:\n"
        f"    main(['eval', '--pack', {str(BASE_PACK)!r}, '--input', {os.devnull!r}])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(' '.join(sorted(sys.modules)), file=sys.stderr)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "ZHENSHEN_DISABLE_PLUGIN_AUTOLOAD"}
    if not autoload:
        env["ZHENSHEN_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    return set(done.stderr.split())


@pytest.mark.slow  # a fresh interpreter per run
def test_eval_leaves_storage_lifecycle_and_process_pools_unimported() -> None:
    """``zhenshen eval`` neither opens a store, applies events nor forks: those modules are
    imported on first use, so every evaluation run starts without them."""
    loaded = _modules_after_eval(autoload=False)
    assert "zhenshen_core.rules.pack.loader" in loaded  # the pack was loaded
    unwanted = {
        "zhenshen_core.storage",
        "zhenshen_core.storage.sqlite",
        "zhenshen_core.model.lifecycle",
        "zhenshen_core.model.events",
        "multiprocessing",
        "concurrent.futures",
        "re2",  # the base pack has no ``matches``
    }
    assert loaded.isdisjoint(unwanted), sorted(loaded & unwanted)


def test_console_script_restores_the_collector(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import gc

    from zhenshen_core.console import run

    # ``plugins`` ends through SystemExit as usual (``eval`` and ``check`` end the process).
    monkeypatch.setenv("ZHENSHEN_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setattr(sys, "argv", ["zhenshen", "plugins", "--format", "json"])
    with pytest.raises(SystemExit) as done:
        run()
    gc.unfreeze()  # what run() froze belongs to this test process
    assert done.value.code in (0, None)
    assert gc.isenabled()
    assert json.loads(capsys.readouterr().out)


@pytest.mark.slow  # a fresh interpreter per run
def test_python_dash_m_runs_the_cli() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "zhenshen_core", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0 and "zhenshen" in done.stdout


def test_a_folder_pack_is_loaded_without_building_the_plugin_host(tmp_path: Path) -> None:
    """Plugins are consulted for a pack only when it names an action or an id no search
    folder holds: evaluating a plain folder pack loads none of them."""
    from zhenshen_core.cli.context import CliContext
    from zhenshen_core.plugins import PluginConfig
    from zhenshen_core.rules.diagnostics import PackError

    ctx = CliContext(plugin_config=PluginConfig.from_env(no_plugins=True))
    assert ctx.load_pack(BASE_PACK).id == "base"
    assert ctx._host is None

    acting = tmp_path / "acting"
    acting.mkdir()
    (acting / "pack.yaml").write_text(
        "schema: 1\nid: acting\nversion: '1'\nseverity_levels: [S1, S2]\n", encoding="utf-8"
    )
    (acting / "rules.yaml").write_text(
        "rules:\n  - {id: r, when: 'domain == \"x\"', then: {actions: [notify]}}\n",
        encoding="utf-8",
    )
    with pytest.raises(PackError) as caught:
        ctx.load_pack(acting)
    assert any("unknown action 'notify'" in str(d) for d in caught.value.diagnostics)
    assert ctx._host is not None  # the action made the context ask the plugins


@pytest.mark.slow  # a fresh interpreter per run
def test_eval_with_plugins_installed_imports_none_for_a_folder_pack() -> None:
    plugin_modules = [
        m
        for m in _modules_after_eval(autoload=True)
        if m.split(".")[0] in ("zhenshen_postgres", "zhenshen_docx", "zhenshen_chengdu_gaoxin")
    ]
    assert plugin_modules == []


def _console(args: list[str], tmp_path: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """``zhenshen ARGS`` through the console script, with an exit handler that leaves a mark."""
    mark = tmp_path / "atexit-ran"
    code = (
        "import atexit, sys\n"
        f"atexit.register(lambda: open({str(mark)!r}, 'w').close())\n"
        f"sys.argv = ['zhenshen', *{args!r}]\n"
        "from zhenshen_core.console import run\n"
        "run()\n"
    )
    env = dict(os.environ, ZHENSHEN_DISABLE_PLUGIN_AUTOLOAD="1")
    return subprocess.run(
        [sys.executable, "-c", code], input=stdin, capture_output=True, text=True, env=env
    )


@pytest.mark.slow  # a fresh interpreter per run
def test_quick_exit_keeps_output_exit_codes_and_exit_handlers(tmp_path: Path) -> None:
    case = {"channel": "hotline_12345", "received_at": "2026-03-02T10:00:00+08:00"}
    stream = "\n".join(
        [json.dumps(dict(case, external_id=f"x{i}")) for i in range(3000)] + ["not json"]
    )
    done = _console(["eval", "--pack", str(BASE_PACK), "--input", "-"], tmp_path, stream)
    assert done.returncode == 1  # one bad record
    assert len(done.stdout.splitlines()) == 3000  # every decision written and flushed
    assert "<stdin>:3001: invalid JSON" in done.stderr
    assert (tmp_path / "atexit-ran").exists()

    (tmp_path / "atexit-ran").unlink()
    missing = _console(["eval", "--pack", str(tmp_path / "nope"), "--input", "-"], tmp_path)
    assert missing.returncode == 3 and "nope" in missing.stderr  # LOAD_ERROR kept
    assert (tmp_path / "atexit-ran").exists()


@pytest.mark.slow  # a fresh interpreter per run
def test_other_commands_end_normally(tmp_path: Path) -> None:
    done = _console(["plugins", "--format", "json"], tmp_path)
    assert done.returncode == 0 and json.loads(done.stdout)
    assert (tmp_path / "atexit-ran").exists()
