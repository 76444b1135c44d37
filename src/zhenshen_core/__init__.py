"""zhenshen_core — a library for running a joint review desk (联合甄审).

Public API is re-exported here; submodules starting with ``_`` are private.
"""

from __future__ import annotations

__version__ = "0.1.0"

from zhenshen_core.errors import (
    CaseNotFoundError,
    CaseValidationError,
    ConcurrencyError,
    DuplicateNameError,
    GuardError,
    IllegalTransitionError,
    IntakeError,
    LifecycleError,
    PluginError,
    PluginLoadError,
    StorageError,
    StoreURLError,
    UnknownNameError,
    ZhenshenError,
)
from zhenshen_core.model import (
    AppealType,
    Case,
    CaseEvent,
    CaseStatus,
    Chair,
    Channel,
    Clock,
    DepartmentAssignment,
    DepartmentRole,
    Enterprise,
    Lifecycle,
    OpinionResult,
    Satisfaction,
    Tier,
    dump_case,
    load_case,
)
from zhenshen_core.plugins import PluginConfig, PluginHost, hookimpl
from zhenshen_core.storage import CaseQuery, CaseStore

__all__ = [
    "AppealType",
    "Case",
    "CaseEvent",
    "CaseNotFoundError",
    "CaseQuery",
    "CaseStatus",
    "CaseStore",
    "CaseValidationError",
    "Chair",
    "Channel",
    "Clock",
    "ConcurrencyError",
    "DepartmentAssignment",
    "DepartmentRole",
    "DuplicateNameError",
    "Enterprise",
    "GuardError",
    "IllegalTransitionError",
    "IntakeError",
    "Lifecycle",
    "LifecycleError",
    "OpinionResult",
    "PluginConfig",
    "PluginError",
    "PluginHost",
    "PluginLoadError",
    "Satisfaction",
    "StorageError",
    "StoreURLError",
    "Tier",
    "UnknownNameError",
    "ZhenshenError",
    "__version__",
    "dump_case",
    "hookimpl",
    "load_case",
]
