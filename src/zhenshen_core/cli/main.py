"""The ``zhenshen`` command group; each command family lives in its own module."""

from __future__ import annotations

import copy
import importlib
from pathlib import Path

import click

from zhenshen_core import __version__
from zhenshen_core.cli.context import CliContext
from zhenshen_core.cli.exits import LOAD_ERROR, USAGE, CliExit
from zhenshen_core.config import ConfigError, load_config
from zhenshen_core.errors import PluginError
from zhenshen_core.plugins import PluginConfig, PluginHost

# Each module exposes ``register(group)``. Order is the order of ``zhenshen --help``.
COMMAND_MODULES: tuple[str, ...] = (
    "zhenshen_core.cli.cases",
    "zhenshen_core.cli.deadline",
    "zhenshen_core.cli.decide",
    "zhenshen_core.cli.desk_cmds",
    "zhenshen_core.cli.plugins_cmd",
    "zhenshen_core.cli.profiles",
    "zhenshen_core.cli.rules",
    "zhenshen_core.cli.impact",
    "zhenshen_core.cli.tester",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="zhenshen")
@click.option("--no-plugins", is_flag=True, help="Load only the built-in plugins.")
@click.option(
    "-p",
    "plugin_args",
    metavar="NAME",
    multiple=True,
    help="Load plugin module NAME, or block a plugin with 'no:NAME'. Repeatable.",
)
@click.option(
    "--local-plugins",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Project-local plugin file (default: ./zhenshen_local.py if present).",
)
@click.option(
    "--pack-path",
    "pack_paths",
    multiple=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to search for rule packs by id (also after a command that loads packs, and "
    "ZHENSHEN_PACK_PATH). Repeatable.",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Config file (default: ./zhenshen.toml if present).",
)
@click.pass_context
def cli(
    ctx: click.Context,
    no_plugins: bool,
    plugin_args: tuple[str, ...],
    local_plugins: Path | None,
    pack_paths: tuple[Path, ...],
    config_file: Path | None,
) -> None:
    """zhenshen — the joint review desk (联合甄审) toolkit.

    Ingest enterprise requests, evaluate and test rule packs, compute legal deadlines on the
    official Chinese working-day calendar, and inspect stored cases.
    """
    if local_plugins is not None and not local_plugins.is_file():
        raise click.BadParameter(f"no such file: {local_plugins}", param_hint="--local-plugins")
    try:
        settings = load_config(config_file)
    except ConfigError as exc:
        raise CliExit(str(exc), USAGE) from exc
    blocked = [f"no:{name}" for name in settings.disable_plugins]
    config = PluginConfig.from_env(
        no_plugins=no_plugins,
        plugin_args=[*blocked, *plugin_args],
        local_file=local_plugins or settings.local_plugins,
    )
    ctx.obj = CliContext(plugin_config=config, pack_paths=list(pack_paths), config=settings)


#: Which modules define each built-in top-level command, so that running one imports only
#: what it needs (``schema`` gathers subcommands from two modules). A test keeps this in step
#: with what the modules register.
BUILTIN_COMMANDS: dict[str, tuple[str, ...]] = {
    "ingest": ("zhenshen_core.cli.cases",),
    "cases": ("zhenshen_core.cli.cases",),
    "schema": ("zhenshen_core.cli.cases", "zhenshen_core.cli.rules"),
    "deadline": ("zhenshen_core.cli.deadline",),
    "calendar": ("zhenshen_core.cli.deadline",),
    "decide": ("zhenshen_core.cli.decide",),
    "clocks": ("zhenshen_core.cli.decide",),
    "report": ("zhenshen_core.cli.desk_cmds",),
    "sweep": ("zhenshen_core.cli.desk_cmds",),
    "letter": ("zhenshen_core.cli.desk_cmds",),
    "plugins": ("zhenshen_core.cli.plugins_cmd",),
    "profile": ("zhenshen_core.cli.profiles",),
    "check": ("zhenshen_core.cli.rules",),
    "eval": ("zhenshen_core.cli.rules",),
    "test": ("zhenshen_core.cli.tester",),
    "fmt": ("zhenshen_core.cli.tester",),
    "new": ("zhenshen_core.cli.tester",),
    "diff": ("zhenshen_core.cli.impact",),
}


def build_cli(modules: tuple[str, ...] = COMMAND_MODULES) -> click.Group:
    """A new ``zhenshen`` group with the commands of ``modules``: each call its own command
    table, so the plugin commands one invocation adds never stay behind for the next."""
    group = copy.copy(cli)
    group.commands = {}
    for module in modules:
        importlib.import_module(module).register(group)
    return group


_GROUP_OPTIONS_WITH_VALUE = ("-p", "--local-plugins", "--pack-path", "--config")


def _command_name(argv: list[str]) -> str | None:
    """The subcommand ``argv`` names (the first word after the group's own options)."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in _GROUP_OPTIONS_WITH_VALUE:
            skip = True
        elif not arg.startswith("-"):
            return arg
    return None


def _add_plugin_commands(group: click.Group, args: list[str]) -> None:
    """Plugins may add commands; they are discovered with the same loading controls."""
    no_plugins = "--no-plugins" in args
    plugin_args = [args[i + 1] for i, a in enumerate(args[:-1]) if a == "-p"]
    try:
        host = PluginHost(PluginConfig.from_env(no_plugins=no_plugins, plugin_args=plugin_args))
        for record in host.cli_commands().values():
            for command in record.commands:
                if command.name not in group.commands:
                    group.add_command(command)
    except PluginError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(LOAD_ERROR) from exc


def prepare(args: list[str] | None = None) -> tuple[click.Group, list[str]]:
    """The command group with what ``args`` (default: ``sys.argv``) needs, and the args."""
    import sys

    argv = list(sys.argv[1:] if args is None else args)
    name = _command_name(argv)
    if name in BUILTIN_COMMANDS:
        # A built-in command: import its modules only. Plugin commands never replace a
        # built-in one, so plugins are not consulted here (the command loads them if it
        # needs them): starting a command is a third faster.
        group = build_cli(tuple(dict.fromkeys(BUILTIN_COMMANDS[name])))
    elif name is not None and "--version" not in argv:
        # A plugin's command (``zhenshen demo``): the plugins alone, none of the built-in
        # command modules. A name no plugin adds either gets the whole group, so the usage
        # error lists every command.
        group = build_cli(())
        _add_plugin_commands(group, argv)
        if name not in group.commands:
            group = build_cli()
            _add_plugin_commands(group, argv)
    else:
        group = build_cli()
        if "--version" not in argv:
            _add_plugin_commands(group, argv)
    return group, argv


def main(args: list[str] | None = None) -> None:
    group, argv = prepare(args)
    group.main(args=argv, prog_name="zhenshen")
