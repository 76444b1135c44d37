"""What an engine accepts as a case: a ``Case``, or a mapping of case fields.

Embedding code often holds a work order as a dict (what a 12345 platform posted, a line of a
JSON export, a partial case someone typed to try a rule). ``engine.evaluate`` takes it as it
is: the mapping is completed the one way partial cases are completed everywhere
(``model.partial.complete_case``, as ``zhenshen eval`` and ``zhenshen test`` read them) and
validated into a ``Case``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from zhenshen_core.model.case import Case
from zhenshen_core.model.partial import complete_case


def as_case(case: Case | Mapping[str, Any], *, received_at: Any = None) -> Case:
    """``case`` itself, or the mapping completed and validated (``received_at`` is the default
    arrival instant; without one a mapping must carry its own, as on ``zhenshen eval``).

    Raises ``CaseValidationError`` (located, one line per problem) for a mapping that is not a
    case, and ``TypeError`` for anything that is neither.
    """
    if isinstance(case, Case):
        return case
    if not isinstance(case, Mapping):
        raise TypeError(f"expected a Case or a mapping of case fields, got {type(case).__name__}")
    from zhenshen_core.model.lifecycle import load_case

    return load_case(complete_case(case, received_at=received_at))


__all__ = ["as_case"]
