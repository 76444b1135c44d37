"""The rule expression grammar (lark, LALR). See docs/reference/rule-language.md.

Kept as a Python string rather than a ``.lark`` data file so that it ships in every wheel
without package-data configuration.
"""

#: Words that cannot be field names (lark would otherwise lex them as NAME).
KEYWORDS = (
    "and",
    "or",
    "not",
    "in",
    "contains",
    "contains_any",
    "contains_all",
    "matches",
    "exists",
    "count",
    "true",
    "false",
)

GRAMMAR = r"""
// The rule expression language (LALR). See docs/reference/rule-language.md.
// Keywords are string terminals; lark re-types a NAME that spells a keyword.

?start: or_expr

// Table inputs are operands (a field or count(field)), not conditions.
?operand_start: operand

?or_expr: and_expr
        | or_expr "or" and_expr            -> or_

?and_expr: not_expr
         | and_expr "and" not_expr         -> and_

?not_expr: "not" not_expr                  -> not_
         | "(" or_expr ")"
         | test

test: operand COMP operand                 -> compare
    | operand "in" operand                 -> in_
    | operand "not" "in" operand           -> not_in
    | operand "contains" operand           -> contains
    | operand "contains_any" operand       -> contains_any
    | operand "contains_all" operand       -> contains_all
    | operand "matches" STRING             -> matches
    | "exists" "(" field ")"               -> exists
    | field                                -> truthy

?operand: field
        | literal
        | "count" "(" field ")"            -> count

field: NAME ("." NAME)*

?literal: STRING                           -> string
        | DATE                             -> date_
        | NUMBER                           -> number
        | "true"                           -> true
        | "false"                          -> false
        | "[" [scalar ("," scalar)*] ","? "]"  -> list_

?scalar: STRING                            -> string
       | DATE                              -> date_
       | NUMBER                            -> number
       | "true"                            -> true
       | "false"                           -> false

COMP: "==" | "!=" | "<=" | ">=" | "<" | ">"
NAME: /(?!(?:@KEYWORDS@)\b)(?!\d)\w+/
DATE.2: /\d{4}-\d{2}-\d{2}(?![\w.])/
NUMBER: /-?\d+(\.\d+)?([eE][+-]?\d+)?/
STRING: /"(?:[^"\\\n]|\\.)*"/ | /'(?:[^'\\\n]|\\.)*'/

%import common.WS
%ignore WS
""".replace("@KEYWORDS@", "|".join(KEYWORDS))

__all__ = ["GRAMMAR", "KEYWORDS"]
