"""The Chengdu High-tech Zone reference pack for zhenshen_core, with the demo that runs it.

The pack is YAML data (``pack/``); the plugin (:mod:`zhenshen_chengdu_gaoxin.plugin`) registers
it as the default pack, with the name the zone's desk signs its letters with, and adds
``zhenshen demo`` and ``zhenshen corpus`` (:mod:`zhenshen_chengdu_gaoxin.commands`) over the
synthetic corpus (:mod:`zhenshen_chengdu_gaoxin.corpus`) and the simulated year
(:mod:`zhenshen_chengdu_gaoxin.demo`).
"""

from pathlib import Path

PACK_ID = "cn.chengdu.gaoxin"
PACK_PATH = Path(__file__).parent / "pack"
ORG = "成都高新区营商环境领导小组办公室"
"""The issuing body of the zone's opinion letters."""
LETTER_PREFIX = "成高甄审"
"""The 发文机关代字 of the zone's letter numbers (成高甄审〔2026〕1号)."""

__all__ = ["LETTER_PREFIX", "ORG", "PACK_ID", "PACK_PATH"]
