"""Registers the reference pack (the default pack, with the desk's letter heading) and the
``demo`` and ``corpus`` commands."""

from __future__ import annotations

from zhenshen_chengdu_gaoxin import LETTER_PREFIX, ORG, PACK_ID, PACK_PATH
from zhenshen_core.plugins import CliCommands, DeskDefaults, RulePackSource, hookimpl


@hookimpl
def zhenshen_rule_packs() -> list[RulePackSource]:
    return [
        RulePackSource(
            id=PACK_ID,
            path=PACK_PATH,
            description="成都高新区营商环境联合甄审 reference pack (severity, tier, routing, "
            "experts, deadlines)",
            default=True,
            desk=DeskDefaults(org=ORG, letter_prefix=LETTER_PREFIX),
        )
    ]


@hookimpl
def zhenshen_cli_commands() -> list[CliCommands]:
    # Imported when the commands are asked for (zhenshen --help, or running one of them).
    from zhenshen_chengdu_gaoxin.commands import COMMANDS

    return [
        CliCommands(
            name="chengdu_gaoxin",
            commands=COMMANDS,
            description="demo: a simulated year of the desk; corpus: synthetic work orders",
        )
    ]
