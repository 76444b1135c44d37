"""Profile tests: source rows with the case fields they must give, written by the district
that writes the profile (``zhenshen profile test``, pytest's exit codes).

A tests file names its profile and lists tests; each test is a ``row`` (column → value, as the
platform exports it) and either ``expect`` (case fields it must give, partially matched) or
``reject`` (a text the rejection must contain: the record goes to dead letters)::

    profile: profile.yaml
    tests:
      - name: 投诉 with a classification code
        row: {工单编号: GD001, 来电时间: "2026/3/4 9:05", 诉求类型: 投诉}
        expect: {external_id: GD001, appeal_type: complaint}
      - name: a call time that is no date is rejected
        row: {工单编号: GD002, 来电时间: 昨天}
        reject: 来电时间
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from zhenshen_core.errors import CaseValidationError
from zhenshen_core.intake.profiles.converters import ConversionError, enum_reader
from zhenshen_core.intake.profiles.load import ProfileError, load_profile
from zhenshen_core.intake.profiles.mapper import MappingError, Profile, get_path
from zhenshen_core.intake.profiles.targets import CO, LEAD, target_for
from zhenshen_core.model.case import SHANGHAI
from zhenshen_core.model.identity import mask_phone
from zhenshen_core.rules import Diagnostic, DiagnosticSink, Located, read_yaml

TESTS_SUFFIX = ".tests.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProfileTest(_Strict):
    """One test: a source row and what it must give."""

    name: str = Field(min_length=1)
    row: dict[str, Any] = Field(description="column → value, as the platform exports it")
    expect: dict[str, Any] = Field(
        default_factory=dict,
        description="case fields (dotted or nested; `lead_department`, `co_departments`) the "
        "row must give; lists are compared whole, mappings partially",
    )
    reject: str | None = Field(
        default=None,
        description="the row must be rejected, with this text in the reason ('' for any)",
    )


class ProfileTestFile(_Strict):
    """``*.tests.yaml``: the profile under test (relative to this file) and its tests."""

    profile: str = Field(description="path of the profile, relative to the tests file")
    tests: list[ProfileTest]


@dataclass
class TestOutcome:
    """What one test gave: passed, or the problems (each a line for the terminal)."""

    __test__ = False  # not a pytest class

    file: str
    name: str
    line: int
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems

    @property
    def nodeid(self) -> str:
        return f"{self.file}::{self.name}"


def collect_tests(paths: Sequence[str | Path]) -> list[Path]:
    """Tests files for ``paths``: a tests file itself, a profile's ``<stem>.tests.yaml``
    beside it, every ``*.tests.yaml`` under a folder."""
    found: dict[Path, None] = {}
    for given in map(Path, paths):
        if given.is_dir():
            found.update(dict.fromkeys(sorted(given.rglob(f"*{TESTS_SUFFIX}"))))
        elif given.name.endswith(TESTS_SUFFIX):
            found[given] = None
        else:
            sibling = given.with_name(given.name.rsplit(".", 1)[0] + TESTS_SUFFIX)
            if sibling.is_file():
                found[sibling] = None
    return list(found)


def read_tests(path: Path) -> tuple[ProfileTestFile, Located]:
    """The tests file, or :class:`ProfileError` with its located problems."""
    sink = DiagnosticSink()
    loc = read_yaml(path, sink, str(path))
    if loc is None:
        raise ProfileError(sink.items, str(path))
    try:
        return ProfileTestFile.model_validate(loc.data), loc
    except ValidationError as exc:
        for err in exc.errors(include_url=False):
            line, col = loc.at(err["loc"])
            dotted = ".".join(str(p) for p in err["loc"])
            sink.error(str(path), line, col, "M500", f"{dotted}: {err['msg']}")
        raise ProfileError(sink.items, str(path)) from None


def run_profile_tests(
    path: Path, *, pack: Any = None, profile: Profile | None = None
) -> list[TestOutcome]:
    """Run one tests file; :class:`ProfileError` when it or its profile cannot be loaded."""
    tests, loc = read_tests(path)
    if profile is None:
        profile_path = (path.parent / tests.profile).resolve()
        if not profile_path.is_file():
            line, col = loc.at(("profile",))
            raise ProfileError(
                [Diagnostic(str(path), line, col, "P208", f"no such profile: {profile_path}")],
                str(path),
            )
        profile = load_profile(profile_path, pack=pack, display=_shown(profile_path))
    outcomes = []
    for index, test in enumerate(tests.tests):
        line, _ = loc.at(("tests", index))
        outcome = TestOutcome(str(path), test.name, line)
        outcome.problems = _run_one(profile, test)
        outcomes.append(outcome)
    return outcomes


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _run_one(profile: Profile, test: ProfileTest) -> list[str]:
    from zhenshen_core.model.lifecycle import load_case

    reason: str | None = None
    case_json: dict[str, Any] = {}
    try:
        case = load_case(profile.map(test.row))
        case_json = case.model_dump(mode="json", context={"unmasked": True})
        case_json[LEAD] = case.lead_department
        case_json[CO] = [d.id for d in case.departments if d.id != case.lead_department]
    except (MappingError, CaseValidationError) as exc:
        reason = str(exc)
    if test.reject is not None:
        if reason is None:
            return [f"expected the row to be rejected ({test.reject!r}), but it maps to a case"]
        if test.reject not in reason:
            return [f"rejected, but the reason does not contain {test.reject!r}: {reason}"]
        return []
    if reason is not None:
        return [f"rejected: {reason}"]
    return list(_compare(test.expect, case_json))


def _flatten(expect: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in expect.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and target_for(path) is None and path != "facts":
            yield from _flatten(value, f"{path}.")
        else:
            yield path, value


def _compare(expect: Mapping[str, Any], case_json: Mapping[str, Any]) -> Iterator[str]:
    for path, wanted in _flatten(expect):
        actual = get_path(case_json, path)
        if not _matches(path, wanted, actual):
            shown = mask_phone(actual) if path == "requester.phone" and actual else actual
            yield f"{path}: expected {wanted!r}, got {shown!r}"


def _matches(path: str, wanted: Any, actual: Any) -> bool:
    target = target_for(path)
    if isinstance(wanted, datetime | date) or (target is not None and target.kind == "datetime"):
        return _same_instant(wanted, actual)
    if target is not None and target.kind == "enum" and isinstance(wanted, str):
        try:
            return bool(enum_reader(target.choices)(wanted) == actual)
        except ConversionError:
            return False
    return _same(wanted, actual)


def _same(wanted: Any, actual: Any) -> bool:
    if isinstance(wanted, Mapping):
        return isinstance(actual, Mapping) and all(
            k in actual and _same(v, actual[k]) for k, v in wanted.items()
        )
    if isinstance(wanted, list):
        return (
            isinstance(actual, list)
            and len(wanted) == len(actual)
            and all(_same(w, a) for w, a in zip(wanted, actual, strict=True))
        )
    if isinstance(wanted, datetime | date):
        return _same_instant(wanted, actual)
    return bool(wanted == actual)


def _same_instant(wanted: Any, actual: Any) -> bool:
    if not isinstance(actual, str):
        return bool(wanted == actual)
    try:
        got = datetime.fromisoformat(actual)
    except ValueError:
        return bool(wanted == actual)
    if isinstance(wanted, str):
        try:
            wanted = datetime.fromisoformat(wanted)
        except ValueError:
            return False
    if isinstance(wanted, datetime):
        wanted = wanted if wanted.tzinfo else wanted.replace(tzinfo=SHANGHAI)
        got = got if got.tzinfo else got.replace(tzinfo=SHANGHAI)
        return bool(wanted == got)
    if isinstance(wanted, date):
        return bool(got.date() == wanted)
    return False


__all__ = [
    "TESTS_SUFFIX",
    "ProfileTest",
    "ProfileTestFile",
    "TestOutcome",
    "collect_tests",
    "read_tests",
    "run_profile_tests",
]
