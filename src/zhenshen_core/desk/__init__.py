"""The joint review desk: the :class:`Desk` facade and what it is built from.

``facade`` (:class:`Desk`: receive, decide, sweep, documents) over ``steps`` (the article's
steps) over ``core`` (state, one-write commits, notifications); ``clocks`` (which event starts
or stops which clock), ``decisions`` (a decision as events), ``sweep`` and ``recompute``
(supervision of the clocks), ``bulk`` (the desk's pipeline for bulk intake), ``monitor`` (the
cross-case rules), ``settings`` and ``results``; ``report/``, ``letters/`` and ``fonts`` are
the documents a desk produces. Names are imported on first use, so reading a letter or a
report does not load the desk's engine, storage or lifecycle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from zhenshen_core._lazy import lazy_attributes, public_names

if TYPE_CHECKING:
    from zhenshen_core.desk.decisions import same_outcome as same_outcome
    from zhenshen_core.desk.facade import Desk as Desk
    from zhenshen_core.desk.recompute import RECOMPUTE_RECORD as RECOMPUTE_RECORD
    from zhenshen_core.desk.results import ClockAlert as ClockAlert
    from zhenshen_core.desk.results import ClockChange as ClockChange
    from zhenshen_core.desk.results import RecomputeResult as RecomputeResult
    from zhenshen_core.desk.results import Redecision as Redecision
    from zhenshen_core.desk.results import SweepResult as SweepResult
    from zhenshen_core.desk.settings import DEFAULT_OPINION_PERIOD as DEFAULT_OPINION_PERIOD
    from zhenshen_core.desk.settings import GENERIC as GENERIC
    from zhenshen_core.desk.settings import DeskSettings as DeskSettings
    from zhenshen_core.desk.sweep import SWEEP_ATTEMPTS as SWEEP_ATTEMPTS

_API = public_names(
    {
        "zhenshen_core.desk.decisions": ("same_outcome",),
        "zhenshen_core.desk.facade": ("Desk",),
        "zhenshen_core.desk.recompute": ("RECOMPUTE_RECORD",),
        "zhenshen_core.desk.results": (
            "ClockAlert",
            "ClockChange",
            "RecomputeResult",
            "Redecision",
            "SweepResult",
        ),
        "zhenshen_core.desk.settings": ("DEFAULT_OPINION_PERIOD", "GENERIC", "DeskSettings"),
        "zhenshen_core.desk.sweep": ("SWEEP_ATTEMPTS",),
    }
)
"""Every public name and the module that defines it (the one list; see ``zhenshen_core._lazy``)."""

__getattr__ = lazy_attributes(__name__, _API)

__all__ = sorted(_API)
