"""Checking a merged pack: every condition parsed and type-checked, every ``then:`` value and
table cell validated against the pack's collections, every problem collected with its position.

``PackChecker`` turns the ``Merged`` items of ``extends`` into the engine-neutral ``RuleSpec``,
``TableSpec`` and ``CrossCaseSpec`` records of a ``ResolvedPack``. (It *checks*; the engines'
compiling and translating happen later, in ``engines``.)

Over 600 lines on purpose: one walk over a merged pack with one diagnostic sink; rules,
tables (hit policies, cells, outputs) and cross-case patterns share its checks of values,
periods and actions, and apart they would pass that state around.
"""

from __future__ import annotations

import contextlib
import difflib
from collections.abc import Collection, Iterable
from datetime import date
from typing import Any

from pydantic import ValidationError

from zhenshen_core.echo import shown
from zhenshen_core.errors import describe_validation_error
from zhenshen_core.model.enums import Chair, Tier
from zhenshen_core.rules.diagnostics import (
    Diagnostic,
    DiagnosticSink,
    ExpressionSyntaxError,
)
from zhenshen_core.rules.engines.facts import FieldType
from zhenshen_core.rules.lang.ast import Expr, Span, fields_read
from zhenshen_core.rules.lang.cells import CellError, input_test, output_value
from zhenshen_core.rules.lang.parser import parse_expression, parse_operand
from zhenshen_core.rules.lang.typecheck import TypeContext, check_expression, operand_type
from zhenshen_core.rules.pack.extends import Item, Loader, Merged
from zhenshen_core.rules.pack.located import Path_
from zhenshen_core.rules.pack.model import (
    LIST_OUTPUTS,
    TABLE_OUTPUT_ALIASES,
    TABLE_OUTPUTS,
    CrossCaseModel,
    CrossCaseSpec,
    CrossCaseThen,
    Outcome,
    RuleModel,
    RuleSpec,
    TableModel,
    TableSpec,
    Then,
)

MAX_RULES = 20_000


def _period_error(text: str) -> str | None:
    """Why a deadline period string is invalid (uses the deadlines package's parser; a
    period of length 0 is refused as ``zhenshen deadline`` refuses it)."""
    try:
        from zhenshen_core.deadlines import deadline_period
    except ImportError:  # pragma: no cover - the deadlines package ships with the core
        return None
    try:
        deadline_period(text)
    except ValueError as exc:
        return str(exc)
    return None


def _shown_cell(cell: Any) -> str:
    """A table cell for a message: as written, cut short when it is long."""
    text = repr(cell)
    return text if len(text) <= 80 else text[:77] + "…"


class PackChecker:
    """Parses, type-checks and compiles every item of a merged pack into ``RuleSpec``s."""

    def __init__(self, merged: Merged, levels: tuple[str, ...], loader: Loader) -> None:
        self.merged = merged
        self.levels = levels
        self.loader = loader
        self.sink = loader.sink
        self.aliases: dict[str, str] = {}
        for dep in merged.departments.values():
            self.aliases[dep.id] = dep.id
            for alias in dep.aliases:
                self.aliases.setdefault(alias, dep.id)
        self.collections = {
            "domains": frozenset(merged.domains),
            "departments": frozenset(self.aliases),
            "experts": frozenset(merged.experts),
        }
        self.specs: list[RuleSpec] = []
        self.tables: list[TableSpec] = []
        self.crosscase: list[CrossCaseSpec] = []

    def ctx(self, stage: str) -> TypeContext:
        return TypeContext(stage, self.levels, self.collections)

    def problems(self, item: Item, expr: Expr, stage: str | None = None) -> None:
        model = item.model
        where = stage or (model.stage if not isinstance(model, CrossCaseModel) else "classify")
        self.report(item, item.loc.file, check_expression(expr, self.ctx(where)))

    def report(self, item: Item, file: str, problems: Iterable[Any]) -> None:
        """The type checker's problems, as diagnostics of ``item`` in ``file``."""
        for problem in problems:
            self.sink.add(
                Diagnostic(
                    file,
                    problem.span.line,
                    problem.span.column,
                    problem.code,
                    problem.message,
                    problem.severity,
                    rule=item.id,
                )
            )

    def run(self) -> None:
        for item in self.merged.items.values():
            if len(self.specs) > MAX_RULES:
                self.sink.error(item.loc.file, 1, 1, "P201", f"more than {MAX_RULES} rules")
                return
            if isinstance(item.model, RuleModel):
                self.rule(item, item.model)
            elif isinstance(item.model, CrossCaseModel):
                self.cross_case(item, item.model)
            else:
                self.table(item, item.model)

    # -- outcomes -------------------------------------------------------------------------
    def _check_value(
        self, item: Item, path: Path_, value: str, kind: str, known: Collection[str]
    ) -> bool:
        if value in known:
            return True
        line, col = item.loc.at(path)
        close = difflib.get_close_matches(value, sorted(known), n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        choices = ", ".join(sorted(known)) or "(none defined)"
        self.sink.error(
            item.loc.file,
            line,
            col,
            "R104",
            f"unknown {kind} {shown(value)}{hint} (known: {choices})",
            rule=item.id,
        )
        return False

    def department(self, item: Item, path: Path_, value: str) -> str:
        if self._check_value(item, path, value, "department", self.aliases):
            return self.aliases[value]
        return value

    def outcome(self, item: Item, base: Path_, then: Then) -> Outcome:
        at_least, bump = None, 0
        if then.severity is not None:
            if then.severity.at_least is not None:
                self._check_value(
                    item,
                    (*base, "severity", "at_least"),
                    then.severity.at_least,
                    "severity level",
                    self.levels,
                )
                at_least = then.severity.at_least
            bump = then.severity.bump or 0
        if then.tier is not None:
            self._check_value(item, (*base, "tier"), then.tier, "tier", [t.value for t in Tier])
        if then.chair is not None:
            self._check_value(item, (*base, "chair"), then.chair, "chair", [c.value for c in Chair])
        required: tuple[str, ...] = ()
        suggested: tuple[str, ...] = ()
        reason = ""
        if then.experts is not None:
            for key, values in (
                ("require", then.experts.require),
                ("suggest", then.experts.suggest),
            ):
                for i, expert in enumerate(values):
                    self._check_value(
                        item, (*base, "experts", key, i), expert, "expert", self.merged.experts
                    )
            required = tuple(dict.fromkeys(then.experts.require))
            suggested = tuple(dict.fromkeys(then.experts.suggest))
            reason = then.experts.reason
        lead = None
        co: tuple[str, ...] = ()
        if then.departments is not None:
            if then.departments.lead is not None:
                lead = self.department(item, (*base, "departments", "lead"), then.departments.lead)
            co = tuple(
                dict.fromkeys(
                    self.department(item, (*base, "departments", "co", i), d)
                    for i, d in enumerate(then.departments.co)
                )
            )
        for clock, period in then.deadlines.items():
            self.period(item, (*base, "deadlines", clock), period)
        for i, action in enumerate(then.actions):
            self.action(item, (*base, "actions", i), action)
        return Outcome(
            severity_at_least=at_least,
            severity_bump=bump,
            tier=then.tier,
            chair=then.chair,
            tags=tuple(dict.fromkeys(then.tags)),
            experts_required=required,
            experts_suggested=suggested,
            expert_reason=reason,
            lead=lead,
            co=co,
            deadlines=tuple(sorted(then.deadlines.items())),
            actions=tuple(dict.fromkeys(then.actions)),
        )

    def period(self, item: Item, path: Path_, period: str) -> None:
        problem = _period_error(period)
        if problem:
            line, col = item.loc.at(path)
            self.sink.error(item.loc.file, line, col, "P207", problem, rule=item.id)

    def action(self, item: Item, path: Path_, action: str) -> None:
        actions = self.loader.actions
        if actions is not None and action not in actions:
            line, col = item.loc.at(path)
            close = difflib.get_close_matches(action, sorted(actions), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            self.sink.error(
                item.loc.file,
                line,
                col,
                "P205",
                f"unknown action {action!r}{hint}; actions are registered by plugins "
                f"(loaded: {', '.join(sorted(actions)) or 'none'})",
                rule=item.id,
            )

    # -- rules ----------------------------------------------------------------------------
    def rule(self, item: Item, model: RuleModel) -> None:
        line, col = item.loc.text_start((*item.path, "when"))
        try:
            expr = parse_expression(model.when, line=line, column=col, source=item.loc.file)
        except ExpressionSyntaxError as exc:
            self.sink.error(item.loc.file, exc.line, exc.column, "R100", exc.detail, rule=item.id)
            expr = None
        if expr is not None:
            self.problems(item, expr)
        outcome = self.outcome(item, (*item.path, "then"), model.then)
        rline, rcol = item.loc.at(item.path)
        self.specs.append(
            RuleSpec(
                id=model.id,
                stage=model.stage,
                priority=model.priority,
                order=len(self.specs),
                condition=expr,
                outcome=outcome,
                file=item.loc.file,
                line=rline,
                column=rcol,
                description=model.description,
                reads=tuple(f.name for f in fields_read(expr)) if expr is not None else (),
            )
        )

    # -- cross-case rules -------------------------------------------------------------------
    def cross_case(self, item: Item, model: CrossCaseModel) -> None:
        """Check a cross-case rule's filter, key paths and window; the desk runs it."""
        file = item.loc.file
        expr = None
        if model.when is not None:
            line, col = item.loc.text_start((*item.path, "when"))
            try:
                expr = parse_expression(model.when, line=line, column=col, source=file)
            except ExpressionSyntaxError as exc:
                self.sink.error(file, exc.line, exc.column, "R100", exc.detail, rule=item.id)
            if expr is not None:
                self.problems(item, expr, "classify")
        for i, path in enumerate(model.key):
            line, col = item.loc.text_start((*item.path, "key", i))
            if path == "case_id":
                continue
            try:
                operand = parse_operand(path, line=line, column=col, source=file)
            except ExpressionSyntaxError as exc:
                self.sink.error(file, exc.line, exc.column, "R100", exc.detail, rule=item.id)
                continue
            _, problems = operand_type(operand, self.ctx("classify"))
            self.report(item, file, problems)
        from zhenshen_core.deadlines import parse_period

        days = 0
        with contextlib.suppress(ValueError):  # a bad period is reported just below as R106
            period = parse_period(model.window)
            if period.unit.value == "day":
                days = period.amount
        if days < 1:
            line, col = item.loc.at((*item.path, "window"))
            self.sink.error(
                file,
                line,
                col,
                "R106",
                f'window {shown(model.window)} must be calendar days, e.g. "30 days"',
                rule=item.id,
            )
            return
        rline, _ = item.loc.at(item.path)
        self.crosscase.append(
            CrossCaseSpec(
                id=model.id,
                event=model.event,
                key=tuple(model.key),
                count=model.count,
                window_days=days,
                then=CrossCaseThen(
                    dict(model.then.facts), model.then.escalate, model.then.generalise
                ),
                when=expr,
                description=model.description,
                file=file,
                line=rline,
            )
        )

    # -- tables ---------------------------------------------------------------------------
    def table(self, item: Item, model: TableModel) -> None:
        file = item.loc.file
        ctx = self.ctx(model.stage)
        inputs = []
        kinds: list[FieldType | None] = []
        for i, text in enumerate(model.inputs):
            line, col = item.loc.text_start((*item.path, "inputs", i))
            try:
                operand = parse_operand(text, line=line, column=col, source=file)
            except ExpressionSyntaxError as exc:
                self.sink.error(file, exc.line, exc.column, "R100", exc.detail, rule=item.id)
                return
            kind, problems = operand_type(operand, ctx)
            for p in problems:
                self.sink.add(
                    Diagnostic(
                        file,
                        p.span.line,
                        p.span.column,
                        p.code,
                        p.message,
                        p.severity,
                        rule=item.id,
                    )
                )
            inputs.append(operand)
            kinds.append(kind)
        outputs: list[str] = []
        for i, name in enumerate(model.outputs):
            canonical = TABLE_OUTPUT_ALIASES.get(name, name)
            valid = canonical in TABLE_OUTPUTS or (
                canonical.startswith("deadlines.") and len(canonical) > len("deadlines.")
            )
            if not valid:
                line, col = item.loc.at((*item.path, "outputs", i))
                close = difflib.get_close_matches(canonical, list(TABLE_OUTPUTS), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                self.sink.error(
                    file, line, col, "T300", f"unknown output {name!r}{hint}", rule=item.id
                )
            outputs.append(canonical)
        self.hit_policy(item, model, outputs)
        if any(k is None for k in kinds) or len(outputs) != len(model.outputs):
            return
        width = len(inputs) + len(outputs)
        row_ids: list[str] = []
        ranks: list[tuple[int, ...]] = []
        for r, row in enumerate(model.rows):
            row_path = (*item.path, "rows", r)
            if len(row) != width:
                line, col = item.loc.at(row_path)
                self.sink.error(
                    file,
                    line,
                    col,
                    "T300",
                    f"row {r + 1} has {len(row)} cells; expected {width} "
                    f"({len(inputs)} inputs + {len(outputs)} outputs)",
                    rule=item.id,
                )
                continue
            tests: list[Expr] = []
            broken = False
            for c, (cell, operand, kind) in enumerate(zip(row, inputs, kinds, strict=False)):
                line, col = item.loc.at((*row_path, c))
                try:
                    test = input_test(cell, operand, kind or FieldType.ANY, Span(line, col))
                except CellError as exc:
                    self.sink.error(
                        file, line, col, "T300", f"cell {_shown_cell(cell)}: {exc}", rule=item.id
                    )
                    broken = True
                    continue
                if test is not None:
                    tests.append(test)
            condition: Expr | None
            if not tests:
                condition = None
            elif len(tests) == 1:
                condition = tests[0]
            else:
                from zhenshen_core.rules.lang.ast import And

                condition = And(tuple(tests), tests[0].span)
            if condition is not None:
                self.problems(item, condition)
            then, rank = self.row_outputs(item, row_path, model, outputs, row[len(inputs) :])
            if broken or then is None:
                continue
            outcome = self.outcome(item, row_path, then)
            row_id = f"{model.id}#{r + 1}"
            line, col = item.loc.at(row_path)
            reads = [f.name for f in fields_read(condition)] if condition is not None else []
            for operand in inputs:  # a table row reports every input it looked at
                for f in fields_read(operand):
                    if f.name not in reads:
                        reads.append(f.name)
            self.specs.append(
                RuleSpec(
                    id=row_id,
                    stage=model.stage,
                    priority=model.priority,
                    order=len(self.specs),
                    condition=condition,
                    outcome=outcome,
                    file=file,
                    line=line,
                    column=col,
                    description=model.description,
                    table=model.id,
                    row=r + 1,
                    reads=tuple(reads),
                )
            )
            row_ids.append(row_id)
            ranks.append(rank)
        self.tables.append(
            TableSpec(
                model.id,
                model.stage,
                model.hit,
                tuple(inputs),
                tuple(outputs),
                tuple(row_ids),
                tuple(ranks),
            )
        )

    def hit_policy(self, item: Item, model: TableModel, outputs: list[str]) -> None:
        """A hit policy that would quietly act as another, and an ``output_order`` that would
        be ignored, are errors (T301, T302): the table must mean what it says."""
        file = item.loc.file
        for key in model.output_order:
            line, col = item.loc.at((*item.path, "output_order", key))
            name = TABLE_OUTPUT_ALIASES.get(key, key)
            if name not in outputs:
                close = difflib.get_close_matches(name, outputs, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                self.sink.error(
                    file,
                    line,
                    col,
                    "T302",
                    f"output_order names {key!r}, which is not an output of this table "
                    f"(outputs: {', '.join(outputs)}){hint}",
                    rule=item.id,
                )
            elif name in LIST_OUTPUTS:
                self.sink.error(
                    file,
                    line,
                    col,
                    "T302",
                    f"output_order cannot rank {key!r}: it is a list output, whose values are "
                    "not ranked (use hit: collect to union the lists of every matching row)",
                    rule=item.id,
                )
            elif model.hit != "priority":
                self.sink.error(
                    file,
                    line,
                    col,
                    "T302",
                    f"output_order is used by hit: priority only; this table's hit is "
                    f"{model.hit!r}, so the order would be ignored",
                    rule=item.id,
                )
        if model.hit == "priority" and not any(self.output_order(model, o) for o in outputs):
            line, col = item.loc.at((*item.path, "hit"))
            ranked = [o for o in outputs if o not in LIST_OUTPUTS]
            how = (
                f"add output_order: {{{ranked[0]}: [most, …, least important]}}"
                if ranked
                else "its outputs are lists, which are not ranked"
            )
            self.sink.error(
                file,
                line,
                col,
                "T301",
                f"hit: priority needs an order of output values, and none of "
                f"{', '.join(outputs)} has one, so it would act as hit: first; {how}, or "
                "write hit: first",
                rule=item.id,
            )

    def row_outputs(
        self, item: Item, row_path: Path_, model: TableModel, outputs: list[str], cells: list[Any]
    ) -> tuple[Then | None, tuple[int, ...]]:
        """Output cells as a ``Then`` (so outcome checks are shared) and the priority rank."""
        data: dict[str, Any] = {}
        rank: list[int] = []
        offset = len(model.inputs)
        for c, (name, cell) in enumerate(zip(outputs, cells, strict=False)):
            line, col = item.loc.at((*row_path, offset + c))
            try:
                value = output_value(cell, name in LIST_OUTPUTS)
            except CellError as exc:
                self.sink.error(
                    item.loc.file,
                    line,
                    col,
                    "T300",
                    f"cell {_shown_cell(cell)}: {exc}",
                    rule=item.id,
                )
                return None, ()
            order = self.output_order(model, name)
            if value is None:
                rank.append(len(order) + 1)
                continue
            rank.append(
                order.index(value) if isinstance(value, str) and value in order else len(order)
            )
            if name == "severity":
                data["severity"] = {"at_least": value}
            elif name == "departments.lead":
                data.setdefault("departments", {})["lead"] = value
            elif name == "departments.co":
                data.setdefault("departments", {})["co"] = list(value)
            elif name == "experts.required":
                data.setdefault("experts", {})["require"] = list(value)
            elif name == "experts.suggested":
                data.setdefault("experts", {})["suggest"] = list(value)
            elif name.startswith("deadlines."):
                problem = _period_error(str(value))
                if problem:  # located at the cell, not the row
                    self.sink.error(item.loc.file, line, col, "P207", problem, rule=item.id)
                    return None, ()
                data.setdefault("deadlines", {})[name.removeprefix("deadlines.")] = value
            else:
                data[name] = list(value) if isinstance(value, tuple) else value
        try:
            return Then.model_validate(data), tuple(rank)
        except ValidationError as exc:
            line, col = item.loc.at(row_path)
            for err in exc.errors(include_url=False):
                self.sink.error(
                    item.loc.file,
                    line,
                    col,
                    "T300",
                    describe_validation_error(err),
                    rule=item.id,
                )
            return None, ()

    def output_order(self, model: TableModel, name: str) -> list[str]:
        for key, values in model.output_order.items():
            if TABLE_OUTPUT_ALIASES.get(key, key) == name:
                return values
        if name == "tier":
            return [Tier.MAJOR.value, Tier.GENERAL.value]
        if name == "chair":
            return [Chair.LEADER_IN_CHARGE.value, Chair.OFFICE_HEAD.value]
        if name == "severity":
            return list(reversed(self.levels))
        return []


def date_facts_of(checker: PackChecker, sink: DiagnosticSink) -> frozenset[str]:
    """The facts the pack reads as dates (``rules.datefacts``); a string that looks like a date
    compared with one of them is an error (R102), since it could never match."""
    from zhenshen_core.rules.pack.datefacts import date_facts, dated_strings, fact_literals

    conditions = [(s.file, s.id, s.condition) for s in checker.specs]
    conditions += [(c.file, c.id, c.when) for c in checker.crosscase]
    dates = date_facts(condition for _, _, condition in conditions)
    if not dates:
        return dates
    first: dict[str, str] = {}
    for file, _, condition in conditions:
        for found in fact_literals(condition):
            if isinstance(found.value, date):
                first.setdefault(found.field, f"{file}:{found.span.line}:{found.span.column}")
    for file, rule, condition in conditions:
        for _, found in dated_strings([(file, condition)], dates):
            sink.error(
                file,
                found.span.line,
                found.span.column,
                "R102",
                f"{found.field} is compared with a date at {first[found.field]}, so its ISO "
                f"date values are read as dates; the string {found.value!r} never equals one: "
                f'write date("{found.value}")',
                rule=rule,
            )
    return dates


__all__ = ["MAX_RULES", "PackChecker", "date_facts_of"]
