"""Rule packs: the expression language, decision tables, pack loading and the engines."""

from zhenshen_core.rules.diagnostics import Diagnostic, ExpressionSyntaxError, PackError, RuleError
from zhenshen_core.rules.parser import parse_expression

__all__ = ["Diagnostic", "ExpressionSyntaxError", "PackError", "RuleError", "parse_expression"]
