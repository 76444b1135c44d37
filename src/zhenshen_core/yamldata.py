"""YAML as data only: the one ruamel loader for every YAML file people hand us.

Packs, pack tests, calendar data and mapping profiles are data written by district staff, or
sent by another district. YAML has tags that ask a loader to build objects
(``!!python/object/apply:os.system``, ``!!binary``, ``!custom``); ruamel's round-trip loader
builds none of them, but keeps them as odd objects that later steps met as an internal
``TypeError``. Here a tag outside YAML's own schema is refused where it is written, as a located
YAML error (a ``ConstructorError``, which every reader already reports as ``file:line:col``), so a
file with one is said to be wrong rather than half read.
"""

from __future__ import annotations

from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.constructor import ConstructorError, RoundTripConstructor

_CORE = "tag:yaml.org,2002:"
#: The tags of YAML's own schema: what plain, untagged YAML resolves to.
ALLOWED_TAGS = frozenset(
    _CORE + name for name in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp")
)
_SHOWN = 60


def shown_tag(tag: str) -> str:
    """A tag as it was written (``!!python/…`` rather than ``tag:yaml.org,2002:python/…``)."""
    text = "!!" + tag.removeprefix(_CORE) if tag.startswith(_CORE) else tag
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


class DataOnlyConstructor(RoundTripConstructor):
    """ruamel's round-trip constructor, refusing any node tagged outside YAML's own schema."""

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        tag = str(node.tag)
        if tag not in ALLOWED_TAGS:
            raise ConstructorError(
                None,
                None,
                f"tag {shown_tag(tag)!r} is not allowed: these files are data, written in "
                "plain YAML without tags",
                node.start_mark,
            )
        return super().construct_object(node, deep)


def data_yaml() -> YAML:
    """A round-trip YAML loader (line and column of every node) that refuses tags."""
    yaml = YAML(typ="rt")
    yaml.Constructor = DataOnlyConstructor
    return yaml


__all__ = ["ALLOWED_TAGS", "DataOnlyConstructor", "data_yaml", "shown_tag"]
