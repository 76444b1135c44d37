"""Reading pack YAML with positions, fast: libyaml composes the node tree in C.

The pack reader (``source``) needs every key's and value's line and column (errors say
``file:line:col``), which ruamel.yaml's round-trip loader provides, in pure Python: 0.09 s for a
100-rule file, most of what ``zhenshen eval`` or ``zhenshen test`` spends before its first
case. libyaml (through PyYAML) composes the same file in 3 ms, with a start mark on every node.

``located()`` turns that node tree into exactly the ``Located`` record the ruamel path builds:
the same plain data (scalars typed by YAML 1.2 rules, as ruamel does, not PyYAML's 1.1), the
same positions and the same quoting styles. Whatever it cannot promise to read identically
(anchors and aliases, explicit tags, merge keys, duplicate or non-string keys, directives,
tabs, uncommon number forms, timestamps with a time, syntax errors) makes it return None, and the
caller reads the file with ruamel as before, which also words every YAML error. A property
test compares both readers on generated documents and on every pack in the repository.
"""

from __future__ import annotations

import math
import re
from datetime import date
from typing import Any

from ruamel.yaml.nodes import ScalarNode as _RuamelScalar
from ruamel.yaml.resolver import VersionedResolver

from zhenshen_core.rules.pack.located import Located, Path_

try:  # PyYAML built with libyaml; without it, every file takes the ruamel path
    import yaml
    from yaml import CSafeLoader as _CLoader
except ImportError:  # pragma: no cover - PyYAML is a dependency; its C part may be absent
    yaml = None  # type: ignore[assignment]
    _CLoader = None  # type: ignore[assignment,misc]

_STR = "tag:yaml.org,2002:str"
_NULL = "tag:yaml.org,2002:null"
_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"

_DECIMAL = re.compile(r"[-+]?[0-9][0-9_]*\Z")
_FLOAT_FORM = re.compile(r"[-+]?(?:[0-9][0-9_]*)?(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?\Z")
_SPECIAL_FLOATS = {
    ".inf": math.inf,
    "+.inf": math.inf,
    "-.inf": -math.inf,
    ".nan": math.nan,
}
_DATE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})\Z")
#: Tabs (ruamel refuses some that libyaml accepts) and the characters YAML 1.1 (libyaml) counts
#: as line breaks but YAML 1.2 (ruamel) does not, which would shift every later line number.
_STYLES = {'"': "quoted", "'": "quoted", "|": "block", ">": "block"}  # as the loader names them
_ODD_CHARACTERS = re.compile("[\t\x85\u2028\u2029]")


class _Unsupported(Exception):
    """The fast reader cannot promise ruamel's result here: read the file with ruamel."""


def available() -> bool:
    return _CLoader is not None


class NestedTooDeeply(Exception):
    """libyaml stopped at its nesting limit (1,000 levels) at ``line``:``column``. ruamel has
    no limit of its own: it would take seconds to reach Python's recursion limit instead."""

    def __init__(self, line: int, column: int) -> None:
        super().__init__(f"nested too deeply at {line}:{column}")
        self.line, self.column = line, column


def located(text: str, name: str) -> Located | None:
    """The ``Located`` record for ``text``, or None to read it with ruamel instead."""
    if _CLoader is None or "%YAML" in text or "%TAG" in text or _ODD_CHARACTERS.search(text):
        return None
    try:
        root = yaml.compose(text, Loader=_CLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        if exc.problem == "exceeded maximum nesting depth" and mark is not None:
            raise NestedTooDeeply(mark.line + 1, mark.column + 1) from None
        return None  # ruamel reports it, with its own wording
    except yaml.YAMLError:
        return None
    loc = Located(name, None, lines=text.splitlines())
    try:
        loc.data = _Reader(loc).value(root, ()) if root is not None else None
    except _Unsupported:
        return None
    return loc


class _Reader:
    def __init__(self, loc: Located) -> None:
        self.loc = loc
        self.seen: set[int] = set()
        self.resolver = VersionedResolver(version=(1, 2))  # ruamel's typing of plain scalars
        self.tags: dict[str, str] = {}
        self.implicit = yaml.resolver.Resolver()  # what libyaml's tags are without a tag

    def value(self, node: Any, path: Path_) -> Any:
        if id(node) in self.seen:  # an alias: ruamel shares the object, positions differ
            raise _Unsupported
        self.seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return self.sequence(node, path)
        return self.scalar(node, path)

    def mapping(self, node: Any, path: Path_) -> dict[str, Any]:
        if node.tag != _MAP:
            raise _Unsupported
        out: dict[str, Any] = {}
        positions = self.loc.positions
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise _Unsupported
            key = self.key(key_node)
            if key == "<<" or key in out:
                raise _Unsupported  # merge keys and duplicate keys: ruamel
            sub = (*path, key)
            key_at = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            value = self.value(value_node, sub)
            mark = value_node.start_mark
            positions[sub] = (mark.line + 1, mark.column + 1) if value is not None else key_at
            positions.setdefault(path, key_at)
            out[key] = value
        return out

    def sequence(self, node: Any, path: Path_) -> list[Any]:
        if node.tag != _SEQ:
            raise _Unsupported
        items = []
        for index, item in enumerate(node.value):
            sub = (*path, index)
            self.loc.positions[sub] = (item.start_mark.line + 1, item.start_mark.column + 1)
            items.append(self.value(item, sub))
        return items

    def key(self, node: Any) -> str:
        if node.style in ('"', "'") and node.tag == _STR:
            return str(node.value)
        value = self.scalar(node, None)
        if not isinstance(value, str):  # ruamel would turn 1 or true into "1" or "True"
            raise _Unsupported
        return value

    def scalar(self, node: Any, path: Path_ | None) -> Any:
        text: str = node.value
        style = node.style
        kind = _STYLES.get(style)
        if kind is not None:  # quoted or block: always a string
            if node.tag != _STR:
                raise _Unsupported
            if path is not None:
                self.loc.styles[path] = kind
            return text
        if style not in (None, ""):
            raise _Unsupported
        implicit = self.implicit.resolve(  # type: ignore[no-untyped-call]
            yaml.ScalarNode, text, (True, False)
        )
        if node.tag != implicit:
            raise _Unsupported  # an explicit tag (libyaml reports no other difference)
        tag = self.tags.get(text)
        if tag is None:  # ruamel's resolver is slow and packs repeat their words
            tag = self.tags[text] = self.resolver.resolve(_RuamelScalar, text, (True, False))
        return _plain_scalar(tag, text)


def _plain_scalar(tag: str, text: str) -> Any:
    """A plain scalar typed as ruamel's YAML 1.2 resolver and the loader's ``_plain`` type it."""
    if tag == _STR:
        return text
    if tag == _NULL:
        return None
    if tag == _BOOL:
        return text.lower() == "true"
    if tag == _INT:
        if _DECIMAL.match(text):
            return int(text.replace("_", ""))
        lowered = text.lower()
        if lowered.startswith("0o"):
            return int(lowered[2:].replace("_", ""), 8)
        if lowered.startswith("0x"):
            return int(lowered[2:].replace("_", ""), 16)
        raise _Unsupported
    if tag == _FLOAT:
        special = _SPECIAL_FLOATS.get(text.lower())
        if special is not None:
            return special
        if _FLOAT_FORM.match(text) and any(c.isdigit() for c in text):
            return float(text.replace("_", ""))
        raise _Unsupported
    if tag == _TIMESTAMP:
        found = _DATE.match(text)
        if found:
            try:
                return date(*(int(g) for g in found.groups()))
            except ValueError as exc:
                raise _Unsupported from exc
    raise _Unsupported


__all__ = ["available", "located"]
