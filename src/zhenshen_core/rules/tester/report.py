"""Reports of a test run: pytest-like text for people, JSON and JUnit XML for machines.

The text report streams (a character per test as it finishes, a line per test file) so a long
run shows progress, then prints each failure with its file:line, the differences and the rules
that fired with the values that made them fire — enough to fix the rule or the test without
re-running anything by hand.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from zhenshen_core.rules.tester.matching import Mismatch, show
from zhenshen_core.rules.tester.runner import TestResult, TestRun

_CHARS = {"passed": ".", "failed": "F", "error": "E", "skipped": "s"}
_WORDS = {"passed": "PASSED", "failed": "FAILED", "error": "ERROR", "skipped": "SKIPPED"}
MAX_SHOWN = 80

#: What XML 1.0 cannot hold at all, not even as a character reference: C0 controls other than
#: tab, newline and carriage return, U+FFFE/U+FFFF and lone surrogates.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
#: What a terminal would act on rather than show: controls other than tab and newline.
_NOT_SHOWN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _escaped(pattern: re.Pattern[str], text: str) -> str:
    """``text`` with each character ``pattern`` matches written as ``\\xNN`` or ``\\uNNNN``."""

    def code(match: re.Match[str]) -> str:
        point = ord(match.group())
        return f"\\x{point:02x}" if point < 0x100 else f"\\u{point:04x}"

    return pattern.sub(code, text)


def _rule(title: str, width: int, char: str = "=") -> str:
    from rich.cells import cell_len

    text = f" {title} "
    left = max((width - cell_len(text)) // 2, 3)
    right = max(width - cell_len(text) - left, 3)
    return f"{char * left}{text}{char * right}"


def _short(value: Any, limit: int | None = MAX_SHOWN) -> str:
    text = show(value)
    return text if limit is None or len(text) <= limit else text[: limit - 1] + "…"


class TextReporter:
    """Writes the streaming part (dots or ``-v`` lines) and then the summary.

    ``verbosity`` counts like pytest's ``-v`` and ``-q`` (``-v`` adds one, ``-q`` takes one):

    * 2 (``-vv``): a line per test, and the values in failures are shown whole;
    * 1 (``-v``): a line per test (file:line, name, outcome);
    * 0: a line of dots per test file;
    * -1 (``-q``): the dots without file names, and the summary line without its rule;
    * -2 (``-qq``) or less: no dots; failures, errors and the summary line only.
    """

    def __init__(
        self,
        out: TextIO,
        *,
        verbose: bool = False,
        width: int = 80,
        verbosity: int | None = None,
    ) -> None:
        self.out = out
        self.verbosity = verbosity if verbosity is not None else int(verbose)
        self.verbose = self.verbosity > 0
        self.width = width
        self._file: str | None = None
        self._dots = False

    def write(self, text: str) -> None:
        # Test names and messages come from YAML: an escape sequence in one must not recolour
        # or rewrite a CI log, so control characters are shown, not sent.
        self.out.write(_escaped(_NOT_SHOWN, text))
        self.out.flush()

    def result(self, result: TestResult) -> None:
        """Called as each test finishes."""
        if self.verbose:
            extra = f" ({result.message})" if result.outcome == "skipped" else ""
            golden = " [golden updated]" if result.golden_updated else ""
            self.write(
                f"{result.test.location} {result.test.name} "
                f"{_WORDS[result.outcome]}{extra}{golden}\n"
            )
            return
        if self.verbosity < -1:
            return
        if self.verbosity == -1:
            self.write(_CHARS[result.outcome])
            self._dots = True
            return
        name = str(result.test.file)
        if name != self._file:
            if self._file is not None:
                self.write("\n")
            self.write(f"{name} ")
            self._file = name
        self.write(_CHARS[result.outcome])

    def finish(self, run: TestRun, *, threshold: float | None = None) -> None:
        if self._file is not None or self._dots:
            self.write("\n")
            self._file, self._dots = None, False
        problems = run.collection_errors
        errors = [r for r in run.results if r.outcome == "error"]
        if problems or errors:
            self.write("\n" + _rule("ERRORS", self.width) + "\n")
            for diagnostic in problems:
                self.write(f"{diagnostic}\n")
            for result in errors:
                self.write(_rule(result.test.name, self.width, "_") + "\n")
                self.write(f"{result.message}\n")
        failures = [r for r in run.results if r.outcome == "failed"]
        if failures:
            self.write("\n" + _rule("FAILURES", self.width) + "\n")
            for result in failures:
                self.failure(result)
        if run.coverage is not None:
            self.coverage(run, threshold)
        line = self.summary_line(run)
        self.write((line if self.verbosity < 0 else _rule(line, self.width)) + "\n")

    def failure(self, result: TestResult) -> None:
        test = result.test
        self.write(_rule(test.name, self.width, "_") + "\n")
        self.write(f"{test.location}  (pack {result.pack})\n")
        for mismatch in result.mismatches:
            self.write(self.mismatch(mismatch))
        fired = (result.decision or {}).get("fired", [])
        if fired:
            self.write("  rules that fired:\n")
            for item in fired:
                limit = None if self.verbosity >= 2 else MAX_SHOWN
                values = " ".join(
                    f"{k}={_short(v, limit)}" for k, v in item.get("values", {}).items()
                )
                self.write(f"    {item['stage']:<8}  {item['rule']}  {values}".rstrip() + "\n")
        else:
            self.write("  no rule fired\n")
        self.write("\n")

    @staticmethod
    def mismatch(mismatch: Mismatch) -> str:
        note = f"  ({mismatch.note})" if mismatch.note else ""
        if mismatch.path == "golden" and mismatch.expected is None:
            return f"  golden: {mismatch.note}\n"
        return (
            f"  {mismatch.path}{note}\n"
            f"    expected: {show(mismatch.expected)}\n"
            f"    actual:   {show(mismatch.actual)}\n"
        )

    def coverage(self, run: TestRun, threshold: float | None) -> None:
        from rich.console import Console
        from rich.measure import Measurement
        from rich.table import Table

        cov = run.coverage
        assert cov is not None
        self.write("\n" + _rule("COVERAGE", self.width) + "\n")
        table = Table(box=None, pad_edge=False, show_edge=False)
        for column, justify in (
            ("pack", "left"),
            ("rules", "right"),
            ("table rows", "right"),
            ("coverage", "right"),
        ):
            table.add_column(column, justify=justify)  # type: ignore[arg-type]
        for pack in cov.packs:
            data = pack.as_dict()
            table.add_row(
                pack.pack,
                f"{data['rules']['fired']}/{data['rules']['total']}",
                f"{data['rows']['fired']}/{data['rows']['total']}",
                f"{pack.percent:.1f}%",
            )
        table.add_row("total", "", "", f"{cov.percent:.1f}%")
        console = Console(
            file=self.out, width=self.width, no_color=True, highlight=False, force_terminal=False
        )
        # Never narrower than the table: a pack id is cut by no terminal width (CI logs, pipes).
        widest = Measurement.get(console, console.options.update_width(1 << 20), table).maximum
        console.width = max(self.width, widest)
        console.print(table)
        never = sorted(
            ((p.pack, i) for p in cov.packs for i in p.items if not i.hits),
            key=lambda pi: (pi[1].file, pi[1].line),
        )
        if never:
            self.write("never fired:\n")
            for pack_id, item in never:
                self.write(f"  {item.file}:{item.line}  {item.id}  ({pack_id})\n")
        if threshold is not None and cov.percent + 1e-9 < threshold:
            self.write(f"FAIL: coverage {cov.percent:.1f}% is below the threshold {threshold:g}%\n")

    @staticmethod
    def summary_line(run: TestRun) -> str:
        s = run.summary()
        parts = []
        for key, word in (
            ("failed", "failed"),
            ("passed", "passed"),
            ("skipped", "skipped"),
            ("deselected", "deselected"),
            ("errors", "error"),
        ):
            if s[key]:
                parts.append(f"{s[key]} {word}{'s' if word == 'error' and s[key] > 1 else ''}")
        if s["golden_updated"]:
            parts.append(f"{s['golden_updated']} golden updated")
        if not parts:
            parts.append("no tests ran")
        stopped = " (stopped at first failure)" if run.stopped_early else ""
        return f"{', '.join(parts)} in {run.duration:.2f}s{stopped}"


def json_report(run: TestRun, *, threshold: float | None = None) -> dict[str, Any]:
    """The ``--format json`` document (one object)."""
    return {
        "summary": run.summary(),
        "exit_code": run.exit_code(threshold),
        "packs": [
            {
                "source": p.source,
                "id": p.pack.id if p.pack else None,
                "version": p.pack.version if p.pack else None,
                "sha256": p.pack.sha256 if p.pack else None,
                "folder": str(p.folder) if p.folder else None,
                "test_files": [str(f.path) for f in p.files],
                "errors": [d.as_dict() for d in p.error.diagnostics] if p.error else [],
            }
            for p in run.packs
        ],
        "collection_errors": [d.as_dict() for d in run.collection_errors],
        "tests": [r.as_dict() for r in run.results],
        "coverage": run.coverage.as_dict() if run.coverage is not None else None,
        "threshold": threshold,
    }


def _failure_text(result: TestResult) -> str:
    lines = [f"{result.test.location}"]
    lines.extend(TextReporter.mismatch(m).rstrip("\n") for m in result.mismatches)
    for item in (result.decision or {}).get("fired", []):
        values = json.dumps(item.get("values", {}), ensure_ascii=False)
        lines.append(f"  fired {item['stage']} {item['rule']} {values}")
    return "\n".join(lines)


def _counter(results: list[TestResult]) -> Callable[[str], int]:
    return lambda outcome: sum(1 for r in results if r.outcome == outcome)


def junit_xml(run: TestRun) -> bytes:
    """JUnit XML (the schema CI servers read): a suite per test file, a case per test."""
    suites = ET.Element(
        "testsuites", name="zhenshen test", tests=str(len(run.results)), time=f"{run.duration:.3f}"
    )
    by_file: dict[str, list[TestResult]] = {}
    for result in run.results:
        by_file.setdefault(str(result.test.file), []).append(result)
    problems_by_file: dict[str, list[str]] = {}
    for diagnostic in run.collection_errors:
        problems_by_file.setdefault(diagnostic.file, []).append(str(diagnostic))
    for name in list(by_file) + [f for f in problems_by_file if f not in by_file]:
        results = by_file.get(name, [])
        problems = problems_by_file.get(name, [])
        count = _counter(results)
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=name,
            tests=str(len(results) + len(problems)),
            failures=str(count("failed")),
            errors=str(count("error") + len(problems)),
            skipped=str(count("skipped")),
            time=f"{sum(r.duration for r in results):.3f}",
        )
        for result in results:
            test = result.test
            case = ET.SubElement(
                suite,
                "testcase",
                name=test.name,
                classname=f"{result.pack}.{Path(name).stem}",
                file=name,
                line=str(test.line),
                time=f"{result.duration:.6f}",
            )
            if result.outcome == "failed":
                first = result.mismatches[0].message() if result.mismatches else "failed"
                node = ET.SubElement(case, "failure", message=first, type="AssertionError")
                node.text = _failure_text(result)
            elif result.outcome == "error":
                node = ET.SubElement(case, "error", message=result.message, type="TestError")
                node.text = result.message
            elif result.outcome == "skipped":
                ET.SubElement(case, "skipped", message=result.message)
        for problem in problems:
            case = ET.SubElement(
                suite, "testcase", name="(collection)", classname=Path(name).stem, file=name
            )
            node = ET.SubElement(case, "error", message=problem, type="CollectionError")
            node.text = problem
    for element in suites.iter():  # a test name or message may hold any character YAML can
        if element.text:
            element.text = _escaped(_NOT_XML, element.text)
        for key, value in element.attrib.items():
            element.attrib[key] = _escaped(_NOT_XML, value)
    ET.indent(suites)
    body: bytes = ET.tostring(suites, encoding="utf-8", xml_declaration=True)
    return body + b"\n"


def write_junit(run: TestRun, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(junit_xml(run))


def load_error_lines(run: TestRun) -> list[str]:
    """For stderr: each pack that failed to load, with every located problem."""
    lines: list[str] = []
    for put in run.load_errors:
        assert put.error is not None
        lines.append(f"error: pack {put.source} failed to load")
        lines.extend(str(d) for d in put.error.diagnostics)
    return lines


__all__ = ["TextReporter", "json_report", "junit_xml", "load_error_lines", "write_junit"]
