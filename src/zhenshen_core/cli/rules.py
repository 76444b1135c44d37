"""``zhenshen check``, ``zhenshen eval``, ``zhenshen schema pack`` and ``zhenshen schema facts``.

Exit codes (see ``exits.py``): ``check`` exits 0 when no *errors* were found (warnings are
printed to stderr but do not fail the run) and 1 when any error was found; ``eval`` exits 1 when
any input record was invalid (the others are still evaluated and printed), 3 when the pack or the
engine cannot be loaded.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import sys
from collections.abc import Callable, Generator, Iterator
from typing import IO, Any

import click
from pydantic import ValidationError

from zhenshen_core.cli.context import PACK_PATH_OPTION, CliContext, pass_cli
from zhenshen_core.cli.exits import (
    LOAD_ERROR,
    OK,
    PROBLEMS,
    CliExit,
    error_boundary,
    shown_message,
)
from zhenshen_core.errors import CaseValidationError
from zhenshen_core.model import Case
from zhenshen_core.rules.diagnostics import Diagnostic, EvaluationError, PackError
from zhenshen_core.rules.engines.decision import Decision
from zhenshen_core.rules.engines.parallel import chunks, ordered_pool
from zhenshen_core.rules.engines.registry import BUILTIN_ENGINES
from zhenshen_core.rules.pack.model import PackFile, ResolvedPack, RuleFile
from zhenshen_core.textio import ENCODING, STREAM_ERRORS, BadByte, bad_byte, json_loads


def _load(ctx: CliContext, source: str) -> ResolvedPack:
    pack: ResolvedPack = ctx.load_pack(source)
    return pack


@click.command("check")
@click.argument("packs", nargs=-1, required=True, metavar="PACK...")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text: one 'file:line:col: CODE message' per problem on stderr; json: a list on stdout.",
)
@click.option("--no-warnings", is_flag=True, help="Report errors only.")
@PACK_PATH_OPTION
@pass_cli
@error_boundary
def check(ctx: CliContext, packs: tuple[str, ...], fmt: str, no_warnings: bool) -> None:
    """Load and statically check rule packs (folders or pack ids).

    Silent with exit 0 when clean. Every problem is reported, not just the first: YAML and
    schema errors, unknown fields (with the closest valid name), type mismatches, unsafe
    regexes, unknown departments/experts/actions, bad periods, extends cycles — and warnings for
    rules that can never fire and equal-priority conflicts. Exit 1 if any error was found;
    warnings alone exit 0.
    """
    found: list[Diagnostic] = []
    seen: set[str] = set()
    for source in packs:
        try:
            diagnostics = list(_load(ctx, source).warnings)
        except PackError as exc:
            diagnostics = list(exc.diagnostics)
        for diag in diagnostics:
            if no_warnings and diag.severity == "warning":
                continue
            key = str(diag)
            if key not in seen:
                seen.add(key)
                found.append(diag)
    if fmt == "json":
        click.echo(json.dumps([d.as_dict() for d in found], ensure_ascii=False, indent=2))
    else:
        for diag in found:
            click.echo(str(diag), err=True)
    errors = sum(1 for d in found if d.severity == "error")
    if errors:
        if fmt == "text":
            warnings = len(found) - errors
            click.echo(f"{errors} error(s), {warnings} warning(s)", err=True)
        sys.exit(PROBLEMS)
    sys.exit(OK)


def _records(stream: IO[str]) -> Iterator[tuple[int, Any]]:
    """(line number, record) for a JSON document, array, or JSONL.

    A record is a JSONL line as a plain ``str`` (pydantic parses and validates it in one
    step: the fast path), a ``_Parsed`` value from a document or array, or the JSON error.
    JSONL is read line by line, so a stream of any length runs in constant memory; only a
    document or an array is read whole. Lines end at ``\n`` (or ``\r\n``, ``\r``) only:
    JSON strings may hold U+2028 and the other characters ``str.splitlines`` breaks at.
    """
    number = 0
    for line in stream:
        number += 1
        if not line.isspace():
            break
    else:
        return
    array = line.lstrip().startswith("[")
    if array or _json_error(line):
        # An array, or a single (pretty-printed) document: read it whole. Blank lines keep
        # the JSON errors' line numbers those of the input.
        text = "\n" * (number - 1) + line + stream.read()
        bad = bad_byte(text)
        if bad is not None:  # one document: where it breaks is all there is to say
            yield bad.line, _NotUtf8(bad)
            return
        try:
            value = json_loads(text)
        except json.JSONDecodeError as exc:
            yield exc.lineno, exc
            return
        if array and isinstance(value, list):
            for item in value:
                yield 1, _Parsed(item)
        else:
            yield number, _Parsed(value)
        return
    yield number, line.rstrip("\r\n")
    for line in stream:
        number += 1
        if not line.isspace():
            yield number, line.rstrip("\r\n")


def _json_error(line: str) -> bool:
    try:
        json_loads(line)
    except json.JSONDecodeError:
        return True
    return False


class _Parsed:
    """A record already parsed as JSON (from an array or a single document)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


class _NotUtf8(Exception):
    """Where a record stops being UTF-8 text."""

    def __init__(self, where: BadByte) -> None:
        super().__init__(where.in_record)


def _engine(name: str, pack: ResolvedPack, ctx: CliContext | None = None) -> Any:
    """The engine ``name`` (``engines.registry``): a plugin's is found through the CLI's
    plugins (``ctx``), a built-in without loading them."""
    from zhenshen_core.rules.engines.registry import make_engine

    host = ctx.host if ctx is not None and name not in BUILTIN_ENGINES else None
    try:
        return make_engine(name, pack, host=host)
    except ImportError as exc:
        raise CliExit(
            f"the {name} engine is not available ({exc}); use --engine compiled", LOAD_ERROR
        ) from exc


class EngineName(click.ParamType[str]):
    """``--engine``: a built-in engine, or one a plugin registers (``zhenshen_engines``).

    The built-ins are accepted without loading a plugin; any other name is checked against the
    CLI's plugins, and an unknown one is a usage error listing the names there are.
    """

    name = "engine"

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "[" + "|".join(BUILTIN_ENGINES) + "]"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        name = str(value)
        if name in BUILTIN_ENGINES:
            return name
        from zhenshen_core.errors import PluginError
        from zhenshen_core.rules.engines.registry import UnknownEngineError, engine_names

        cli = ctx.find_object(CliContext) if ctx is not None else None
        try:
            known = engine_names(host=cli.host if cli is not None else None)
        except PluginError as exc:
            self.fail(str(exc), param, ctx)
        if name not in known:
            self.fail(str(UnknownEngineError(name, known)), param, ctx)
        return name


def engine_option(help: str | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The ``--engine`` option of ``eval`` and ``test`` (default ``compiled``)."""
    return click.option(
        "--engine", type=EngineName(), default="compiled", show_default=True, help=help
    )


@click.command("eval")
@click.option("--pack", "pack_source", required=True, metavar="PACK", help="Folder or pack id.")
@click.option(
    "--input",
    "input_file",
    # A line that is not UTF-8 is reported and skipped like any invalid record (textio).
    type=click.File("r", encoding=ENCODING, errors=STREAM_ERRORS),
    default="-",
    show_default=True,
    help="A JSON case, a JSON array of cases, or JSONL (one case per line), in UTF-8 (a BOM "
    "is fine); - is stdin.",
)
@engine_option()
@click.option("--explain", is_flag=True, help="Print a readable explanation per case.")
@click.option(
    "--jobs",
    type=click.IntRange(min=0),
    default=1,
    show_default=True,
    help="Worker processes for long inputs (0: one per CPU); output order is kept.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default=None,
    help="json: one decision per line (default when stdout is not a terminal); text: explained.",
)
@PACK_PATH_OPTION
@pass_cli
@error_boundary
def eval_cmd(
    ctx: CliContext,
    pack_source: str,
    input_file: IO[str],
    engine: str,
    explain: bool,
    jobs: int,
    fmt: str | None,
) -> None:
    """Evaluate cases against a pack; print one decision per case, in input order.

    Partial cases are read as pack tests read them: received_at is required (a decision
    depends on the day a case arrived); every other field has a default (see ``zhenshen schema
    case``), an enterprise without a name is named 测试企业, departments may be plain ids and
    returns a number. An invalid case in a stream is reported on stderr with its line number
    and skipped; the exit code is then 1.

    \b
      echo '{"received_at": "2026-03-02T09:00:00+08:00", "domain": "financing",
             "enterprise": {"tags": ["专精特新"]}}' | zhenshen eval --pack cn.chengdu.gaoxin
    """
    with _streaming_gc():
        try:
            pack = _load(ctx, pack_source)
        except PackError as exc:
            for diag in exc.diagnostics:
                click.echo(str(diag), err=True)
            raise CliExit(f"pack {pack_source!r} failed to load", LOAD_ERROR) from exc
        text = explain or fmt == "text" or (fmt is None and sys.stdout.isatty())
        name = getattr(input_file, "name", "<stdin>")
        name = "<stdin>" if name in ("-", "<stdin>") else name
        records = _records(input_file)
        jobs = jobs or (os.cpu_count() or 1)
        results: Generator[tuple[bytes, list[str]], None, None]
        evaluator: Any = None
        if jobs > 1:
            from itertools import chain, islice

            head = list(islice(records, POOL_MIN_RECORDS))
            if len(head) < POOL_MIN_RECORDS:  # a pool costs more than it saves on short inputs
                jobs, records = 1, iter(head)
            else:
                results = ordered_pool(
                    chain(head, records),
                    _eval_chunk,
                    jobs=jobs,
                    chunk_size=EVAL_CHUNK,
                    initializer=_init_eval_worker,
                    initargs=(ctx.pack_ref(pack_source), engine, text, name),
                )
        if jobs == 1:
            evaluator = _engine(engine, pack, ctx)
            results = (
                _RecordEvaluator(evaluator, pack, text, name).chunk(c)
                for c in chunks(records, EVAL_CHUNK)
            )
        sys.stdout.flush()
        binary: IO[bytes] | None = getattr(sys.stdout, "buffer", None)
        gc.freeze()  # the pack, the engine and its cache live for the whole run
        with contextlib.closing(results):  # a pool stops with the stream, however it ends
            bad = _write(results, binary)
    close: Any = getattr(evaluator, "close", None)
    if close is not None:
        close()
    if bad:
        click.echo(f"{bad} invalid record(s) skipped", err=True)
        sys.exit(PROBLEMS)


@contextlib.contextmanager
def _streaming_gc() -> Iterator[None]:
    """Fewer garbage collections while loading and streaming: the pack, engine and decision
    cache live for the whole run (frozen out of the collector's scans once built) and a case
    makes no reference cycles, so collecting every 700 allocations only costs time (about a
    tenth of the run). No collection first: it would cost more than the little start-up
    garbage it frees."""
    thresholds = gc.get_threshold()
    gc.set_threshold(50_000, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def _write(results: Iterator[tuple[bytes, list[str]]], binary: IO[bytes] | None) -> int:
    """Write each chunk's decisions in one go and its errors to stderr; the number of errors."""
    bad = 0
    for output, errors in results:
        for error in errors:
            click.echo(shown_message(error), err=True)
        bad += len(errors)
        if binary is not None:  # decisions are UTF-8 already
            binary.write(output)
        else:  # pragma: no cover - a text-only stdout (some embedding hosts)
            sys.stdout.write(output.decode("utf-8"))
    if binary is not None:
        binary.flush()
    sys.stdout.flush()
    return bad


EVAL_CHUNK = 1000
POOL_MIN_RECORDS = 5000


class _RecordEvaluator:
    """Turns a chunk of (line number, record) into (output bytes, error lines), in-process or
    in a worker: the decisions in input order, one per line (or one explanation each)."""

    def __init__(self, evaluator: Any, pack: ResolvedPack, text: bool, name: str) -> None:
        self.evaluator, self.pack, self.name = evaluator, pack, name
        fast = getattr(evaluator, "evaluate_json", None)
        # Each renders one record's output without its final newline.
        self.render: Callable[[Case], bytes] = (
            self._explained if text else self._json if fast is None else fast
        )

    def chunk(self, records: list[tuple[int, Any]]) -> tuple[bytes, list[str]]:
        # The per-record loop of ``zhenshen eval``: names bound once, no call per record
        # beyond validating and deciding it.
        outputs: list[bytes] = []
        errors: list[str] = []
        keep = outputs.append
        render = self.render
        validate = Case.model_validate_json
        for number, record in records:
            if type(record) is str:  # a JSONL line: parse and validate in one step
                try:
                    case = validate(record)
                except ValidationError:
                    pass  # the slow path below explains the problem
                else:
                    try:
                        keep(render(case))
                    except EvaluationError as exc:
                        errors.append(f"{self.name}:{number}: {exc}")
                    continue
            output, error = self._slow(number, record)
            if error is not None:
                errors.append(error)
            elif output is not None:
                keep(output)
        if not outputs:
            return b"", errors
        outputs.append(b"")  # a newline after the last record too
        return b"\n".join(outputs), errors

    def _json(self, case: Case) -> bytes:
        decision: Decision = self.evaluator.evaluate(case)
        return decision.to_json().encode()

    def _explained(self, case: Case) -> bytes:
        from zhenshen_core.rules.engines.explain import explain as explain_text

        return (explain_text(self.evaluator.evaluate(case), self.pack) + "\n").encode()

    def _slow(self, number: int, record: Any) -> tuple[bytes | None, str | None]:
        """A record the fast path could not take: parse it and say what is wrong, or decide
        it (a document or array item, already parsed)."""
        if type(record) is str:
            bad = bad_byte(record)
            try:
                record = _NotUtf8(bad) if bad is not None else _Parsed(json_loads(record))
            except json.JSONDecodeError as exc:
                record = exc
        where = f"{self.name}:{number}"
        if isinstance(record, _NotUtf8):
            return None, f"{where}: {record}"
        if isinstance(record, Exception):
            return None, f"{where}: invalid JSON: {record}"
        if not isinstance(record.value, dict):
            return None, f"{where}: a case must be a JSON object"
        from zhenshen_core.model.lifecycle import load_case  # explains validation errors
        from zhenshen_core.model.partial import complete_case  # as pack tests read cases

        try:
            return self.render(load_case(complete_case(record.value))), None
        except (CaseValidationError, EvaluationError) as exc:
            return None, f"{where}: {exc}"


class _EvalWorker:
    """The one ``_RecordEvaluator`` of a pool worker process (set by the initializer there)."""

    current: _RecordEvaluator | None = None


def _init_eval_worker(ref: Any, engine: str, text: bool, name: str) -> None:
    pack = ref.load()
    _EvalWorker.current = _RecordEvaluator(_engine(engine, pack), pack, text, name)


def _eval_chunk(records: list[tuple[int, Any]]) -> tuple[bytes, list[str]]:
    worker = _EvalWorker.current
    if worker is None:  # pragma: no cover - the initializer always runs first
        raise RuntimeError("worker used before initialisation")
    return worker.chunk(records)


def pack_json_schema(kind: str = "all") -> dict[str, Any]:
    """JSON Schema for ``pack.yaml`` (kind ``pack``), rule files (``rules``) or either."""
    pack = PackFile.model_json_schema(by_alias=True)
    rules = RuleFile.model_json_schema(by_alias=True)
    if kind == "pack":
        return {"$schema": "https://json-schema.org/draft/2020-12/schema", **pack}
    if kind == "rules":
        return {"$schema": "https://json-schema.org/draft/2020-12/schema", **rules}
    defs: dict[str, Any] = {}
    for schema in (pack, rules):
        defs.update(schema.pop("$defs", {}))
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "zhenshen rule pack file (pack.yaml or a rule/table file), schema 1",
        "anyOf": [pack, rules],
        "$defs": defs,
    }


@click.command("pack")
@click.option(
    "--kind",
    type=click.Choice(["all", "pack", "rules"]),
    default="all",
    show_default=True,
    help="pack: pack.yaml only; rules: rule/table files only; all: either.",
)
@error_boundary
def schema_pack(kind: str) -> None:
    """The JSON Schema of pack.yaml and rule/table files (for editor validation)."""
    click.echo(json.dumps(pack_json_schema(kind), ensure_ascii=False, indent=2))


@click.command("facts")
@error_boundary
def schema_facts() -> None:
    """The JSON Schema of the fact view: every field a rule condition can read, with its type,
    label and (for the library's codes) its values."""
    from zhenshen_core.rules.engines.facts import fact_json_schema

    click.echo(json.dumps(fact_json_schema(), ensure_ascii=False, indent=2))


@click.group("schema")
def schema_group() -> None:
    """Print JSON Schemas for integrators and editors."""


def register(group: click.Group) -> None:
    group.add_command(check)
    group.add_command(eval_cmd, "eval")
    existing = group.commands.get("schema")
    if isinstance(existing, click.Group):
        existing.add_command(schema_pack)
        existing.add_command(schema_facts)
    else:
        schema_group.add_command(schema_pack)
        schema_group.add_command(schema_facts)
        group.add_command(schema_group)


__all__ = ["check", "eval_cmd", "pack_json_schema", "register", "schema_facts", "schema_pack"]
