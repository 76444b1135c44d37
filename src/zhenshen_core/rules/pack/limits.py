"""How big a pack may be: the limits that keep loading one bounded in time and memory.

A pack may come from another district, so loading it must not be able to take the machine:
without limits a 100,000-row table took 11 s and 897 MB, and a chain of 1,500 ``extends``
exhausted the parser's recursion. Each limit is far above what a district writes (the
reference pack has 40 rules in files of 5 KB) and is reported as ``P209`` at the place that
goes past it, naming the limit, so the message says what to split. The figures are in
``docs/reference/rule-language.md`` and ``docs/explanation/reliability.md``; a test loads a pack
at each limit and one past it.
"""

from __future__ import annotations

#: Bytes of one YAML file of a pack (pack.yaml, a rule file, a test file, a golden file). Read
#: with positions, YAML costs up to 150 bytes of memory a byte: a megabyte of one-cell table
#: rows takes about 2 s and 150 MB; 5,000 rules fit in a third of it.
MAX_FILE_BYTES = 1_000_000
#: Bytes of the rule files one load reads: the pack's and its bases' together.
MAX_PACK_BYTES = 2_000_000
#: Rule files one pack reads (``include`` globs, or every ``*.yaml`` of its folder).
MAX_PACK_FILES = 500
#: Rules, tables and cross-case rules of a pack, its bases' included (what engines compile).
MAX_RULES = 5_000
#: Rows of one decision table.
MAX_TABLE_ROWS = 5_000
#: Levels of ``extends``: a pack, its base, the base's base … (national → province → city →
#: district → organisation is five).
MAX_EXTENDS_DEPTH = 16
#: Bases one pack names in ``extends``.
MAX_BASES = 16


def over(count: int, limit: int, what: str) -> str:
    """The message for ``count`` things where ``limit`` is the most allowed."""
    return f"{count:,} {what}; a pack allows at most {limit:,} (split it, or drop what is unused)"


__all__ = [
    "MAX_BASES",
    "MAX_EXTENDS_DEPTH",
    "MAX_FILE_BYTES",
    "MAX_PACK_BYTES",
    "MAX_PACK_FILES",
    "MAX_RULES",
    "MAX_TABLE_ROWS",
    "over",
]
