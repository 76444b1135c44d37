"""The durable_rules engine and cross-case sessions, guarded against the engine's known crashes.

``DurableEngine(pack)`` gives the same decisions as ``CompiledEngine(pack)`` (a differential test
checks it); ``CrossCaseSession`` runs windowed patterns over many cases of one correlation key.
Every refusal or failure of the engine surfaces as :class:`EngineError`. See
``docs/explanation/engines.md``.
"""

from zhenshen_core.rules.engines.durable.matcher import DurableEngine, DurableMatcher, StageStats
from zhenshen_core.rules.engines.durable.patterns import (
    CrossCaseAlert,
    CrossCaseSession,
    WindowPattern,
)
from zhenshen_core.rules.engines.durable.session import DurableSession, EngineError

__all__ = [
    "CrossCaseAlert",
    "CrossCaseSession",
    "DurableEngine",
    "DurableMatcher",
    "DurableSession",
    "EngineError",
    "StageStats",
    "WindowPattern",
]
