"""Testing rule packs: YAML test files, the runner, coverage and reports (``zhenshen test``).

Typical use from Python (the CLI and the pytest plugin do the same)::

    from zhenshen_core.rules.tester import run_pack_tests
    run = run_pack_tests(["packs/district"], coverage=True)
    assert run.ok, [r.message for r in run.results if r.outcome != "passed"]

The file format is documented in :mod:`zhenshen_core.rules.tester.model` and
``docs/tutorial.md``.
"""

from zhenshen_core.rules.tester.matching import (
    Mismatch,
    golden_view,
    match_exact,
    match_expect,
    match_fired,
)
from zhenshen_core.rules.tester.model import (
    DEFAULT_NOW,
    TestFile,
    TestSpec,
    case_data,
    read_test_file,
)
from zhenshen_core.rules.tester.report import TextReporter, json_report, junit_xml, write_junit
from zhenshen_core.rules.tester.runner import (
    Coverage,
    PackCoverage,
    PackUnderTest,
    RuleCoverage,
    TestResult,
    TestRun,
    find_packs,
    load_packs,
    run_pack_tests,
    run_test,
    run_tests,
)
from zhenshen_core.rules.tester.select import KeywordError, compile_keyword

__all__ = [
    "DEFAULT_NOW",
    "Coverage",
    "KeywordError",
    "Mismatch",
    "PackCoverage",
    "PackUnderTest",
    "RuleCoverage",
    "TestFile",
    "TestResult",
    "TestRun",
    "TestSpec",
    "TextReporter",
    "case_data",
    "compile_keyword",
    "find_packs",
    "golden_view",
    "json_report",
    "junit_xml",
    "load_packs",
    "match_exact",
    "match_expect",
    "match_fired",
    "read_test_file",
    "run_pack_tests",
    "run_test",
    "run_tests",
    "write_junit",
]
