"""The privacy names are public API: re-exported from zhenshen_core, imported on first use."""

from __future__ import annotations

import os
import subprocess
import sys

import zhenshen_core
from zhenshen_core import privacy

PUBLIC = (
    "MaskPolicy",
    "PersonalDataKind",
    "PersonalDataSpan",
    "detect_personal_data",
    "mask_document",
    "mask_text",
    "mask_value",
)


def test_the_names_are_re_exported_from_the_package() -> None:
    for name in PUBLIC:
        assert name in zhenshen_core.__all__
        assert getattr(zhenshen_core, name) is getattr(privacy, name)


def test_importing_the_package_does_not_import_privacy() -> None:
    code = (
        "import sys, zhenshen_core\n"
        "assert 'zhenshen_core.privacy' not in sys.modules\n"
        "print(zhenshen_core.mask_text('电话13812345678'))\n"
        "assert 'zhenshen_core.privacy' in sys.modules\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        encoding="utf-8",
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
        check=True,
    )
    assert result.stdout == "电话138****5678\n"


def test_kinds_carry_chinese_labels() -> None:
    assert privacy.PersonalDataKind.ID_NUMBER.label == "居民身份证号码"
    assert {kind.value for kind in privacy.PersonalDataKind} == {
        "mobile",
        "landline",
        "id_number",
        "bank_card",
        "email",
        "name",
        "address",
    }
