"""A project-local plugin file is imported only when the user names it.

Running the tools in a folder another district sent must not run its code: a
``zhenshen_local.py`` there, or a ``zhenshen.toml`` there naming one, is never imported; a file
named with ``--local-plugins``, ``ZHENSHEN_LOCAL_PLUGINS`` or in a config given with
``--config`` is.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from zhenshen_core.cli.main import build_cli, main
from zhenshen_core.plugins import LOCAL_PLUGINS_ENV, PluginConfig, PluginHost

BASE_PACK = Path(__file__).parents[1] / "rules" / "packs" / "base"
RAN = "ran.txt"
PLUGIN = f"from pathlib import Path\nPath({RAN!r}).write_text('imported')\n"


@pytest.fixture
def sent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder as another district might send it: a pack and a zhenshen_local.py."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(LOCAL_PLUGINS_ENV, raising=False)
    monkeypatch.setenv("ZHENSHEN_DISABLE_PLUGIN_AUTOLOAD", "1")
    (tmp_path / "zhenshen_local.py").write_text(PLUGIN, encoding="utf-8")
    shutil.copytree(BASE_PACK, tmp_path / "pack")
    return tmp_path


def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(build_cli(), list(args))
    return result.exit_code, result.output


@pytest.mark.parametrize(
    "args",
    [["--help"], ["test", "--help"], ["test", "."], ["check", "pack"], ["plugins"]],
)
def test_a_local_plugin_file_in_the_working_directory_is_never_imported(
    sent: Path, args: list[str]
) -> None:
    with pytest.raises(SystemExit):
        main(args)  # the console script's path: plugin commands are gathered for --help too
    assert not (sent / RAN).exists()


def test_a_config_found_in_the_working_directory_cannot_name_code(sent: Path) -> None:
    (sent / "zhenshen.toml").write_text('local_plugins = "zhenshen_local.py"\n', encoding="utf-8")
    code, out = _invoke("plugins")
    assert code == 0 and not (sent / RAN).exists()
    assert "zhenshen.toml in the working directory names local_plugins" in out
    assert "give --config zhenshen.toml or --local-plugins FILE" in out
    with pytest.raises(SystemExit):
        main(["--help"])
    assert not (sent / RAN).exists()


@pytest.mark.parametrize(
    "how",
    ["--local-plugins", "--config", "environment"],
)
def test_a_local_plugin_file_the_user_names_is_imported(
    sent: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    args = ["plugins"]
    if how == "--local-plugins":
        args = ["--local-plugins", "zhenshen_local.py", *args]
    elif how == "--config":
        (sent / "zhenshen.toml").write_text(
            'local_plugins = "zhenshen_local.py"\n', encoding="utf-8"
        )
        args = ["--config", "zhenshen.toml", *args]
    else:
        monkeypatch.setenv(LOCAL_PLUGINS_ENV, "zhenshen_local.py")
    code, out = _invoke(*args)
    assert code == 0, out
    assert (sent / RAN).read_text() == "imported"
    assert "zhenshen_local" in out and "warning" not in out


def test_the_library_never_imports_a_local_plugin_file(sent: Path) -> None:
    """What the pytest plugin, ``zhenshen diff`` corpora and embedding code build."""
    host = PluginHost(PluginConfig.from_env(environ={}))
    assert host.config.local_file is None
    assert not (sent / RAN).exists()
