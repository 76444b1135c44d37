"""The ``zhenshen`` command group; each command family lives in its own module."""

from __future__ import annotations

import copy
import importlib
from pathlib import Path

import click

from zhenshen_core import __version__
from zhenshen_core.cli.context import CliContext
from zhenshen_core.cli.exits import LOAD_ERROR, USAGE, CliExit
from zhenshen_core.config import CONFIG_FILE, Config, ConfigError, load_config
from zhenshen_core.errors import PluginError
from zhenshen_core.plugins import PluginConfig, PluginHost

# Each module exposes ``register(group)``. Order is the order of ``zhenshen --help``.
COMMAND_MODULES: tuple[str, ...] = (
    "zhenshen_core.cli.cases",
    "zhenshen_core.cli.deadline",
    "zhenshen_core.cli.decide",
    "zhenshen_core.cli.desk_cmds",
    "zhenshen_core.cli.outbox",
    "zhenshen_core.cli.plugins_cmd",
    "zhenshen_core.cli.profiles",
    "zhenshen_core.cli.rules",
    "zhenshen_core.cli.impact",
    "zhenshen_core.cli.tester",
    "zhenshen_core.cli.audit",
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
    help="Project-local plugin file to import (also ZHENSHEN_LOCAL_PLUGINS). A "
    "zhenshen_local.py in the working directory is never imported unless named.",
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
    help="Config file (default: ./zhenshen.toml if present; only a config named here may "
    "load its local_plugins).",
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
        local_file=local_plugins or trusted_local_plugins(settings, config_file),
    )
    if config.local_file is None and settings.local_plugins is not None and not no_plugins:
        click.echo(
            f"warning: {CONFIG_FILE} in the working directory names local_plugins "
            f"{str(settings.local_plugins)!r}; not imported (a config found in the working "
            f"directory cannot run code): give --config {CONFIG_FILE} or --local-plugins FILE "
            "to import it",
            err=True,
        )
    ctx.obj = CliContext(
        plugin_config=config,
        pack_paths=list(pack_paths),
        config=settings,
        config_named=config_file is not None,
    )


def trusted_local_plugins(settings: Config, config_file: Path | None) -> Path | None:
    """The config's ``local_plugins``, when the config is one the user named (``--config``).

    A ``zhenshen.toml`` merely found in the working directory is read as data (store, pack,
    calendar …) but cannot name code to import: the directory may be one another district
    sent. pytest trusts its ini files for the same option, but a pytest project is the user's
    own; a folder of packs often is not.
    """
    return settings.local_plugins if config_file is not None else None


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
    "outbox": ("zhenshen_core.cli.outbox",),
    "plugins": ("zhenshen_core.cli.plugins_cmd",),
    "profile": ("zhenshen_core.cli.profiles",),
    "check": ("zhenshen_core.cli.rules",),
    "eval": ("zhenshen_core.cli.rules",),
    "test": ("zhenshen_core.cli.tester",),
    "fmt": ("zhenshen_core.cli.tester",),
    "new": ("zhenshen_core.cli.tester",),
    "diff": ("zhenshen_core.cli.impact",),
    "audit": ("zhenshen_core.cli.audit",),
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


def _option_value(args: list[str], name: str) -> str | None:
    """The value of the group option ``name`` in ``args`` (``--name VALUE`` or ``--name=VALUE``),
    read before click parses them."""
    for i, arg in enumerate(args):
        if arg == name and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


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
    named_local = _option_value(args, "--local-plugins")
    named_config = _option_value(args, "--config")
    try:
        # a file that is not there is the group callback's usage error (exit 2)
        local = Path(named_local) if named_local and Path(named_local).is_file() else None
        if local is None and named_config:
            local = trusted_local_plugins(load_config(Path(named_config)), Path(named_config))
    except ConfigError:
        local = None  # the group callback reports it, as a usage error
    try:
        config = PluginConfig.from_env(
            no_plugins=no_plugins, plugin_args=plugin_args, local_file=local
        )
        host = PluginHost(config)
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
