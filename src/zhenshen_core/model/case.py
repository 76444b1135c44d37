"""The case aggregate: one enterprise request as it moves through the joint review desk.

Every field a 12345-style work order carries is here, plus what the joint review adds (meetings,
opinion, confirmation, tasks, supervision, clocks, feedback). Domains, departments, experts and
severity levels are plain strings because rule packs define them; channels, appeal types and
the lifecycle states are enums because their meaning is fixed by the library.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SerializationInfo,
    field_serializer,
    field_validator,
    model_validator,
)

from zhenshen_core.model.clock import Clock
from zhenshen_core.model.enums import (
    AppealType,
    CaseStatus,
    Chair,
    Channel,
    DepartmentRole,
    EnterpriseSize,
    MeetingKind,
    OpinionResult,
    Satisfaction,
    TaskStatus,
    Tier,
)
from zhenshen_core.model.identity import mask_phone, validate_uscc

SHANGHAI = ZoneInfo("Asia/Shanghai")


def ensure_aware(value: datetime) -> datetime:
    """Naive instants are read as Asia/Shanghai, the zone every work order is written in."""
    return value if value.tzinfo is not None else value.replace(tzinfo=SHANGHAI)


_NUMBER = re.compile(r"\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*")


def not_a_number(value: Any) -> Any:
    """Refuse a number, or text that is only a number, where an instant belongs.

    pydantic would read ``13912345678`` (a phone number in the wrong column) as seconds since
    1970, the year 2410, and store it without a word; no channel writes instants that way,
    and one that means to must convert them itself (a mapping profile's converters do)."""
    if isinstance(value, bool | int | float | Decimal) or (
        isinstance(value, str) and _NUMBER.fullmatch(value)
    ):
        raise ValueError(
            f"{value!r} is a number, not a date-time; numbers are not read as Unix times, "
            "write an ISO 8601 date-time (2026-03-02T09:30:00+08:00)"
        )
    return value


AwareDatetime = Annotated[datetime, BeforeValidator(not_a_number), AfterValidator(ensure_aware)]
USCC = Annotated[str, AfterValidator(validate_uscc)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=False)


class ExternalRef(_Model):
    """Where a request came from: the channel and its own id (e.g. a 12345 工单编号)."""

    channel: Channel
    external_id: str = Field(min_length=1, max_length=200)


class Enterprise(_Model):
    name: str = Field(min_length=1, max_length=200)
    uscc: USCC | None = Field(default=None, description="统一社会信用代码 (GB 32100-2015)")
    size: EnterpriseSize = EnterpriseSize.UNKNOWN
    industry_code: str | None = Field(default=None, description="GB/T 4754 industry code")
    tags: list[str] = Field(default_factory=list)


class Requester(_Model):
    """The person who contacted the desk; the phone number is masked whenever shown."""

    name: str | None = None
    phone: str | None = None
    anonymous: bool = False
    confidential: bool = False

    @field_serializer("phone")
    def _mask(self, phone: str | None, info: SerializationInfo) -> str | None:
        # Masked unless the caller is storage (context {"unmasked": True}): safe by default.
        context = info.context or {}
        if phone and not context.get("unmasked"):
            return mask_phone(phone)
        return phone

    def __repr_args__(self) -> Any:
        for key, value in super().__repr_args__():
            yield key, (mask_phone(value) if key == "phone" and value else value)


class Location(_Model):
    district: str | None = None
    street: str | None = None
    address: str | None = None


class DepartmentAssignment(_Model):
    id: str = Field(min_length=1)
    role: DepartmentRole = DepartmentRole.CO


class ExpertRequest(_Model):
    """An expert the rules call for (``reason`` says why) and, once given, the expert's advice.

    The advice is recorded by the ``record_expert_advice`` event (at or after the meeting);
    the opinion letter quotes ``advice``, never ``reason``.
    """

    kind: str = Field(description="expert kind id from the pack, e.g. lawyer, think_tank")
    required: bool = True
    reason: str = Field(default="", description="why the rules call for this expert")
    name: str | None = None
    advice: str | None = Field(default=None, description="the expert's advice, as given")
    advised_at: AwareDatetime | None = Field(default=None, description="when it was given")


class Meeting(_Model):
    id: str
    kind: MeetingKind
    scheduled_at: AwareDatetime
    held_at: AwareDatetime | None = None
    chair: Chair | None = None
    attendees: list[str] = Field(default_factory=list)
    minutes: str = ""


class Measure(_Model):
    """One measure of a review opinion: what is to be done, by which department, by when.

    A plain string is read as a measure with only its description (the form opinions were
    stored in before measures had a department and a due day); ``Desk.issue_opinion`` always
    stores all three, and a letter refuses a measure without them.
    """

    description: str = Field(min_length=1)
    department: str | None = Field(default=None, description="department id from the pack")
    period: str | None = Field(
        default=None, description="the period it was given, counted from the opinion's date"
    )
    due: date | None = Field(default=None, description="the last day, on the official calendar")

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, data: Any) -> Any:
        return {"description": data} if isinstance(data, str) else data


class ReviewOpinion(_Model):
    """The 甄别审查意见书: the article requires both the result and its reasons."""

    letter_no: str | None = Field(default=None, description="文号")
    result: OpinionResult
    reasons: str = Field(min_length=1)
    measures: list[Measure] = Field(default_factory=list)
    legal_basis: list[str] = Field(default_factory=list)
    issued_at: AwareDatetime


class Confirmation(_Model):
    meeting_id: str
    confirmed_at: AwareDatetime
    note: str = ""


class ExecutionTask(_Model):
    id: str
    department: str
    description: str
    due: date | None = None
    status: TaskStatus = TaskStatus.OPEN
    completed_at: AwareDatetime | None = None
    result: str = ""


class SupervisionRecord(_Model):
    at: AwareDatetime
    kind: str = Field(description="reminder | notice | inspection")
    task_id: str | None = None
    clock: str | None = None
    note: str = ""


class Feedback(_Model):
    at: AwareDatetime
    satisfaction: Satisfaction
    comment: str = ""


class DepartmentReturn(_Model):
    """A 退单: one department handing the case back; two of them escalate to joint review."""

    at: AwareDatetime
    from_department: str
    to_department: str | None = None
    reason: str = ""


class PackRef(_Model):
    id: str
    version: str
    sha256: str


#: How deeply ``Case.facts`` may nest lists and mappings.
MAX_FACTS_DEPTH = 32


def _check_depth(value: dict[str, Any] | list[Any], allowed: int) -> None:
    if allowed <= 0:
        raise ValueError(f"facts nest lists and mappings more than {MAX_FACTS_DEPTH} levels deep")
    for item in value.values() if type(value) is dict else value:
        if type(item) is dict or type(item) is list:
            _check_depth(item, allowed - 1)


def case_id_for(channel: str, external_id: str) -> str:
    """A stable id derived from the channel's own id, so repeated intake maps to one case."""
    digest = hashlib.sha256(f"{channel}\x00{external_id}".encode()).hexdigest()
    return "ZS" + digest[:16].upper()


class Case(_Model):
    """The aggregate root. Change it only through lifecycle events (see ``lifecycle``)."""

    id: str = Field(default="", description="derived from channel + external_id when empty")
    external_id: str | None = Field(default=None, max_length=200, description="e.g. 12345 工单编号")
    channel: Channel = Channel.API
    external_refs: list[ExternalRef] = Field(default_factory=list)
    received_at: AwareDatetime
    appeal_type: AppealType = AppealType.HELP
    title: str = Field(default="", max_length=500)
    content: str = Field(default="", max_length=20000)
    domain: str | None = None
    enterprise: Enterprise | None = None
    requester: Requester | None = None
    location: Location | None = None
    departments: list[DepartmentAssignment] = Field(default_factory=list)
    severity: str | None = None
    tier: Tier | None = None
    chair: Chair | None = None
    experts: list[ExpertRequest] = Field(default_factory=list)
    meetings: list[Meeting] = Field(default_factory=list)
    opinion: ReviewOpinion | None = None
    confirmation: Confirmation | None = None
    tasks: list[ExecutionTask] = Field(default_factory=list)
    supervision: list[SupervisionRecord] = Field(default_factory=list)
    returns: list[DepartmentReturn] = Field(default_factory=list)
    clocks: dict[str, Clock] = Field(default_factory=dict)
    feedback: list[Feedback] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    facts: dict[str, Any] = Field(
        default_factory=dict,
        description="what rules read as facts.<name>; lists and mappings nest at most 32 deep",
    )
    notes: list[str] = Field(default_factory=list)
    decision: dict[str, Any] | None = None
    merged_into: str | None = None
    status: CaseStatus = CaseStatus.RECEIVED
    version: int = Field(default=0, ge=0, description="number of events applied; for OCC")
    pack: PackRef | None = None

    @model_validator(mode="after")
    def _derive_identity(self) -> Case:
        # Runs for every validated case (intake, eval streams): plain dict access rather than
        # pydantic's __setattr__ and a generator (both validated already; fields_set kept).
        data = self.__dict__
        channel, external_id = data["channel"], data["external_id"]
        if not data["id"]:
            source = (
                external_id or f"{self.received_at.isoformat()}|{self.title}|{self.content}"
            )
            data["id"] = case_id_for(channel.value, source)
            self.__pydantic_fields_set__.add("id")
        if external_id:
            refs = data["external_refs"]
            for ref in refs:
                if ref.channel == channel and ref.external_id == external_id:
                    break
            else:
                refs.insert(0, ExternalRef(channel=channel, external_id=external_id))
        return self

    @field_validator("facts")
    @classmethod
    def _facts_depth(cls, value: dict[str, Any]) -> dict[str, Any]:
        # Bounded so that every stored case can be written back as JSON (the serialiser stops
        # at about 250 levels) and read by the recursive parsers; real facts are 1-3 deep.
        for item in value.values():
            if type(item) is dict or type(item) is list:
                _check_depth(item, MAX_FACTS_DEPTH - 1)
        return value

    @field_validator("departments")
    @classmethod
    def _one_lead(cls, value: list[DepartmentAssignment]) -> list[DepartmentAssignment]:
        leads = [d.id for d in value if d.role is DepartmentRole.LEAD]
        if len(leads) > 1:
            raise ValueError(f"a case has at most one lead department, got {leads}")
        return value

    @property
    def lead_department(self) -> str | None:
        return next((d.id for d in self.departments if d.role is DepartmentRole.LEAD), None)

    @property
    def enterprise_uscc(self) -> str | None:
        return self.enterprise.uscc if self.enterprise else None

    def next_alert_at(self) -> datetime | None:
        """Earliest pending clock alert; storage indexes it so the sweep is one query."""
        pending = [c.next_alert_at for c in self.clocks.values() if c.next_alert_at is not None]
        return min(pending) if pending else None
