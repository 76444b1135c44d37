"""The mapping profile file, as pydantic models (the reference page is generated from them).

A profile says, for each case field, which source column(s) fill it and how their values are
converted, plus a table from the platform's classification codes to the pack's domains and
departments. The file carries a format version (``profile: 1``) and no key is ever repurposed.
"""

from __future__ import annotations

import difflib
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from zhenshen_core.intake.profiles.converters import CONVERTERS
from zhenshen_core.model.enums import Channel


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class ConverterSpec(_Strict):
    """One converter: written as its name (``trim``) or a mapping of its name to its argument
    (``{datetime: ["%Y/%m/%d %H:%M"]}``)."""

    name: str
    arg: Any = None

    @model_validator(mode="before")
    @classmethod
    def _written(cls, data: Any) -> Any:
        if isinstance(data, str):
            data = {"name": data, "arg": None}
        elif isinstance(data, dict) and set(data) != {"name", "arg"}:
            if len(data) != 1:
                raise PydanticCustomError(
                    "converter",
                    "a converter is a name or a mapping of one name to its argument, got {keys}",
                    {"keys": ", ".join(map(str, data)) or "an empty mapping"},
                )
            ((name, arg),) = data.items()
            data = {"name": name, "arg": arg}
        else:
            raise PydanticCustomError(
                "converter", "a converter is a name or a mapping of one name to its argument", {}
            )
        kind = CONVERTERS.get(str(data["name"]))
        if kind is None:
            close = difflib.get_close_matches(str(data["name"]), list(CONVERTERS), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise PydanticCustomError(
                "converter",
                "unknown converter '{name}'{hint} (known: {known})",
                {"name": data["name"], "hint": hint, "known": ", ".join(CONVERTERS)},
            )
        if kind.arg_type is None:
            if data["arg"] is not None:
                raise PydanticCustomError(
                    "converter", "converter '{name}' takes no argument", {"name": kind.name}
                )
        elif data["arg"] is None and kind.arg_required:
            raise PydanticCustomError(
                "converter",
                "converter '{name}' needs an argument: {argument}",
                {"name": kind.name, "argument": kind.argument},
            )
        elif data["arg"] is not None:
            try:
                data["arg"] = TypeAdapter(kind.arg_type).validate_python(data["arg"])
            except ValidationError as exc:
                first = exc.errors(include_url=False)[0]
                raise PydanticCustomError(
                    "converter",
                    "converter '{name}': {problem}; write it as {argument}",
                    {"name": kind.name, "problem": first["msg"], "argument": kind.argument},
                ) from None
        return data


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str | dict) else value


class FieldSpec(_Strict):
    """How one case field is filled."""

    source: list[str] = Field(
        default_factory=list,
        alias="from",
        description="the source column (or JSON key) holding the value, or a list of them "
        "whose non-empty values are joined with `join`",
    )
    join: str = Field(default="\n", description="what joins the values of several columns")
    convert: list[ConverterSpec] = Field(
        default_factory=list,
        description="converters applied in order (one, or a list); the field's own reading "
        "(a date-time, a code or label of an enumeration, a yes/no value, a list) follows",
    )
    default: Any = Field(
        default=None,
        description="the value when the source is empty (or a constant, with no `from`)",
    )
    required: bool = Field(
        default=False,
        description="a record whose source is empty (and that has no default) is rejected; "
        "a file whose header lacks a required field's column is refused whole",
    )

    @field_validator("source", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("convert", mode="before")
    @classmethod
    def _converters(cls, value: Any) -> Any:
        return _as_list(value)

    @field_validator("source")
    @classmethod
    def _named(cls, value: list[str]) -> list[str]:
        if any(not column.strip() for column in value):
            raise ValueError("a source column name is empty")
        return value

    @model_validator(mode="after")
    def _filled_somehow(self) -> FieldSpec:
        if not self.source and self.default is None:
            raise PydanticCustomError(
                "field_empty", "a field needs `from` (its source columns) or a `default`", {}
            )
        return self


class ClassEntry(_Strict):
    """What one classification code means for the pack."""

    domain: str | None = Field(default=None, description="a domain id of the pack")
    lead: str | None = Field(default=None, description="the lead department (牵头), an id")
    co: list[str] = Field(default_factory=list, description="co-operating departments (配合)")
    tags: list[str] = Field(default_factory=list, description="tags the case gets")


class Classification(_Strict):
    """The platform's classification codes (e.g. GB/T 39666-2020 style 诉求分类代码) → the
    pack's domains and departments. A field the profile fills from a column wins over the
    table; the table fills what is still empty."""

    source: str = Field(alias="from", description="the column holding the code")
    convert: list[ConverterSpec] = Field(
        default_factory=list, description="converters applied to the code first (e.g. `zfill`)"
    )
    match: Literal["exact", "prefix"] = Field(
        default="prefix",
        description="`prefix`: the longest code of the table that starts the record's code "
        "(`0101` → `0101`, else `01`); `exact`: the whole code",
    )
    codes: dict[str, ClassEntry] = Field(description="code → what it means (quote the codes)")
    unknown: Literal["keep", "reject"] = Field(
        default="keep",
        description="a code not in the table: `keep` the record unclassified (the pack's "
        "rules classify it), or `reject` it",
    )
    fact: str | None = Field(
        default=None,
        description="keep the code in `facts.<name>` as well, for rules to read",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
    )

    @field_validator("convert", mode="before")
    @classmethod
    def _converters(cls, value: Any) -> Any:
        return _as_list(value)


class ProfileFile(_Strict):
    """``profile.yaml``: a mapping profile."""

    schema_version: Literal[1] = Field(alias="profile", description="format version; always 1")
    name: str = Field(default="", description="what the profile is for, for people")
    channel: Channel | None = Field(
        default=None,
        description="the case's channel (`hotline_12345`, `batch_import` …) unless a field "
        "fills `channel`; default: the intake channel's own (12345: `hotline_12345`, xlsx: "
        "`batch_import`). With the work-order number it makes the case id, so a work order "
        "imported twice is one case",
    )
    header_search: int = Field(
        default=30,
        ge=1,
        le=1000,
        description="how many rows at the top of a sheet are searched for the header row (the "
        "first row holding the most of the profile's columns)",
    )
    skip_sheets: list[str] = Field(
        default_factory=list,
        description="sheets a workbook import never reads (instructions, a legend of codes) "
        "when no --sheet is given",
    )
    fields: dict[str, FieldSpec] = Field(
        description="case field (dotted: `enterprise.uscc`; `facts.<name>`; `lead_department`, "
        "`co_departments`) → how it is filled"
    )
    classification: Classification | None = Field(
        default=None, description="classification codes → domain and departments"
    )


__all__ = ["ClassEntry", "Classification", "ConverterSpec", "FieldSpec", "ProfileFile"]
