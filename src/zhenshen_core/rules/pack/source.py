"""Reading pack YAML with positions: every key's and value's line and column.

Every problem is reported as ``file:line:col: CODE message``. Positions come from libyaml's
node marks (``yaml_fast``) or, for whatever that reader declines, ruamel.yaml's round-trip
loader, which keeps the line and column of every key and value; pydantic error locations are
mapped back onto them (``report_validation``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.scalarstring import (
    DoubleQuotedScalarString,
    FoldedScalarString,
    LiteralScalarString,
    SingleQuotedScalarString,
)

from zhenshen_core.echo import shorten, showable, shown_input
from zhenshen_core.rules.diagnostics import (
    DiagnosticSink,
)
from zhenshen_core.rules.pack import yaml_fast
from zhenshen_core.rules.pack.limits import MAX_FILE_BYTES
from zhenshen_core.rules.pack.located import Located, Path_
from zhenshen_core.textio import (
    TOO_DEEP,
    TOO_MANY_VALUES,
    NotUtf8Error,
    decode,
    too_many_values,
)
from zhenshen_core.yamldata import data_yaml


def _plain(node: Any, path: Path_, loc: Located) -> Any:
    lc = getattr(node, "lc", None)
    if isinstance(node, Mapping):
        out: dict[str, Any] = {}
        for key, value in node.items():
            sub = (*path, str(key))
            if lc is not None:
                line, col = lc.value(key) if value is not None else lc.key(key)
                loc.positions[sub] = (line + 1, col + 1)
                kline, kcol = lc.key(key)
                loc.positions.setdefault(path, (kline + 1, kcol + 1))
            out[str(key)] = _plain(value, sub, loc)
        return out
    if isinstance(node, list):
        items = []
        for i, value in enumerate(node):
            sub = (*path, i)
            if lc is not None:
                line, col = lc.item(i)
                loc.positions[sub] = (line + 1, col + 1)
            items.append(_plain(value, sub, loc))
        return items
    if isinstance(node, DoubleQuotedScalarString | SingleQuotedScalarString):
        loc.styles[path] = "quoted"
        return str(node)
    if isinstance(node, LiteralScalarString | FoldedScalarString):
        loc.styles[path] = "block"
        return str(node)
    if isinstance(node, bool):
        return bool(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, datetime):
        return node.date() if (node.hour, node.minute, node.second) == (0, 0, 0) else node
    if isinstance(node, date):
        return date(node.year, node.month, node.day)
    if isinstance(node, str):
        return str(node)
    return node


def read_yaml(path: Path, sink: DiagnosticSink, display: str | None = None) -> Located | None:
    """Parse one YAML file, or record a located P200 and return None."""
    name = display or str(path)
    try:
        if path.exists() and not path.is_file():  # a pipe would block, a device never end
            sink.error(name, 1, 1, "P208", "cannot read file: not a regular file")
            return None
        with path.open("rb") as handle:  # never more than the limit, however large the file
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        sink.error(name, 1, 1, "P208", f"cannot read file: {exc.strerror or exc}")
        return None
    if len(raw) > MAX_FILE_BYTES:
        sink.error(name, 1, 1, "P209", f"file larger than {MAX_FILE_BYTES:,} bytes (the limit)")
        return None
    try:
        text = decode(raw, name)
    except NotUtf8Error as exc:
        sink.error(name, exc.where.line, exc.where.column, "P200", exc.where.problem)
        return None
    try:
        return _parsed(text, name, sink)
    except yaml_fast.NestedTooDeeply as exc:
        sink.error(name, exc.line, exc.column, "P200", f"YAML: {TOO_DEEP}")
    except RecursionError:  # the YAML parsers recurse once per level of nesting
        sink.error(name, 1, 1, "P200", f"YAML: {TOO_DEEP}")
    return None


def _parsed(text: str, name: str, sink: DiagnosticSink) -> Located | None:
    fast = yaml_fast.located(text, name)
    if fast is not None:
        return fast
    yaml = data_yaml()
    yaml.preserve_quotes = True
    try:
        data = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        sink.error(name, line, col, "P200", f"YAML: {problem}".strip())
        return None
    except YAMLError as exc:
        sink.error(name, 1, 1, "P200", f"YAML: {exc}")
        return None
    if too_many_values(data):  # checked before anything walks the aliases
        sink.error(name, 1, 1, "P200", TOO_MANY_VALUES)
        return None
    loc = Located(name, None, lines=text.splitlines())
    loc.data = _plain(data, (), loc)
    return loc


def report_validation(
    exc: ValidationError, loc: Located, base: Path_, sink: DiagnosticSink, rule: str | None = None
) -> None:
    """Each of pydantic's errors as a located ``P201``; what it repeats of the input follows
    ``zhenshen_core.echo`` (an unknown key is named, its value never shown)."""
    for err in exc.errors(include_url=False):
        where = (*base, *err["loc"])
        line, col = loc.at(where)
        message = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = "unknown key (check the spelling; keys are listed by 'zhenshen schema pack')"
        text = f"{dotted(where)}: {message}{shown_input(err)}"
        sink.error(loc.file, line, col, "P201", text, rule=rule, input=showable(err))


def dotted(where: Path_) -> str:
    """A location as ``rules.0.then`` (each part shortened, so a long unknown key is too)."""
    return ".".join(str(p) if isinstance(p, int) else shorten(str(p)) for p in where)


# ---------------------------------------------------------------------------------------------
# Raw packs (validated files, before extends and type checks).


__all__ = ["MAX_FILE_BYTES", "dotted", "read_yaml", "report_validation"]
