"""Pack test files: their format, and reading them with the file:line of every test.

A test file is YAML in a pack's ``tests/`` folder: a list of tests, or a mapping with
``tests:`` (and optionally ``schema: 1``). One test::

    - name: 取得执照但停产的企业诉求至少为重大     # unique within the file
      description: optional free text
      skip: 等待市场监管局确认口径                # optional: reported as skipped, not run
      now: 2026-03-02T09:00:00+08:00              # optional: the case's received_at default
      case:                                       # partial case (defaults below)
        domain: market_entry_operation
        content: 已取得营业执照，但一直无法经营
      expect:                                     # partial match of the decision
        severity: S3
        tier: major
        departments: {lead: gxq.scjgj, co: [gxq.zwfw]}
        experts: {required: [lawyer], suggested: {contains: [think_tank]}}
        tags: [准入不准营]                        # a list: exactly these (any order)
        deadlines: {resolve: 30 working days}     # listed clocks only; null = no such clock
        actions: {excludes: [notify-street-office]}
      golden: true                                # or a path: exact decision JSON file
      fired: [severity.cannot-operate]            # or {rules: [...], exact: true}
      not_fired: [expert.land-title]

Case defaults (documented in docs/tutorial.md): ``received_at`` is the test's ``now``
or 2026-01-05T09:00:00+08:00 (a Monday); the rest is ``model.partial.complete_case``, shared
with ``zhenshen eval``: every other field takes the case model's default (channel ``api``,
appeal type ``help``, empty content …); ``departments`` may list plain ids (co-departments),
``returns`` may be a number (that many returns), and an ``enterprise`` without a ``name`` is
named 测试企业.

Reading collects every problem of a file, located by line and column, instead of stopping at
the first one: a test author fixes them all in one go.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from zhenshen_core.echo import shown_input, shown_key
from zhenshen_core.errors import describe_validation_error
from zhenshen_core.model.case import SHANGHAI
from zhenshen_core.model.partial import DEFAULT_ENTERPRISE_NAME, complete_case
from zhenshen_core.rules.diagnostics import Diagnostic
from zhenshen_core.rules.engines.outputs import LIST_OUTPUTS
from zhenshen_core.rules.pack.limits import MAX_FILE_BYTES
from zhenshen_core.textio import TOO_MANY_VALUES, NotUtf8Error, read_text, too_many_values
from zhenshen_core.yamldata import data_yaml

DEFAULT_NOW = datetime(2026, 1, 5, 9, 0, tzinfo=SHANGHAI)

#: Decision fields whose expectation is a list (exact set) or ``{contains, excludes}``.
LIST_FIELDS = LIST_OUTPUTS


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ListExpect(_Strict):
    """A partial expectation of a list: these must be in it / must not be in it."""

    contains: list[str] = Field(default_factory=list)
    excludes: list[str] = Field(default_factory=list)


ListSpec = list[str] | ListExpect


class DepartmentsExpect(_Strict):
    lead: str | None = None
    co: ListSpec = Field(default_factory=list)


class ExpertsExpect(_Strict):
    required: ListSpec = Field(default_factory=list)
    suggested: ListSpec = Field(default_factory=list)


class Expect(_Strict):
    """The decision fields a test checks; a field left out is not checked."""

    severity: str | None = None
    tier: str | None = None
    chair: str | None = None
    departments: DepartmentsExpect | None = None
    experts: ExpertsExpect | None = None
    tags: ListSpec = Field(default_factory=list)
    deadlines: dict[str, str | None] = Field(default_factory=dict)
    actions: ListSpec = Field(default_factory=list)


class FiredExpect(_Strict):
    rules: list[str] = Field(min_length=1)
    exact: bool = False


class TestModel(_Strict):
    """One test as written (validated)."""

    name: str = Field(min_length=1, max_length=300)
    description: str = ""
    skip: str | bool | None = None
    now: datetime | date | None = None
    case: dict[str, Any] = Field(default_factory=dict)
    expect: Expect | None = None
    golden: str | bool | None = None
    fired: list[str] | FiredExpect | None = None
    not_fired: list[str] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if "\n" in value:
            raise ValueError("a test name is one line")
        return value.strip()


class TestFileModel(_Strict):
    schema_version: int = Field(default=1, alias="schema")
    description: str = ""
    tests: list[Any] = Field(default_factory=list)


def _dump_expect(expect: Expect | None) -> dict[str, Any]:
    """Only the keys the author wrote, as plain data (``exclude_unset``)."""
    if expect is None:
        return {}
    dumped: dict[str, Any] = expect.model_dump(exclude_unset=True)
    return dumped


@dataclass(frozen=True, eq=False)
class TestSpec:
    """A collected test: what to run and where it was written."""

    __test__ = False  # not a pytest class

    name: str
    file: Path
    line: int
    col: int
    index: int
    case: Mapping[str, Any]
    expect: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""
    skip: str | None = None
    now: datetime | None = None
    golden: Path | None = None
    fired: tuple[str, ...] = ()
    fired_exact: bool = False
    not_fired: tuple[str, ...] = ()
    #: line of each top-level key (``case``, ``expect`` …) for located messages
    key_lines: Mapping[str, int] = field(default_factory=dict)

    @property
    def nodeid(self) -> str:
        return f"{self.file}::{self.name}"

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass
class TestFile:
    """One file's tests and the problems found reading it."""

    __test__ = False

    path: Path
    tests: list[TestSpec] = field(default_factory=list)
    problems: list[Diagnostic] = field(default_factory=list)


# --- reading ----------------------------------------------------------------------------------


def _plain(node: Any) -> Any:
    if isinstance(node, Mapping):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, datetime):
        return (
            datetime.fromisoformat(node.isoformat())
            if node.tzinfo
            else datetime(*node.timetuple()[:6], node.microsecond)
        )
    if isinstance(node, date):
        return date(node.year, node.month, node.day)
    return str(node)


def _locate(node: Any, loc: Sequence[str | int]) -> tuple[int, int]:
    """1-based line and column of a pydantic error location inside a ruamel node."""
    line, col = 0, 0
    if hasattr(node, "lc"):
        line, col = node.lc.line, node.lc.col
    for part in loc:
        if isinstance(node, CommentedMap) and part in node:
            line, col = node.lc.key(part)
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
            line, col = node.lc.item(part)
            node = node[part]
        else:
            break
    return line + 1, col + 1


def _message(error: Mapping[str, Any]) -> str:
    if error["type"] == "extra_forbidden":
        key = str(error["loc"][-1])
        allowed = _allowed_keys(error["loc"][:-1])
        close = difflib.get_close_matches(key, allowed, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; allowed: {', '.join(allowed)}"
        return f"unknown key {shown_key(key)}{hint}"
    return describe_validation_error(error) + shown_input(error)


def _allowed_keys(loc: Sequence[Any]) -> list[str]:
    model: Any = TestModel
    for part in loc:
        if isinstance(part, int):
            continue
        info = getattr(model, "model_fields", {}).get(part)
        if info is None:
            return []
        annotation = info.annotation
        candidates = [
            a
            for a in getattr(annotation, "__args__", (annotation,))
            if isinstance(a, type) and issubclass(a, BaseModel)
        ]
        if not candidates:
            return []
        model = candidates[0]
    return list(getattr(model, "model_fields", {}))


def _slug(name: str) -> str:
    slug = re.sub(r"[^\w.-]+", "-", name, flags=re.UNICODE).strip("-._")
    return slug[:80] or "test"


def golden_path(test_file: Path, name: str, value: str | bool) -> Path:
    """Where a test's golden decision lives: the given path (relative to the test file) or
    ``golden/<file stem>/<test name>.json`` beside the test file."""
    if isinstance(value, str):
        return test_file.parent / value
    return test_file.parent / "golden" / test_file.stem / f"{_slug(name)}.json"


def read_test_file(path: Path, display: str | None = None) -> TestFile:
    """Read one test file; problems are collected, never raised."""
    shown = display or str(path)
    result = TestFile(Path(shown))
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            message = f"file of {size:,} bytes; the most is {MAX_FILE_BYTES:,}"
            result.problems.append(Diagnostic(shown, 1, 1, "P209", message))
            return result
        text = read_text(path)
    except OSError as exc:
        result.problems.append(Diagnostic(shown, 1, 1, "P208", f"cannot read test file: {exc}"))
        return result
    except NotUtf8Error as exc:
        where = exc.where
        result.problems.append(Diagnostic(shown, where.line, where.column, "P200", where.problem))
        return result
    yaml = data_yaml()
    try:
        doc = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        result.problems.append(
            Diagnostic(shown, line, col, "P200", f"YAML syntax error: {exc.problem or exc}")
        )
        return result
    except Exception as exc:  # duplicate keys and other ruamel complaints
        result.problems.append(Diagnostic(shown, 1, 1, "P200", f"YAML error: {exc}"))
        return result
    if doc is None:
        return result
    if too_many_values(doc):  # before validation walks every alias
        result.problems.append(Diagnostic(shown, 1, 1, "P200", TOO_MANY_VALUES))
        return result
    items: Any
    if isinstance(doc, CommentedMap):
        try:
            TestFileModel.model_validate(
                {k: None if k == "tests" else v for k, v in doc.items()} | {"tests": []}
            )
        except ValidationError as exc:
            for error in exc.errors(include_url=False):
                line, col = _locate(doc, error["loc"])
                result.problems.append(Diagnostic(shown, line, col, "P201", _file_message(error)))
        items = doc.get("tests") or CommentedSeq()
    else:
        items = doc
    if not isinstance(items, CommentedSeq):
        result.problems.append(
            Diagnostic(shown, 1, 1, "P201", "a test file is a list of tests (or has 'tests:')")
        )
        return result
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        line, col = items.lc.item(index)
        line, col = line + 1, col + 1
        if not isinstance(item, CommentedMap):
            result.problems.append(
                Diagnostic(
                    shown, line, col, "P201", "a test is a mapping with name, case, expect …"
                )
            )
            continue
        try:
            model = TestModel.model_validate(_plain(item))
        except ValidationError as exc:
            for error in exc.errors(include_url=False):
                eline, ecol = _locate(item, error["loc"])
                result.problems.append(Diagnostic(shown, eline, ecol, "P201", _message(error)))
            continue
        if model.name in seen:
            result.problems.append(
                Diagnostic(
                    shown,
                    line,
                    col,
                    "P202",
                    f"duplicate test name {model.name!r} (first at line {seen[model.name]})",
                )
            )
            continue
        seen[model.name] = line
        result.tests.append(_spec(model, path, shown, index, line, col, item))
    return result


def _file_message(error: Mapping[str, Any]) -> str:
    if error["type"] == "extra_forbidden":
        return (
            f"unknown key {shown_key(error['loc'][-1])} in a test file; allowed: schema, "
            "description, tests"
        )
    return describe_validation_error(error) + shown_input(error)


def _spec(
    model: TestModel, path: Path, shown: str, index: int, line: int, col: int, item: CommentedMap
) -> TestSpec:
    now: datetime | None = None
    if isinstance(model.now, datetime):
        now = model.now if model.now.tzinfo else model.now.replace(tzinfo=SHANGHAI)
    elif isinstance(model.now, date):
        now = datetime(model.now.year, model.now.month, model.now.day, 9, 0, tzinfo=SHANGHAI)
    skip: str | None = None
    if model.skip is True:
        skip = "skipped"
    elif isinstance(model.skip, str) and model.skip:
        skip = model.skip
    fired: tuple[str, ...] = ()
    exact = False
    if isinstance(model.fired, FiredExpect):
        fired, exact = tuple(model.fired.rules), model.fired.exact
    elif model.fired is not None:
        fired = tuple(model.fired)
    golden = None
    if model.golden not in (None, False):
        golden = golden_path(path, model.name, model.golden)
    key_lines = {str(k): item.lc.key(k)[0] + 1 for k in item}
    return TestSpec(
        name=model.name,
        file=Path(shown),
        line=line,
        col=col,
        index=index,
        case=model.case,
        expect=_dump_expect(model.expect),
        description=model.description,
        skip=skip,
        now=now,
        golden=golden,
        fired=fired,
        fired_exact=exact,
        not_fired=tuple(model.not_fired),
        key_lines=key_lines,
    )


def case_data(test: TestSpec) -> dict[str, Any]:
    """The full case mapping for a test's partial case: ``complete_case``, the one reading of
    partial cases that ``zhenshen eval`` shares, with the test's ``now`` as ``received_at``."""
    return complete_case(test.case, received_at=test.now or DEFAULT_NOW)


__all__ = [
    "DEFAULT_ENTERPRISE_NAME",
    "DEFAULT_NOW",
    "LIST_FIELDS",
    "Expect",
    "TestFile",
    "TestModel",
    "TestSpec",
    "case_data",
    "golden_path",
    "read_test_file",
]
