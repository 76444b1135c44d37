"""Located problems and the exceptions that carry them.

District staff fix rule packs from error messages alone, so every problem names its file,
line and column, a stable code (documented in ``docs/reference/rule-language.md``) and, where we
can guess, the fix. Loading collects *all* problems before raising, like pydantic, so one run of
``zhenshen check`` shows everything to fix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from zhenshen_core.errors import ZhenshenError

Severity = Literal["error", "warning"]

#: Every code and what it means (kept here so docs and ``--format json`` agree).
CODES: dict[str, str] = {
    "R100": "expression syntax error",
    "R101": "unknown field",
    "R102": "type mismatch",
    "R103": "bad or unsafe regular expression",
    "R104": "unknown value (severity level, department, expert, domain)",
    "R106": "a cross-case window that is not calendar days",
    "P200": "YAML syntax error",
    "P201": "invalid pack or rule file (schema)",
    "P202": "duplicate id",
    "P203": "missing base pack",
    "P204": "extends cycle",
    "P205": "unknown rule action",
    "P206": "disable names a rule no base pack defines",
    "P207": "bad deadline period (unreadable, or of length 0)",
    "P208": "include pattern matches nothing / file unreadable",
    "P209": "beyond a pack limit (file size, rule files, rules, table rows, extends depth)",
    "P210": "a path that leads outside the pack (a symbolic link, a golden file, a template)",
    "T300": "decision table error (a cell that is not a unary test for its input …)",
    "T301": "hit: priority on outputs with no order of values (it would act as first)",
    "T302": "output_order that would be ignored (not an output, a list output, not priority)",
    "W400": "rule can never fire",
    "W401": "equal-priority conflict",
}


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem: ``file:line:col: CODE message``."""

    file: str
    line: int
    col: int
    code: str
    message: str
    severity: Severity = "error"
    rule: str | None = None
    input: Any = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.col}"
        rule = f" [{self.rule}]" if self.rule else ""
        return f"{where}: {self.code} {self.message}{rule}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "col": self.col,
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "rule": self.rule,
        }


class RuleError(ZhenshenError):
    """A rule or expression is invalid; ``diagnostics`` lists every located problem."""

    def __init__(self, diagnostics: list[Diagnostic], summary: str | None = None) -> None:
        self.diagnostics = diagnostics
        errors = [d for d in diagnostics if d.severity == "error"]
        head = summary or f"{len(errors)} error(s) in rule pack"
        detail = "\n".join(str(d) for d in diagnostics)
        super().__init__(f"{head}\n{detail}" if detail else head)


class PackError(RuleError):
    """A pack could not be loaded (YAML, schema, extends, types …)."""


class ExpressionSyntaxError(RuleError):
    """An expression does not parse; ``line``/``column`` point at the offending token."""

    def __init__(self, message: str, line: int, column: int, source: str = "<expr>") -> None:
        self.line, self.column, self.detail = line, column, message
        super().__init__([Diagnostic(source, line, column, "R100", message)], summary=message)

    def __str__(self) -> str:
        return f"{self.line}:{self.column}: {self.detail}"


class EvaluationError(ZhenshenError):
    """Evaluating a case broke a pack's declared contract (e.g. a ``unique`` table hit twice)."""


@dataclass
class DiagnosticSink:
    """Collects diagnostics during one load so that every problem is reported at once."""

    items: list[Diagnostic] = field(default_factory=list)

    def add(self, diagnostic: Diagnostic) -> None:
        self.items.append(diagnostic)

    def error(self, file: str, line: int, col: int, code: str, message: str, **kw: Any) -> None:
        self.items.append(Diagnostic(file, line, col, code, message, "error", **kw))

    def warn(self, file: str, line: int, col: int, code: str, message: str, **kw: Any) -> None:
        self.items.append(Diagnostic(file, line, col, code, message, "warning", **kw))

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity == "error"]
