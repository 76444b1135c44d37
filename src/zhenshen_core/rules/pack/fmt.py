"""Canonical formatting of rule-pack YAML (``zhenshen fmt``), keeping every comment.

Why a formatter of our own instead of ruamel.yaml's dumper: staff review rule changes as diffs,
so a pack must have one spelling — the same key order, quoting and indentation whoever edited it
— and comments must travel with the key or list item they describe when keys are reordered.
ruamel.yaml's round-trip dumper keeps the *original* layout (that is its job) and attaches a
comment to whatever precedes it, so reordering moves comments to the wrong place.

So the formatter reads the file with ruamel.yaml (values, and the line of every key and item),
finds comments with ruamel.yaml's scanner (a ``#`` outside every scalar token), attaches each
comment to the node it describes, and writes the tree out itself:

* a full-line comment belongs to the next key or item (the outermost one starting on the next
  content line), and moves with it;
* an end-of-line comment belongs to the outermost key or item that lies wholly on that line (or,
  for a header line such as ``rules:  # …``, to that key);
* comments before the first key, separated from it by a blank line, are the file's head and stay
  at the top.

The canonical form: 2-space indentation, list items indented under their key; keys in the
documented order (``KEY_ORDER``; unknown keys keep their relative order after the known ones);
strings plain when YAML reads them back as the same string, otherwise double-quoted (single-quoted
when they contain a double quote, a literal block when they span lines); a mapping or list of
scalars in flow style when it has no comments inside and fits in 100 columns (a rule's
``then`` always as a block); a blank line
between the top-level keys that hold blocks and between the items of a top-level list whose
items are all written as blocks; a long one-line string with spaces (a long ``when``) folded
(``>-``) at word boundaries. Formatting is idempotent:
``format_yaml(format_yaml(x)) == format_yaml(x)``.

Over 600 lines on purpose: formatting keeps comments, key order and quoting of hand-written
YAML, which takes one careful walk over ruamel's round-trip tree; its parts are not reused
elsewhere.
"""

from __future__ import annotations

import bisect
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.resolver import VersionedResolver
from ruamel.yaml.tokens import ScalarToken

from zhenshen_core.errors import ZhenshenError
from zhenshen_core.rules.diagnostics import Diagnostic
from zhenshen_core.textio import read_text
from zhenshen_core.yamldata import data_yaml

WIDTH = 100
INDENT = 2
#: Keys whose mapping is always written as a block: a rule's outcomes read best one per line.
ALWAYS_BLOCK = frozenset({"then"})

FileKind = Literal["pack", "rules", "tests", "generic"]


def _model_keys(model: Any) -> list[str]:
    return list(model.model_fields)


def _case_orders() -> dict[str, list[str]]:
    """Key order of test cases follows the case model's own field order."""
    from zhenshen_core.model.case import (
        Case,
        DepartmentAssignment,
        Enterprise,
        Location,
        Requester,
    )

    return {
        "tests[].case": _model_keys(Case),
        "tests[].case.enterprise": _model_keys(Enterprise),
        "tests[].case.requester": _model_keys(Requester),
        "tests[].case.location": _model_keys(Location),
        "tests[].case.departments[]": _model_keys(DepartmentAssignment),
    }


_RULE_ORDERS: dict[str, list[str]] = {
    "rules[]": ["id", "description", "stage", "priority", "when", "then"],
    "rules[].then": [
        "severity",
        "tier",
        "chair",
        "tags",
        "experts",
        "departments",
        "deadlines",
        "actions",
    ],
    "rules[].then.severity": ["at_least", "bump"],
    "rules[].then.experts": ["require", "suggest", "reason"],
    "rules[].then.departments": ["lead", "co"],
    "tables[]": [
        "id",
        "description",
        "stage",
        "hit",
        "priority",
        "inputs",
        "outputs",
        "output_order",
        "rows",
    ],
}

#: Documented key order per file kind and path (``[]`` is "any list item").
KEY_ORDER: dict[FileKind, dict[str, list[str]]] = {
    "pack": {
        "": [
            "schema",
            "id",
            "version",
            "name",
            "description",
            "extends",
            "calendar",
            "severity_levels",
            "default_tier",
            "default_chair",
            "departments",
            "experts",
            "domains",
            "include",
            "disable",
            "rules",
            "tables",
        ],
        "departments[]": ["id", "name", "short_names", "aliases", "valid_from", "valid_to"],
        "experts[]": ["id", "name"],
        "domains[]": ["id", "name"],
        **_RULE_ORDERS,
    },
    "rules": {"": ["schema", "description", "rules", "tables"], **_RULE_ORDERS},
    "tests": {
        "": ["schema", "description", "tests"],
        "tests[]": [
            "name",
            "description",
            "skip",
            "now",
            "case",
            "expect",
            "golden",
            "fired",
            "not_fired",
        ],
        "tests[].expect": [
            "severity",
            "tier",
            "chair",
            "departments",
            "experts",
            "tags",
            "deadlines",
            "actions",
        ],
        "tests[].expect.departments": ["lead", "co"],
        "tests[].expect.experts": ["required", "suggested"],
        "tests[].fired": ["rules", "exact"],
    },
    "generic": {},
}


class FormatError(ZhenshenError):
    """A file could not be formatted (YAML syntax, anchors, several documents)."""

    exit_code = 3

    def __init__(self, diagnostic: Diagnostic) -> None:
        self.diagnostic = diagnostic
        super().__init__(str(diagnostic))


# --- the tree ---------------------------------------------------------------------------------


@dataclass(eq=False)
class _Entry:
    key: Any  # None for list items
    value: _Node
    line: int
    before: list[str] = field(default_factory=list)
    eol: str | None = None


@dataclass(eq=False)
class _Map:
    entries: list[_Entry]


@dataclass(eq=False)
class _Seq:
    items: list[_Entry]


@dataclass(eq=False)
class _Scalar:
    value: Any


_Node = _Map | _Seq | _Scalar


def _build(data: Any, source: str) -> _Node:
    if isinstance(data, CommentedMap):
        if data.merge:
            raise _located(source, data.lc.line, data.lc.col, "merge keys (<<) are not supported")
        return _Map([_Entry(k, _build(v, source), data.lc.key(k)[0]) for k, v in data.items()])
    if isinstance(data, CommentedSeq):
        return _Seq(
            [_Entry(None, _build(v, source), data.lc.item(i)[0]) for i, v in enumerate(data)]
        )
    if isinstance(data, dict | list):  # pragma: no cover - the round-trip loader never does this
        raise _located(source, 0, 0, "unsupported YAML structure")
    return _Scalar(data)


def _located(source: str, line: int, col: int, message: str) -> FormatError:
    return FormatError(Diagnostic(source, line + 1, col + 1, "P200", message))


def _walk(node: _Node, depth: int = 0) -> Iterator[tuple[_Entry, int]]:
    """Entries in document order, parents before children."""
    children = (
        node.entries if isinstance(node, _Map) else node.items if isinstance(node, _Seq) else []
    )
    for entry in children:
        yield entry, depth
        yield from _walk(entry.value, depth + 1)


def _last_line(entry: _Entry) -> int:
    last = entry.line
    for child, _ in _walk(entry.value):
        last = max(last, child.line)
    return last


# --- comments ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Comment:
    line: int
    text: str
    full_line: bool


def _find_comments(text: str, yaml: YAML) -> list[_Comment]:
    """Every ``#`` comment: a ``#`` at a line start or after blank space, outside all scalars."""
    spans: list[tuple[int, int]] = []
    for token in yaml.scan(text):
        if isinstance(token, ScalarToken):
            spans.append((token.start_mark.index, token.end_mark.index))
    starts = [s for s, _ in spans]
    comments: list[_Comment] = []
    offset = 0
    for number, line in enumerate(text.splitlines(keepends=True)):
        for match in re.finditer("#", line):
            col = match.start()
            if col > 0 and line[col - 1] not in " \t":
                continue
            index = offset + col
            k = bisect.bisect_right(starts, index) - 1
            if k >= 0 and spans[k][0] <= index < spans[k][1]:
                continue
            body = line[col:].rstrip("\r\n").rstrip()
            comments.append(_Comment(number, body, line[:col].strip() == ""))
            break
        offset += len(line)
    return comments


def _attach(root: _Node, comments: list[_Comment], text: str) -> tuple[list[str], list[str]]:
    """Attach comments to entries; returns the file's head and tail comment lines."""
    entries = [e for e, _ in _walk(root)]
    if not entries:
        return [c.text for c in comments], []
    lines = [e.line for e in entries]
    head: list[str] = []
    tail: list[str] = []
    first_line = entries[0].line
    leading = [c for c in comments if c.full_line and c.line < first_line]
    source_lines = text.splitlines()
    if leading:
        gap = source_lines[leading[-1].line + 1 : first_line]
        if any(not s.strip() for s in gap):
            head = [c.text for c in leading]
    for comment in comments:
        if comment.full_line:
            if head and comment.line < first_line:
                continue
            k = bisect.bisect_right(lines, comment.line)
            if k < len(entries):
                entries[k].before.append(comment.text)
            else:
                tail.append(comment.text)
            continue
        on_line = [e for e in entries if e.line == comment.line]
        target = next((e for e in on_line if _last_line(e) == comment.line), None)
        if target is None and on_line:
            target = on_line[-1]
        if target is None or target.eol is not None:
            k = bisect.bisect_right(lines, comment.line)
            if k < len(entries):
                entries[k].before.append(comment.text)
            else:
                tail.append(comment.text)
            continue
        target.eol = comment.text
    return head, tail


def _has_comments(node: _Node) -> bool:
    return any(e.before or e.eol for e, _ in _walk(node))


# --- key order --------------------------------------------------------------------------------


def detect_kind(data: Any, path: str | None) -> FileKind:
    """Which documented key order applies: by file name, folder, then shape."""
    p = Path(path) if path else None
    if p is not None and p.name in ("pack.yaml", "pack.yml"):
        return "pack"
    if isinstance(data, CommentedSeq) or (isinstance(data, CommentedMap) and "tests" in data):
        return "tests"
    if p is not None and "tests" in p.parts[:-1] and isinstance(data, CommentedSeq):
        return "tests"
    if isinstance(data, CommentedMap) and ("rules" in data or "tables" in data):
        return "rules"
    return "generic"


def _orders(kind: FileKind) -> dict[str, list[str]]:
    orders = dict(KEY_ORDER[kind])
    if kind == "tests":
        orders.update(_case_orders())
    return orders


def _reorder(node: _Node, path: str, orders: dict[str, list[str]]) -> None:
    if isinstance(node, _Map):
        order = orders.get(path)
        if order:
            rank = {k: i for i, k in enumerate(order)}
            node.entries.sort(
                key=lambda e: rank.get(e.key, len(rank)) if isinstance(e.key, str) else len(rank)
            )
        for entry in node.entries:
            sub = f"{path}.{entry.key}" if path else str(entry.key)
            _reorder(entry.value, sub, orders)
    elif isinstance(node, _Seq):
        for item in node.items:
            _reorder(item.value, f"{path}[]", orders)


# --- scalars ----------------------------------------------------------------------------------

_RESOLVER = VersionedResolver()
_INDICATORS = set("-?:,[]{}#&*!|>'\"%@`")
_FLOW_UNSAFE = set(",[]{}")
_STR_TAG = "tag:yaml.org,2002:str"
_YAML11_BOOLS = frozenset({"yes", "no", "on", "off", "y", "n"})


def _plain_ok(value: str, flow: bool) -> bool:
    if not value or value != value.strip() or value[0] in _INDICATORS:
        return False
    if any(ch in value for ch in "\n\r\t") or not value.isprintable():
        return False
    if ": " in value or " #" in value or value.endswith(":"):
        return False
    if flow and any(ch in _FLOW_UNSAFE for ch in value):
        return False
    if value.lower() in _YAML11_BOOLS:  # YAML 1.1 tools (and readers) take these for booleans
        return False
    tag = _RESOLVER.resolve(ScalarNode, value, (True, False))
    return bool(tag == _STR_TAG)


def _quote(value: str) -> str:
    if '"' in value and "'" not in value and value.isprintable():
        return "'" + value + "'"
    return json.dumps(value, ensure_ascii=False)


def _literal_ok(value: str) -> bool:
    if "\n" not in value or value[0] in " \t\n":
        return False
    body = value.rstrip("\n")
    return all(ch.isprintable() or ch == "\t" for ch in body.replace("\n", "")) and not any(
        line != line.rstrip(" \t") for line in body.split("\n")
    )


def _scalar(value: Any, flow: bool) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        f = float(value)
        if f != f:
            return ".nan"
        if f in (float("inf"), float("-inf")):
            return ".inf" if f > 0 else "-.inf"
        return repr(f)
    if isinstance(value, datetime):
        return datetime.isoformat(value)
    if isinstance(value, date):
        return date.isoformat(value)
    text = str(value)
    return text if _plain_ok(text, flow) else _quote(text)


def _is_multiline(value: Any) -> bool:
    return isinstance(value, str) and "\n" in value


# --- emitting ---------------------------------------------------------------------------------


def _flow(node: _Node) -> str | None:
    """The one-line flow rendering of a leaf collection, or None when it has none."""
    if isinstance(node, _Scalar):
        if _is_multiline(node.value):
            return None
        return _scalar(node.value, flow=True)
    if isinstance(node, _Seq):
        parts = []
        for item in node.items:
            if not isinstance(item.value, _Scalar):
                return None
            part = _flow(item.value)
            if part is None:
                return None
            parts.append(part)
        return "[" + ", ".join(parts) + "]"
    parts = []
    for entry in node.entries:
        if isinstance(entry.value, _Map):
            return None
        rendered = _flow(entry.value)
        if rendered is None:
            return None
        parts.append(f"{_scalar(entry.key, flow=True)}: {rendered}")
    return "{" + ", ".join(parts) + "}"


def _empty(node: _Node) -> str | None:
    if isinstance(node, _Map) and not node.entries:
        return "{}"
    if isinstance(node, _Seq) and not node.items:
        return "[]"
    return None


def _inline(node: _Node, column: int) -> str | None:
    """A collection rendered on the current line, if the canonical form says so."""
    empty = _empty(node)
    if empty is not None:
        return empty
    if _has_comments(node):
        return None
    rendered = _flow(node)
    if rendered is None or column + _cells(rendered) > WIDTH:
        return None
    return rendered


def _with_eol(line: str, eol: str | None) -> str:
    return f"{line}  {eol}" if eol else line


def _literal(value: str, indent: int) -> tuple[str, list[str]]:
    trailing = len(value) - len(value.rstrip("\n"))
    chomp = "-" if trailing == 0 else "" if trailing == 1 else "+"
    body = value[: len(value) - trailing] if trailing else value
    pad = " " * indent
    lines = [pad + line if line else "" for line in body.split("\n")]
    lines.extend([""] * (trailing - 1))
    return "|" + chomp, lines


def _cells(text: str) -> int:
    """Display width: CJK characters take two columns, which is what an editor shows."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _folded(value: Any, indent: int) -> list[str] | None:
    """Lines of a folded (``>-``) scalar for a long one-line string, or None when folding could
    change it (no spaces to break at, doubled or edge spaces, tabs, control characters)."""
    if not isinstance(value, str) or " " not in value or "\n" in value or "\t" in value:
        return None
    if value != value.strip() or "  " in value or not value.isprintable():
        return None
    pad = " " * indent
    lines: list[str] = []
    current = ""
    for word in value.split(" "):
        if current and len(pad) + _cells(current) + 1 + _cells(word) > WIDTH:
            lines.append(pad + current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    lines.append(pad + current)
    return lines if len(lines) > 1 else None


class _Emitter:
    """Writes the tree; ``depth`` 0 is the root collection, 1 its values (rules:, tests: …)."""

    def __init__(self) -> None:
        self.out: list[str] = []

    def comments(self, texts: Sequence[str], indent: int) -> None:
        self.out.extend(" " * indent + t for t in texts)

    def value_after(self, prefix: str, entry: _Entry, indent: int, depth: int) -> None:
        """Write ``prefix`` (``key:`` or ``-``) and the entry's value, inline or as a block."""
        node = entry.value
        if isinstance(node, _Scalar):
            if _is_multiline(node.value) and _literal_ok(node.value):
                header, lines = _literal(node.value, indent + INDENT)
                self.out.append(_with_eol(f"{prefix} {header}", entry.eol))
                self.out.extend(lines)
            else:
                text = _scalar(node.value, flow=False)
                too_long = _cells(prefix) + 1 + _cells(text) > WIDTH
                folded = _folded(node.value, indent + INDENT) if too_long else None
                if folded is not None:
                    self.out.append(_with_eol(f"{prefix} >-", entry.eol))
                    self.out.extend(folded)
                else:
                    self.out.append(_with_eol(f"{prefix} {text}", entry.eol))
            return
        inline = _empty(node) if entry.key in ALWAYS_BLOCK else _inline(node, len(prefix) + 1)
        if inline is not None:
            self.out.append(_with_eol(f"{prefix} {inline}", entry.eol))
            return
        self.out.append(_with_eol(prefix, entry.eol))
        if isinstance(node, _Map):
            self.mapping(node, indent + INDENT, depth + 1)
        else:
            self.sequence(node, indent + INDENT, depth + 1)

    def mapping(self, node: _Map, indent: int, depth: int) -> None:
        pad = " " * indent
        for i, entry in enumerate(node.entries):
            block = (
                _inline(entry.value, indent + len(str(entry.key)) + 2) is None
                if isinstance(entry.value, _Map | _Seq)
                else False
            )
            if depth == 0 and i > 0 and (block or entry.before):
                self.out.append("")
            self.comments(entry.before, indent)
            key = _scalar(entry.key, flow=False)
            self.value_after(f"{pad}{key}:", entry, indent, depth)

    def sequence(self, node: _Seq, indent: int, depth: int) -> None:
        pad = " " * indent
        # Records of a top-level list (rules, tables, tests) are separated by a blank line
        # when every item is written as a block; short flow items stay together.
        spaced = depth <= 1 and all(
            isinstance(i.value, _Map) and _inline(i.value, indent + 2) is None for i in node.items
        )
        for i, item in enumerate(node.items):
            value = item.value
            block_map = isinstance(value, _Map) and _inline(value, indent + 2) is None
            if spaced and i > 0:
                self.out.append("")
            if isinstance(value, _Map) and block_map:
                first = value.entries[0]
                self.comments([*item.before, *first.before], indent)
                first.before = []
                if item.eol:
                    if first.eol is None and not isinstance(first.value, _Map | _Seq):
                        first.eol = item.eol
                    else:
                        self.comments([item.eol], indent)
                inner = _Emitter()
                inner.mapping(value, indent + INDENT, depth + 1)
                lines = inner.out
                self.out.append(f"{pad}- " + lines[0][indent + INDENT :])
                self.out.extend(lines[1:])
                continue
            self.comments(item.before, indent)
            self.value_after(f"{pad}-", item, indent, depth)


def format_yaml(text: str, path: str | None = None, kind: FileKind | None = None) -> str:
    """The canonical form of one YAML file (see the module docstring).

    Raises :class:`FormatError` with ``file:line:col`` for YAML it cannot format.
    """
    source = path or "<string>"
    yaml = data_yaml()
    try:
        docs = list(yaml.load_all(text))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line, mark.column) if mark is not None else (0, 0)
        raise _located(source, line, col, f"YAML syntax error: {exc.problem or exc}") from exc
    except Exception as exc:  # ruamel raises a few non-marked errors (e.g. duplicate keys)
        raise _located(source, 0, 0, f"YAML error: {exc}") from exc
    if len(docs) > 1:
        raise _located(source, 0, 0, "a pack file holds one YAML document, found several")
    if "&" in text or "*" in text:
        _refuse_anchors(text, yaml, source)
    data = docs[0] if docs else None
    comments = _find_comments(text, yaml)
    if data is None or not isinstance(data, CommentedMap | CommentedSeq):
        body = [] if data is None else [_scalar(data, flow=False)]
        lines = [c.text for c in comments] + body
        return "\n".join(lines) + "\n" if lines else ""
    root = _build(data, source)
    head, tail = _attach(root, comments, text)
    kind = kind or detect_kind(data, path)
    _reorder(root, "tests" if kind == "tests" and isinstance(root, _Seq) else "", _orders(kind))
    emitter = _Emitter()
    if head:
        emitter.out.extend([*head, ""])
    if isinstance(root, _Map):
        emitter.mapping(root, 0, 0)
    elif isinstance(root, _Seq):
        if not root.items:
            emitter.out.append("[]")
        emitter.sequence(root, 0, 0)
    if tail:
        emitter.out.extend(tail)
    return "\n".join(emitter.out) + "\n"


def _refuse_anchors(text: str, yaml: YAML, source: str) -> None:
    from ruamel.yaml.tokens import AliasToken, AnchorToken

    for token in yaml.scan(text):
        if isinstance(token, AnchorToken | AliasToken):
            raise _located(
                source,
                token.start_mark.line,
                token.start_mark.column,
                "anchors and aliases are not supported in pack files; write the value out",
            )


# --- files ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FormatResult:
    """One file: its text before and after formatting."""

    path: Path
    original: str
    formatted: str

    @property
    def changed(self) -> bool:
        return self.original != self.formatted

    def diff(self) -> str:
        import difflib

        return "".join(
            difflib.unified_diff(
                self.original.splitlines(keepends=True),
                self.formatted.splitlines(keepends=True),
                fromfile=f"{self.path} (original)",
                tofile=f"{self.path} (formatted)",
            )
        )


def format_file(path: Path) -> FormatResult:
    text = read_text(path)  # NotUtf8Error says where the file stops being UTF-8
    return FormatResult(path, text, format_yaml(text, path=str(path)))


def iter_yaml_files(paths: Iterable[Path]) -> Iterator[Path]:
    """YAML files named directly, or found under folders (hidden folders are skipped)."""
    seen: set[Path] = set()
    for path in paths:
        if path.is_dir():
            candidates = sorted(
                p
                for p in path.rglob("*")
                if p.suffix in (".yaml", ".yml")
                and p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        else:
            candidates = [path]
        for candidate in candidates:
            if candidate not in seen:
                seen.add(candidate)
                yield candidate


__all__ = [
    "KEY_ORDER",
    "FormatError",
    "FormatResult",
    "detect_kind",
    "format_file",
    "format_yaml",
    "iter_yaml_files",
]
