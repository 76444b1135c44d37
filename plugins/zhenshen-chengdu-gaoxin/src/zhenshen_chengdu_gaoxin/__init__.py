"""The Chengdu High-tech Zone reference pack for zhenshen_core (a data-only plugin)."""

from pathlib import Path

PACK_ID = "cn.chengdu.gaoxin"
PACK_PATH = Path(__file__).parent / "pack"

__all__ = ["PACK_ID", "PACK_PATH"]
