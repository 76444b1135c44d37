"""The expression parser's LALR tables, kept as JSON next to this module.

Building a lark LALR parser from the grammar costs 30-50 ms, paid by every command that loads a
pack: a third of ``zhenshen eval``'s start-up on a 20,000-case file. Lark can rebuild the same
parser from its own serialised form in about a millisecond. That form is plain data (dicts,
lists, strings, numbers); lark's ``save``/``load`` would pickle it, and a pickle is code, so it
is written as JSON instead, read with ``json`` and handed to ``Lark.load`` as a dict, which lark
accepts without unpickling anything.

The file records the grammar's and the parser options' SHA-256 and lark's version; when either
differs (a grammar edit, another lark), the tables are not used and the parser is built from
the grammar as before. ``make grammar-tables`` rewrites the file; a test fails when it is
stale.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import lark
from lark import Lark
from lark.grammar import Rule
from lark.lexer import TerminalDef

TABLES = Path(__file__).with_name("grammar_tables.json")

#: JSON objects have string keys; lark's tables also have integer-keyed dicts (states, tokens,
#: the memo). Those are written as ``{INT_KEYS: [[key, value], ...]}``.
INT_KEYS = "__int_keys__"


def fingerprint(grammar: str, options: dict[str, Any]) -> str:
    """What the tables were built from: the grammar and the options lark was given."""
    text = grammar + "\n" + json.dumps(options, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _encode(value: Any) -> Any:
    if isinstance(value, dict):
        if value and all(type(k) is int for k in value):
            return {INT_KEYS: [[k, _encode(v)] for k, v in value.items()]}
        if not all(type(k) is str for k in value):
            raise TypeError(f"cannot keep keys {sorted(map(repr, value))[:3]} as JSON")
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"not plain data: {type(value).__name__}")


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        pairs = value.get(INT_KEYS)
        if pairs is not None and len(value) == 1:
            return {k: _decode(v) for k, v in pairs}
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def tables_of(parser: Lark, grammar: str, options: dict[str, Any]) -> dict[str, Any]:
    """The JSON document for ``parser`` (built from ``grammar`` with ``options``)."""
    data, memo = parser.memo_serialize([TerminalDef, Rule])
    return {
        "fingerprint": fingerprint(grammar, options),
        "lark": lark.__version__,
        "data": _encode(data),
        "memo": _encode(memo),
    }


def load_parser(grammar: str, options: dict[str, Any], path: Path = TABLES) -> Lark | None:
    """The parser rebuilt from ``path``, or None when the file is missing, unreadable or was
    made from another grammar, other options or another lark version."""
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if (
        not isinstance(saved, dict)
        or saved.get("fingerprint") != fingerprint(grammar, options)
        or saved.get("lark") != lark.__version__
    ):
        return None
    try:
        return Lark.load({"data": _decode(saved["data"]), "memo": _decode(saved["memo"])})
    except Exception:  # damaged tables: build the parser from the grammar instead
        return None


def write_tables(grammar: str, options: dict[str, Any], path: Path = TABLES) -> Path:
    parser = Lark(grammar, **options)
    text = json.dumps(tables_of(parser, grammar, options), ensure_ascii=False, sort_keys=True)
    path.write_text(text + "\n", encoding="utf-8")
    return path
