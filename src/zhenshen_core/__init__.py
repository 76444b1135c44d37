"""zhenshen_core — a library for running a joint review desk (联合甄审).

Public API is re-exported here; submodules starting with ``_`` are private. Only the errors
are imported eagerly: the model, lifecycle, plugin, storage, rules, deadline and desk names are
imported on first use (PEP 562), so ``import zhenshen_core`` stays light, a command starts with
only what it uses (and ``zhenshen_core.console`` can set up before anything heavy loads), and
the durable_rules C extension loads only when the durable engine is asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from zhenshen_core._lazy import lazy_attributes

__version__ = "0.1.0"

from zhenshen_core.errors import (
    CaseNotFoundError,
    CaseValidationError,
    ChannelOptionError,
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

if TYPE_CHECKING:  # the names below are imported on first use (see ``__getattr__``)
    from zhenshen_core.deadlines import (
        Calendar,
        CalendarPolicy,
        CalendarRangeError,
        DeadlineError,
        compute_due,
        national_calendar,
        parse_period,
    )
    from zhenshen_core.desk import Desk, DeskSettings
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
        complete_case,
        dump_case,
        load_case,
    )
    from zhenshen_core.plugins import PluginConfig, PluginHost, hookimpl
    from zhenshen_core.profiles import MappingError, Profile, ProfileError, load_profile
    from zhenshen_core.progress import ProgressReporter
    from zhenshen_core.rules import (
        CompiledEngine,
        Decision,
        PackError,
        ResolvedPack,
        RuleError,
        load_pack,
    )
    from zhenshen_core.rules.durable import DurableEngine, EngineError
    from zhenshen_core.storage import CaseQuery, CaseStore, MemoryStore, SQLiteStore, open_store

_LAZY = {
    **dict.fromkeys(
        (
            "AppealType",
            "Case",
            "CaseStatus",
            "Chair",
            "Channel",
            "Clock",
            "DepartmentAssignment",
            "DepartmentRole",
            "Enterprise",
            "OpinionResult",
            "Satisfaction",
            "Tier",
        ),
        "zhenshen_core.model",
    ),
    "CaseEvent": "zhenshen_core.model",
    "Lifecycle": "zhenshen_core.model",
    "complete_case": "zhenshen_core.model",
    "dump_case": "zhenshen_core.model",
    "load_case": "zhenshen_core.model",
    "PluginConfig": "zhenshen_core.plugins",
    "PluginHost": "zhenshen_core.plugins",
    "hookimpl": "zhenshen_core.plugins",
    "ProgressReporter": "zhenshen_core.progress",
    "MappingError": "zhenshen_core.profiles",
    "Profile": "zhenshen_core.profiles",
    "ProfileError": "zhenshen_core.profiles",
    "load_profile": "zhenshen_core.profiles",
    "CaseQuery": "zhenshen_core.storage",
    "CaseStore": "zhenshen_core.storage",
    "Desk": "zhenshen_core.desk",
    "DeskSettings": "zhenshen_core.desk",
    "load_pack": "zhenshen_core.rules",
    "ResolvedPack": "zhenshen_core.rules",
    "CompiledEngine": "zhenshen_core.rules",
    "Decision": "zhenshen_core.rules",
    "PackError": "zhenshen_core.rules",
    "RuleError": "zhenshen_core.rules",
    "DurableEngine": "zhenshen_core.rules.durable",
    "EngineError": "zhenshen_core.rules.durable",
    "Calendar": "zhenshen_core.deadlines",
    "CalendarPolicy": "zhenshen_core.deadlines",
    "national_calendar": "zhenshen_core.deadlines",
    "compute_due": "zhenshen_core.deadlines",
    "parse_period": "zhenshen_core.deadlines",
    "DeadlineError": "zhenshen_core.deadlines",
    "CalendarRangeError": "zhenshen_core.deadlines",
    "open_store": "zhenshen_core.storage",
    "MemoryStore": "zhenshen_core.storage",
    "SQLiteStore": "zhenshen_core.storage",
}


__getattr__ = lazy_attributes(__name__, _LAZY)


__all__ = [
    "AppealType",
    "Calendar",
    "CalendarPolicy",
    "CalendarRangeError",
    "Case",
    "CaseEvent",
    "CaseNotFoundError",
    "CaseQuery",
    "CaseStatus",
    "CaseStore",
    "CaseValidationError",
    "Chair",
    "Channel",
    "ChannelOptionError",
    "Clock",
    "CompiledEngine",
    "ConcurrencyError",
    "DeadlineError",
    "Decision",
    "DepartmentAssignment",
    "DepartmentRole",
    "Desk",
    "DeskSettings",
    "DuplicateNameError",
    "DurableEngine",
    "EngineError",
    "Enterprise",
    "GuardError",
    "IllegalTransitionError",
    "IntakeError",
    "Lifecycle",
    "LifecycleError",
    "MappingError",
    "MemoryStore",
    "OpinionResult",
    "PackError",
    "PluginConfig",
    "PluginError",
    "PluginHost",
    "PluginLoadError",
    "Profile",
    "ProfileError",
    "ProgressReporter",
    "ResolvedPack",
    "RuleError",
    "SQLiteStore",
    "Satisfaction",
    "StorageError",
    "StoreURLError",
    "Tier",
    "UnknownNameError",
    "ZhenshenError",
    "__version__",
    "complete_case",
    "compute_due",
    "dump_case",
    "hookimpl",
    "load_case",
    "load_pack",
    "load_profile",
    "national_calendar",
    "open_store",
    "parse_period",
]
