"""Impact of a rule change (``zhenshen diff``): evaluate a corpus with two packs, report changes.

``corpus`` reads the cases, ``screen`` works out which rules differ and which cases they can
touch, ``compare`` compares two decisions and counts, ``run`` evaluates (in worker processes
for a large corpus) and puts it together (``diff_corpus``). See ``run`` for how it stays fast on
a million cases.
"""

from zhenshen_core.rules.impact.compare import DiffSummary, compare
from zhenshen_core.rules.impact.corpus import CorpusError, PackRef, read_corpus
from zhenshen_core.rules.impact.run import DiffResult, Evaluator, diff_corpus, naive_diff
from zhenshen_core.rules.impact.screen import (
    RuleChanges,
    Screen,
    changed_definitions,
    rule_changes,
    screen_for,
)

__all__ = [
    "CorpusError",
    "DiffResult",
    "DiffSummary",
    "Evaluator",
    "PackRef",
    "RuleChanges",
    "Screen",
    "changed_definitions",
    "compare",
    "diff_corpus",
    "naive_diff",
    "read_corpus",
    "rule_changes",
    "screen_for",
]
