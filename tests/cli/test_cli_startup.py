"""The lazy command table in ``cli.main`` must match what the command modules register."""

from __future__ import annotations

import importlib
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
    assert "zhenshen_core.cli.testing" not in loaded


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


def test_eval_leaves_storage_lifecycle_and_process_pools_unimported() -> None:
    """``zhenshen eval`` neither opens a store, applies events nor forks: those modules are
    imported on first use, so every evaluation run starts without them."""
    loaded = _modules_after_eval(autoload=False)
    assert "zhenshen_core.rules.loader" in loaded  # the pack was loaded
    unwanted = {
        "zhenshen_core.storage",
        "zhenshen_core.storage.sqlite",
        "zhenshen_core.model.lifecycle",
        "zhenshen_core.model.events",
        "multiprocessing",
        "concurrent.futures",
    }
    assert loaded.isdisjoint(unwanted), sorted(loaded & unwanted)


def test_console_script_restores_the_collector(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import gc

    from zhenshen_core.console import run

    monkeypatch.setattr(sys, "argv", ["zhenshen", "schema", "pack"])
    with pytest.raises(SystemExit) as done:
        run()
    gc.unfreeze()  # what run() froze belongs to this test process
    assert done.value.code in (0, None)
    assert gc.isenabled()
    assert '"$schema"' in capsys.readouterr().out


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


def test_eval_with_plugins_installed_imports_none_for_a_folder_pack() -> None:
    plugin_modules = [
        m
        for m in _modules_after_eval(autoload=True)
        if m.split(".")[0] in ("zhenshen_postgres", "zhenshen_docx", "zhenshen_chengdu_gaoxin")
    ]
    assert plugin_modules == []
