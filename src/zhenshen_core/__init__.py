"""zhenshen_core — a library for running a joint review desk (联合甄审).

The public API is re-exported here, and ``from zhenshen_core import Desk, load_pack, open_store``
is the one import path the docs use for these names; submodules starting with ``_`` are
private. Every name is imported on first use (PEP 562), so ``import zhenshen_core`` stays light,
a command starts with only what it uses (and ``zhenshen_core.console`` can set up before
anything heavy loads), and the durable_rules C extension loads only when the durable engine is
asked for. The names are listed once, in ``_API`` (name → module, grouped by module);
``__getattr__`` and ``__all__`` are derived from it, and the ``TYPE_CHECKING`` imports that
show them to mypy are checked against it by ``tests/test_public_api.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from zhenshen_core._lazy import lazy_attributes, public_names

__version__ = "0.1.0"

if TYPE_CHECKING:  # the names below are imported on first use (see ``__getattr__``)
    from zhenshen_core.deadlines import Calendar as Calendar
    from zhenshen_core.deadlines import CalendarPolicy as CalendarPolicy
    from zhenshen_core.deadlines import CalendarRangeError as CalendarRangeError
    from zhenshen_core.deadlines import DeadlineError as DeadlineError
    from zhenshen_core.deadlines import compute_due as compute_due
    from zhenshen_core.deadlines import national_calendar as national_calendar
    from zhenshen_core.deadlines import parse_period as parse_period
    from zhenshen_core.desk import Desk as Desk
    from zhenshen_core.desk import DeskSettings as DeskSettings
    from zhenshen_core.errors import CaseNotFoundError as CaseNotFoundError
    from zhenshen_core.errors import CaseValidationError as CaseValidationError
    from zhenshen_core.errors import ChannelOptionError as ChannelOptionError
    from zhenshen_core.errors import ConcurrencyError as ConcurrencyError
    from zhenshen_core.errors import DeskOnlyEventError as DeskOnlyEventError
    from zhenshen_core.errors import DuplicateNameError as DuplicateNameError
    from zhenshen_core.errors import GuardError as GuardError
    from zhenshen_core.errors import IllegalTransitionError as IllegalTransitionError
    from zhenshen_core.errors import IntakeError as IntakeError
    from zhenshen_core.errors import LifecycleError as LifecycleError
    from zhenshen_core.errors import NormaliseError as NormaliseError
    from zhenshen_core.errors import PluginError as PluginError
    from zhenshen_core.errors import PluginLoadError as PluginLoadError
    from zhenshen_core.errors import StorageError as StorageError
    from zhenshen_core.errors import StoreUnavailableError as StoreUnavailableError
    from zhenshen_core.errors import StoreURLError as StoreURLError
    from zhenshen_core.errors import UnknownNameError as UnknownNameError
    from zhenshen_core.errors import ZhenshenError as ZhenshenError
    from zhenshen_core.intake.profiles import MappingError as MappingError
    from zhenshen_core.intake.profiles import Profile as Profile
    from zhenshen_core.intake.profiles import ProfileError as ProfileError
    from zhenshen_core.intake.profiles import load_profile as load_profile
    from zhenshen_core.intake.window import ReceivedWindow as ReceivedWindow
    from zhenshen_core.model import PERSON_EVENTS as PERSON_EVENTS
    from zhenshen_core.model import AppealType as AppealType
    from zhenshen_core.model import Case as Case
    from zhenshen_core.model import CaseEvent as CaseEvent
    from zhenshen_core.model import CaseStatus as CaseStatus
    from zhenshen_core.model import Chair as Chair
    from zhenshen_core.model import Channel as Channel
    from zhenshen_core.model import Clock as Clock
    from zhenshen_core.model import DepartmentAssignment as DepartmentAssignment
    from zhenshen_core.model import DepartmentRole as DepartmentRole
    from zhenshen_core.model import Enterprise as Enterprise
    from zhenshen_core.model import Lifecycle as Lifecycle
    from zhenshen_core.model import OpinionResult as OpinionResult
    from zhenshen_core.model import Satisfaction as Satisfaction
    from zhenshen_core.model import Tier as Tier
    from zhenshen_core.model import complete_case as complete_case
    from zhenshen_core.model import dump_case as dump_case
    from zhenshen_core.model import is_person_event as is_person_event
    from zhenshen_core.model import load_case as load_case
    from zhenshen_core.plugins import PluginConfig as PluginConfig
    from zhenshen_core.plugins import PluginHost as PluginHost
    from zhenshen_core.plugins import hookimpl as hookimpl
    from zhenshen_core.privacy import MaskPolicy as MaskPolicy
    from zhenshen_core.privacy import PersonalDataKind as PersonalDataKind
    from zhenshen_core.privacy import PersonalDataSpan as PersonalDataSpan
    from zhenshen_core.privacy import detect_personal_data as detect_personal_data
    from zhenshen_core.privacy import mask_case as mask_case
    from zhenshen_core.privacy import mask_document as mask_document
    from zhenshen_core.privacy import mask_events as mask_events
    from zhenshen_core.privacy import mask_text as mask_text
    from zhenshen_core.privacy import mask_value as mask_value
    from zhenshen_core.progress import ProgressReporter as ProgressReporter
    from zhenshen_core.rules import CompiledEngine as CompiledEngine
    from zhenshen_core.rules import Decision as Decision
    from zhenshen_core.rules import PackError as PackError
    from zhenshen_core.rules import ResolvedPack as ResolvedPack
    from zhenshen_core.rules import RuleError as RuleError
    from zhenshen_core.rules import load_pack as load_pack
    from zhenshen_core.rules.engines.durable import DurableEngine as DurableEngine
    from zhenshen_core.rules.engines.durable import EngineError as EngineError
    from zhenshen_core.storage import AuditRecord as AuditRecord
    from zhenshen_core.storage import CaseQuery as CaseQuery
    from zhenshen_core.storage import CaseStore as CaseStore
    from zhenshen_core.storage import MemoryStore as MemoryStore
    from zhenshen_core.storage import SQLiteStore as SQLiteStore
    from zhenshen_core.storage import open_store as open_store

_API = public_names(
    {
        "zhenshen_core.deadlines": (
            "Calendar",
            "CalendarPolicy",
            "CalendarRangeError",
            "DeadlineError",
            "compute_due",
            "national_calendar",
            "parse_period",
        ),
        "zhenshen_core.desk": (
            "Desk",
            "DeskSettings",
        ),
        "zhenshen_core.errors": (
            "CaseNotFoundError",
            "CaseValidationError",
            "ChannelOptionError",
            "ConcurrencyError",
            "DeskOnlyEventError",
            "DuplicateNameError",
            "GuardError",
            "IllegalTransitionError",
            "IntakeError",
            "LifecycleError",
            "NormaliseError",
            "PluginError",
            "PluginLoadError",
            "StorageError",
            "StoreUnavailableError",
            "StoreURLError",
            "UnknownNameError",
            "ZhenshenError",
        ),
        "zhenshen_core.model": (
            "AppealType",
            "Case",
            "CaseEvent",
            "CaseStatus",
            "Chair",
            "Channel",
            "Clock",
            "DepartmentAssignment",
            "DepartmentRole",
            "Enterprise",
            "Lifecycle",
            "OpinionResult",
            "PERSON_EVENTS",
            "Satisfaction",
            "Tier",
            "complete_case",
            "dump_case",
            "is_person_event",
            "load_case",
        ),
        "zhenshen_core.plugins": (
            "PluginConfig",
            "PluginHost",
            "hookimpl",
        ),
        "zhenshen_core.privacy": (
            "MaskPolicy",
            "PersonalDataKind",
            "PersonalDataSpan",
            "detect_personal_data",
            "mask_case",
            "mask_document",
            "mask_events",
            "mask_text",
            "mask_value",
        ),
        "zhenshen_core.intake.profiles": (
            "MappingError",
            "Profile",
            "ProfileError",
            "load_profile",
        ),
        "zhenshen_core.intake.window": ("ReceivedWindow",),
        "zhenshen_core.progress": (
            "ProgressReporter",
        ),
        "zhenshen_core.rules": (
            "CompiledEngine",
            "Decision",
            "PackError",
            "ResolvedPack",
            "RuleError",
            "load_pack",
        ),
        "zhenshen_core.rules.engines.durable": (
            "DurableEngine",
            "EngineError",
        ),
        "zhenshen_core.storage": (
            "AuditRecord",
            "CaseQuery",
            "CaseStore",
            "MemoryStore",
            "SQLiteStore",
            "open_store",
        ),
    }
)
"""Every public name and the module that defines it."""

__getattr__ = lazy_attributes(__name__, _API)

__all__ = ["__version__", *sorted(_API)]
