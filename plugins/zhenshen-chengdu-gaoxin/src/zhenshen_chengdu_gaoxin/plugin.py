"""Registers the pack folder; everything else in this distribution is YAML data."""

from __future__ import annotations

from zhenshen_chengdu_gaoxin import PACK_ID, PACK_PATH
from zhenshen_core.plugins import RulePackSource, hookimpl


@hookimpl
def zhenshen_rule_packs() -> list[RulePackSource]:
    return [
        RulePackSource(
            id=PACK_ID,
            path=PACK_PATH,
            description="成都高新区营商环境联合甄审 reference pack (severity, tier, routing, "
            "experts, deadlines)",
        )
    ]
