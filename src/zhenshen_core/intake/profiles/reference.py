"""The profile format reference page, generated from the models and the converter table
(``make docs`` writes it to ``docs/reference/profile-format.md``; a test keeps it fresh)."""

from __future__ import annotations

import inspect
from enum import Enum
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from zhenshen_core.intake.profiles import model, tester
from zhenshen_core.intake.profiles.converters import CONVERTERS, DEFAULT_FORMATS, NO, YES
from zhenshen_core.intake.profiles.load import CODES
from zhenshen_core.intake.profiles.targets import KIND_WORDS, targets


def _type(info: FieldInfo) -> str:
    text = str(info.annotation) if not isinstance(info.annotation, type) else ""
    text = text or getattr(info.annotation, "__name__", "")
    for prefix in ("zhenshen_core.intake.profiles.model.", "zhenshen_core.model.enums.", "typing."):
        text = text.replace(prefix, "")
    return text.replace("|", "\\|")


def _default(info: FieldInfo) -> str:
    if info.is_required():
        return "required"
    if info.default_factory is not None:
        return "empty"
    value: Any = info.default
    if isinstance(value, Enum):
        value = value.value
    return f"`{value!r}`".replace("|", "\\|")


def _table(cls: type[BaseModel]) -> str:
    rows = ["| key | type | default | description |", "|---|---|---|---|"]
    for name, info in cls.model_fields.items():
        key = info.alias or name
        description = (info.description or "").replace("|", "\\|").replace("\n", " ")
        rows.append(f"| `{key}` | {_type(info)} | {_default(info)} | {description} |")
    return "\n".join(rows) + "\n"


def _section(title: str, cls: type[BaseModel]) -> str:
    return f"## {title}\n\n{inspect.cleandoc(cls.__doc__ or '')}\n\n{_table(cls)}\n"


def profile_reference(header: str = "") -> str:
    out = [header, "# Mapping profile reference\n\n"]
    out.append(
        "A mapping profile is a YAML file that turns a platform's own records (a 12345 "
        "platform's work orders, a district's workbook) into cases: for each case field, the "
        "source column(s) that fill it and how their values are converted, and a table from "
        "the platform's classification codes to the pack's domains and departments. The "
        "`12345` and `xlsx` intake channels take one with `--profile`. The file carries a "
        "format version (`profile: 1`); no key is ever repurposed.\n\n"
    )
    out.append(
        "Check a profile with `zhenshen profile check PROFILE.yaml [--pack PACK]`, test it "
        "with `zhenshen profile test`, and see what it does to the first records of an "
        "export with `zhenshen ingest 12345 FILE --profile PROFILE.yaml --dry-run`. "
        "[The how-to](../howto/write-a-12345-profile.md) walks through one.\n\n"
    )
    out.append(_section("The file", model.ProfileFile))
    out.append(_section("A field (`fields.<case field>`)", model.FieldSpec))
    out.append(
        "A text cell is trimmed of blanks (full-width spaces too); an empty one is no value: "
        "the field's `default` applies, a `required` field rejects the record, any other is "
        "left to the case model's default. After the converters, the field reads the value "
        "as its kind needs (below): a date-time field reads the default date formats, an "
        "enumeration its codes and Chinese labels (`投诉` or `complaint`), a yes/no field "
        "the yes/no words, a list field splits text at `;；,，、|`.\n\n"
    )
    out.append(_section("The classification table (`classification`)", model.Classification))
    out.append(_section("A code (`classification.codes.<code>`)", model.ClassEntry))
    out.append("## Converters\n\n| converter | gives | argument | what it does |\n")
    out.append("|---|---|---|---|\n")
    for kind in CONVERTERS.values():
        argument = kind.argument or "none"
        out.append(f"| `{kind.name}` | {KIND_WORDS[kind.gives]} | {argument} | {kind.summary} |\n")
    out.append("\nDate formats read when a `datetime` or `date` converter names none, and by ")
    out.append("every date-time field after its converters (in this order):\n\n")
    out.extend(f"* `{fmt}`\n" for fmt in DEFAULT_FORMATS)
    out.append(
        "\nText with full-width digits (`２０２６年３月４日`) is read as its half-width form. "
        "Excel serial numbers count days from 1899-12-30 (the 1900 date system).\n\n"
    )
    out.append(f"Yes/no words (any case): yes {' '.join(YES)}; no {' '.join(NO)}.\n\n")
    out.append("## Case fields a profile can fill\n\n| field | kind | codes (labels) |\n")
    out.append("|---|---|---|\n")
    for target in targets().values():
        codes = ", ".join(f"`{c}` ({label})" for c, label in target.choices.items())
        out.append(f"| `{target.path}` | {KIND_WORDS[target.kind]} | {codes} |\n")
    out.append(
        "| `facts.<name>` | any value | a fact the rules read as `facts.<name>` (integral "
        "numbers as whole numbers, dates as ISO text) |\n\n"
        "The case id, status, version, severity, tier, chair, decision, opinion and "
        "confirmation are set by the lifecycle and the rules, never by intake. "
        "`lead_department` and `co_departments` build the case's `departments`.\n\n"
    )
    out.append("## Diagnostics\n\n| code | meaning |\n|---|---|\n")
    out.extend(f"| {code} | {meaning} |\n" for code, meaning in CODES.items())
    out.append("\n")
    out.append(
        "## Tests files (`*.tests.yaml`)\n\n"
        + inspect.cleandoc(tester.__doc__ or "").split("\n\n", 1)[1]
        + "\n\n"
    )
    out.append(_table(tester.ProfileTestFile) + "\n")
    out.append("A test (`tests[]`):\n\n" + _table(tester.ProfileTest))
    return "".join(out)


__all__ = ["profile_reference"]
