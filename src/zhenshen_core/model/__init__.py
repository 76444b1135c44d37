"""The case model: validated pydantic records, the lifecycle table and the event history."""

from typing import TYPE_CHECKING

from zhenshen_core._lazy import lazy_attributes
from zhenshen_core.model.case import (
    SHANGHAI,
    Case,
    Confirmation,
    DepartmentAssignment,
    DepartmentReturn,
    Enterprise,
    ExecutionTask,
    ExpertRequest,
    ExternalRef,
    Feedback,
    Location,
    Measure,
    Meeting,
    PackRef,
    Requester,
    ReviewOpinion,
    SupervisionRecord,
    case_id_for,
)
from zhenshen_core.model.clock import Clock, ClockExtension, ClockPause
from zhenshen_core.model.enums import (
    AppealType,
    CaseStatus,
    Chair,
    Channel,
    DepartmentRole,
    EnterpriseSize,
    LabeledEnum,
    MeetingKind,
    OpinionResult,
    Satisfaction,
    TaskStatus,
    Tier,
)
from zhenshen_core.model.identity import mask_phone, normalise_uscc, validate_uscc
from zhenshen_core.model.partial import complete_case

if TYPE_CHECKING:  # imported on first use (see ``__getattr__``): most readers of a case never
    # apply events, and the lifecycle table is a third of this package's import time
    from zhenshen_core.model.events import CaseEvent
    from zhenshen_core.model.lifecycle import (
        DEFAULT_TRANSITIONS,
        DESK_EVENTS,
        PERSON_EVENTS,
        Lifecycle,
        Transition,
        dump_case,
        is_person_event,
        load_case,
    )

_LAZY = {
    "CaseEvent": "zhenshen_core.model.events",
    "DEFAULT_TRANSITIONS": "zhenshen_core.model.lifecycle",
    "DESK_EVENTS": "zhenshen_core.model.lifecycle",
    "PERSON_EVENTS": "zhenshen_core.model.lifecycle",
    "is_person_event": "zhenshen_core.model.lifecycle",
    "Lifecycle": "zhenshen_core.model.lifecycle",
    "Transition": "zhenshen_core.model.lifecycle",
    "dump_case": "zhenshen_core.model.lifecycle",
    "load_case": "zhenshen_core.model.lifecycle",
}


__getattr__ = lazy_attributes(__name__, _LAZY)


__all__ = [
    "DEFAULT_TRANSITIONS",
    "DESK_EVENTS",
    "PERSON_EVENTS",
    "SHANGHAI",
    "AppealType",
    "Case",
    "CaseEvent",
    "CaseStatus",
    "Chair",
    "Channel",
    "Clock",
    "ClockExtension",
    "ClockPause",
    "Confirmation",
    "DepartmentAssignment",
    "DepartmentReturn",
    "DepartmentRole",
    "Enterprise",
    "EnterpriseSize",
    "ExecutionTask",
    "ExpertRequest",
    "ExternalRef",
    "Feedback",
    "LabeledEnum",
    "Lifecycle",
    "Location",
    "Measure",
    "Meeting",
    "MeetingKind",
    "OpinionResult",
    "PackRef",
    "Requester",
    "ReviewOpinion",
    "Satisfaction",
    "SupervisionRecord",
    "TaskStatus",
    "Tier",
    "Transition",
    "case_id_for",
    "complete_case",
    "dump_case",
    "is_person_event",
    "load_case",
    "mask_phone",
    "normalise_uscc",
    "validate_uscc",
]
