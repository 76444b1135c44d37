"""Mapping profiles: a platform's own records (12345 work orders, a district's workbook) to
case drafts, described in YAML that district staff write, check and test.

Typical use::

    from zhenshen_core.intake.profiles import load_profile

    profile = load_profile("profile.yaml", pack=pack)   # ProfileError lists every problem
    draft = profile.map({"工单编号": "GD001", "来电时间": "2026/3/4 9:05", ...})
    case = load_case(draft)

Channels import only the names below (``zhenshen_core.intake.profiles``), never the modules.
"""

from zhenshen_core.intake.profiles.converters import (
    CONVERTERS,
    DEFAULT_FORMATS,
    ConversionError,
    excel_serial,
    text_of,
)
from zhenshen_core.intake.profiles.load import (
    CODES,
    PackNames,
    ProfileError,
    check_profile,
    load_profile,
)
from zhenshen_core.intake.profiles.mapper import FieldProblem, MappingError, Profile, header_key
from zhenshen_core.intake.profiles.model import (
    ClassEntry,
    Classification,
    ConverterSpec,
    FieldSpec,
    ProfileFile,
)
from zhenshen_core.intake.profiles.targets import Target, targets
from zhenshen_core.intake.profiles.tester import (
    ProfileTestFile,
    TestOutcome,
    collect_tests,
    run_profile_tests,
)

__all__ = [
    "CODES",
    "CONVERTERS",
    "DEFAULT_FORMATS",
    "ClassEntry",
    "Classification",
    "ConversionError",
    "ConverterSpec",
    "FieldProblem",
    "FieldSpec",
    "MappingError",
    "PackNames",
    "Profile",
    "ProfileError",
    "ProfileFile",
    "ProfileTestFile",
    "Target",
    "TestOutcome",
    "check_profile",
    "collect_tests",
    "excel_serial",
    "header_key",
    "load_profile",
    "run_profile_tests",
    "targets",
    "text_of",
]
