"""Rule packs: the expression language (``lang``), pack loading and checking (``pack``), the
engines (``engines``), pack tests (``tester``) and the impact of a change (``impact``).

Typical use::

    from zhenshen_core.rules import load_pack, make_engine
    pack = load_pack("cn.chengdu.gaoxin")            # a pack id, a folder or its pack.yaml
    engine = make_engine("compiled", pack)           # or "durable", or a plugin's engine
    decision = engine.evaluate(case)                 # a Case or a mapping of case fields
    print(decision.to_json())

``DurableEngine`` (and its ``EngineError``) are imported on first use: the durable_rules C
extension loads only when the durable engine is asked for.
"""

from typing import TYPE_CHECKING

from zhenshen_core._lazy import lazy_attributes
from zhenshen_core.rules.diagnostics import (
    Diagnostic,
    DiagnosticSink,
    EvaluationError,
    ExpressionSyntaxError,
    PackError,
    RuleError,
)
from zhenshen_core.rules.engines.base import Engine, MatcherEngine
from zhenshen_core.rules.engines.compiled import CompiledEngine, InterpretedEngine, compile_expr
from zhenshen_core.rules.engines.decision import Decision, Fired, Matcher, decide
from zhenshen_core.rules.engines.explain import explain
from zhenshen_core.rules.engines.facts import FACT_SCHEMA, FieldType, fact_view
from zhenshen_core.rules.engines.partial import as_case
from zhenshen_core.rules.engines.registry import UnknownEngineError, engine_names, make_engine
from zhenshen_core.rules.lang.parser import parse_expression, parse_operand
from zhenshen_core.rules.lang.semantics import holds
from zhenshen_core.rules.pack.loader import load_documents, load_pack
from zhenshen_core.rules.pack.located import Located
from zhenshen_core.rules.pack.model import (
    CrossCaseSpec,
    CrossCaseThen,
    Outcome,
    PackFile,
    ResolvedPack,
    RuleFile,
    RuleSpec,
    TableSpec,
)
from zhenshen_core.rules.pack.source import read_yaml

if TYPE_CHECKING:  # imported on first use (see ``__getattr__``)
    from zhenshen_core.rules.engines.durable import DurableEngine, EngineError

Pack = ResolvedPack

__getattr__ = lazy_attributes(
    __name__,
    {
        "DurableEngine": "zhenshen_core.rules.engines.durable",
        "EngineError": "zhenshen_core.rules.engines.durable",
    },
)

__all__ = [
    "FACT_SCHEMA",
    "CompiledEngine",
    "CrossCaseSpec",
    "CrossCaseThen",
    "Decision",
    "Diagnostic",
    "DiagnosticSink",
    "DurableEngine",
    "Engine",
    "EngineError",
    "EvaluationError",
    "ExpressionSyntaxError",
    "FieldType",
    "Fired",
    "InterpretedEngine",
    "Located",
    "Matcher",
    "MatcherEngine",
    "Outcome",
    "Pack",
    "PackError",
    "PackFile",
    "ResolvedPack",
    "RuleError",
    "RuleFile",
    "RuleSpec",
    "TableSpec",
    "UnknownEngineError",
    "as_case",
    "compile_expr",
    "decide",
    "engine_names",
    "explain",
    "fact_view",
    "holds",
    "load_documents",
    "load_pack",
    "make_engine",
    "parse_expression",
    "parse_operand",
    "read_yaml",
]
