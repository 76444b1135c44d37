"""A profile is checked like a pack: every problem at once, each at its line and column."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from zhenshen_core.intake.profiles import check_profile

BROKEN = """\
profile: 1
fields:
  external_id: {from: 工单编号, required: true}
  received_at:
    from: 来电时间
    convert: {datetme: ["%Y/%m/%d %H:%M"]}
  recieved_at: {from: 受理时间}
  appeal_type:
    from: 诉求类型
    convert:
      - map: {咨询: consult, 投诉: complain}
  title: {from: 工单编号}
  requester.confidential: {from: 是否保密, convert: {datetime: ["%Q"]}}
  status: {from: 状态}
  domain: {from: 领域, convert: {map: {准入: market_entry, 信用: credit_repair}}}
  content: {from: [诉求内容, 诉求内容]}
  tags: {from: 标签, colour: red}
  location.street: {}
  received_at_2: {from: x}
classification:
  from: 诉求分类代码
  codes:
    0101: {domain: financing, lead: gxq.nope}
    "02": {domain: finance}
"""


def _found(tmp_path: Path, text: str, pack: Any = None) -> list[str]:
    path = tmp_path / "profile.yaml"
    path.write_text(text, encoding="utf-8")
    _, _, diagnostics = check_profile(path, pack=pack, display="profile.yaml")
    return [str(d) for d in diagnostics]


def test_every_problem_is_located(tmp_path: Path, pack: Any) -> None:
    found = _found(tmp_path, BROKEN, pack)
    starts = [line.split(" ", 2)[0] + " " + line.split(" ", 2)[1] for line in found]
    assert starts == [
        "profile.yaml:6:14: M504",  # unknown converter datetme
        "profile.yaml:7:3: M501",  # recieved_at
        "profile.yaml:11:32: M505",  # complain is no appeal type
        "profile.yaml:12:17: M506",  # 工单编号 feeds two fields (a warning)
        "profile.yaml:13:49: M504",  # a date-time for a yes/no field
        "profile.yaml:13:61: M504",  # %Q
        "profile.yaml:14:3: M501",  # status is the lifecycle's (no hint)
        "profile.yaml:15:42: M502",  # market_entry is no domain of the pack
        "profile.yaml:16:26: M503",  # 诉求内容 twice
        "profile.yaml:17:20: M500",  # colour: unknown key
        "profile.yaml:18:20: M500",  # neither from nor default
        "profile.yaml:19:3: M501",
        "profile.yaml:23:5: M500",  # 0101 unquoted
        "profile.yaml:23:37: M502",  # gxq.nope
        "profile.yaml:24:20: M502",  # finance
    ]
    text = "\n".join(found)
    assert "unknown converter 'datetme'; did you mean 'datetime'?" in text
    assert "unknown case field 'recieved_at'; did you mean 'received_at'?" in text
    assert "'status' (set by the lifecycle or the rules, never by intake) (known:" in text
    assert "column '工单编号' fills 'external_id' too: is that meant?" in text
    assert "converter 'datetime' gives a date-time; requester.confidential needs a yes/no" in text
    assert "unknown domain 'market_entry' of pack cn.chengdu.gaoxin; did you mean " in text
    assert '0101 is read by YAML as the number 101: quote the code ("0101")' in text
    assert "unknown department 'gxq.nope'" in text


def test_without_a_pack_domains_and_departments_are_not_checked(tmp_path: Path) -> None:
    found = _found(tmp_path, BROKEN)
    assert not any(" M502 " in line for line in found)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("profile: 2\nfields: {}\n", "profile.yaml:1:10: M500 profile: Input should be 1"),
        ("fields: {}\n", "profile.yaml:1:1: M500 profile: Field required"),
        ("profile: 1\nfields: [a]\n", "profile.yaml:2:9: M500 fields: Input should be a valid"),
        ("profile: 1\nfields:\n  title: {from: a\n", "profile.yaml:4:1: P200 YAML"),
        (
            "profile: 1\nfields:\n  received_at: {from: a, default: yesterday}\n",
            "profile.yaml:3:35: M505 default cannot be received_at: 'yesterday' is not",
        ),
        (
            "profile: 1\nfields:\n  title: {from: a, convert: [zfill]}\n",
            "profile.yaml:3:30: M504 fields.title.convert.0: converter 'zfill' needs an argument",
        ),
        (
            "profile: 1\nfields:\n  title: {from: a, convert: {trim: 1, text: 2}}\n",
            "profile.yaml:3:29: M504 fields.title.convert.0: a converter is a name or a mapping",
        ),
        (
            "profile: 1\nfields:\n  tags: {from: a, convert: {datetime: [iso]}}\n",
            "profile.yaml:3:28: M504 converter 'datetime' gives a date-time; tags needs a list",
        ),
        (
            "profile: 1\nchannel: fax\nfields: {}\n",
            "profile.yaml:2:10: M500 channel: Input should be",
        ),
    ],
)
def test_one_problem_each(tmp_path: Path, text: str, expected: str) -> None:
    found = _found(tmp_path, text)
    assert any(line.startswith(expected) for line in found), found


def test_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "profile.yaml"
    path.write_bytes("profile: 1\nname: 成都\n".encode("gbk"))
    _, _, diagnostics = check_profile(path, display="profile.yaml")
    assert [(d.line, d.code) for d in diagnostics] == [(2, "P200")]


def test_a_clean_profile_has_no_diagnostics(profile_file: Path, pack: Any) -> None:
    spec, defaults, diagnostics = check_profile(profile_file, pack=pack)
    assert diagnostics == [] and spec is not None
    assert defaults == {"appeal_type": "help", "location.district": "高新区"}


def test_a_column_feeding_two_fields_is_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "profile.yaml"
    path.write_text(
        "profile: 1\nfields:\n  received_at: {from: 日期}\n  title: {from: 问题}\n"
        "  content: {from: 问题}\n",
        encoding="utf-8",
    )
    spec, _, diagnostics = check_profile(path)
    assert spec is not None  # it loads
    assert [(d.code, d.severity, d.line) for d in diagnostics] == [("M506", "warning", 5)]
