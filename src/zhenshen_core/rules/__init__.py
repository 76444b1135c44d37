"""Rule packs: the expression language, decision tables, pack loading and the engines.

Typical use::

    from zhenshen_core.rules import load_pack, CompiledEngine
    pack = load_pack("packs/chengdu-gxq", search_paths=["packs"])
    decision = CompiledEngine(pack).evaluate(case)
    print(decision.to_json())
"""

from zhenshen_core.rules.compiled import CompiledEngine, InterpretedEngine, compile_expr
from zhenshen_core.rules.decision import Decision, Fired, Matcher, decide
from zhenshen_core.rules.diagnostics import (
    Diagnostic,
    DiagnosticSink,
    EvaluationError,
    ExpressionSyntaxError,
    PackError,
    RuleError,
)
from zhenshen_core.rules.engine import Engine
from zhenshen_core.rules.explain import explain
from zhenshen_core.rules.facts import FACT_SCHEMA, FieldType, fact_view
from zhenshen_core.rules.loader import Located, load_documents, load_pack, read_yaml
from zhenshen_core.rules.pack import Outcome, PackFile, ResolvedPack, RuleFile, RuleSpec, TableSpec
from zhenshen_core.rules.parser import parse_expression, parse_operand
from zhenshen_core.rules.semantics import holds

Pack = ResolvedPack

__all__ = [
    "FACT_SCHEMA",
    "CompiledEngine",
    "Decision",
    "Diagnostic",
    "DiagnosticSink",
    "Engine",
    "EvaluationError",
    "ExpressionSyntaxError",
    "FieldType",
    "Fired",
    "InterpretedEngine",
    "Located",
    "Matcher",
    "Outcome",
    "Pack",
    "PackError",
    "PackFile",
    "ResolvedPack",
    "RuleError",
    "RuleFile",
    "RuleSpec",
    "TableSpec",
    "compile_expr",
    "decide",
    "explain",
    "fact_view",
    "holds",
    "load_documents",
    "load_pack",
    "parse_expression",
    "parse_operand",
    "read_yaml",
]
