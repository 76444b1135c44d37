from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from zhenshen_core.cli.deadline import register
from zhenshen_core.deadlines import CalendarDataError, load_calendar_file


@pytest.fixture
def cli() -> click.Group:
    group = click.Group("zhenshen")
    register(group)
    return group


BAD = """\
name: broken
notices:
  - {id: A1, title: t}
holidays:
  - {date: 2026-13-01, name: x, notice: A1}
  - {from: 2026-03-05, to: 2026-03-01, name: y}
  - {date: 2026-04-01, name: z, notice: B2}
workdays:
  - {date: 2026-04-01, name: clash}
colour: red
"""


def test_located_errors(tmp_path: Path) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text(BAD, encoding="utf-8")
    with pytest.raises(CalendarDataError) as info:
        load_calendar_file(f)
    lines = str(info.value).splitlines()
    assert any(line.startswith(f"{f}:5:") and "date" in line for line in lines)
    assert any(f"{f}:6:" in line and "before" in line for line in lines)
    assert any(f"{f}:7:" in line and "B2" in line for line in lines)
    assert any(f"{f}:9:" in line and "both a rest day and a workday" in line for line in lines)
    assert any(f"{f}:10:1:" in line and "unknown key 'colour'" in line for line in lines)


def test_yaml_syntax_error_is_located(tmp_path: Path) -> None:
    f = tmp_path / "syntax.yaml"
    f.write_text("holidays:\n  - {date: 2026-01-01\n", encoding="utf-8")
    with pytest.raises(CalendarDataError) as info:
        load_calendar_file(f)
    assert str(info.value).startswith(f"{f}:")


def test_calendar_check_cli(cli: click.Group, tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("name: ok\nholidays:\n  - {date: 2026-03-10, name: closure}\n", "utf-8")
    r = CliRunner().invoke(cli, ["calendar", "check", str(good)])
    assert r.exit_code == 0 and r.output == ""
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD, encoding="utf-8")
    r = CliRunner().invoke(cli, ["calendar", "check", str(bad)])
    assert r.exit_code == 1
    assert f"{bad}:10:1: unknown key 'colour'" in r.output


def test_packaged_data_files_pass_check(cli: click.Group) -> None:
    import zhenshen_core.deadlines as pkg

    folder = Path(pkg.__file__).parent / "data" / "cn"
    for f in sorted(folder.glob("[0-9]*.yaml")):
        r = CliRunner().invoke(cli, ["calendar", "check", str(f)])
        assert r.exit_code == 0, r.output


def test_calendar_show(cli: click.Group) -> None:
    r = CliRunner().invoke(cli, ["calendar", "show", "2020", "--format", "json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert {n["id"] for n in data["notices"]} == {"国办发明电〔2019〕16号", "国办发明电〔2020〕1号"}
    assert {
        "date": "2020-02-01",
        "name": "春节",
        "notice": "国办发明电〔2020〕1号",
        "layer": "cn-2020",
        "provisional": False,
    } in data["rest_days"]
    assert "2020-01-19" in {d["date"] for d in data["workdays"]}
    text = CliRunner().invoke(cli, ["calendar", "show", "2026"])
    assert "2026-02-14 Sat  work  春节  国办发明电〔2025〕7号" in text.output
    r = CliRunner().invoke(cli, ["calendar", "show", "2027"])
    assert r.exit_code == 1 and "2026-12-31" in r.output


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["deadline", "2026-02-30", "2wd"], "START"),
        (["deadline", "yesterday", "2wd"], "START"),
        (["deadline", "2026-02-13", "2 weeks"], "accepted forms"),
        (["deadline", "2026-02-13", "2wd", "--exclude", "2026-03-05..2026-03-01"], "ends before"),
        (["deadline", "2026-02-13", "2wd", "--office-hours", "9-5"], "office hours"),
        (["deadline", "2026-02-13", "2wd", "--policy", "lenient"], "policy"),
        (["deadline", "2026-02-13", "2wd", "--calendar", "mars"], "unknown calendar"),
    ],
)
def test_usage_errors_exit_2(cli: click.Group, args: list[str], needle: str) -> None:
    r = CliRunner().invoke(cli, args)
    assert r.exit_code == 2, r.output
    assert needle in r.output
    assert "Traceback" not in r.output


def test_beyond_data_exits_1_naming_last_day(cli: click.Group) -> None:
    r = CliRunner().invoke(cli, ["deadline", "2026-12-20", "15 working days"])
    assert r.exit_code == 1
    assert "2026-12-31" in r.output and "Traceback" not in r.output
    r = CliRunner().invoke(
        cli,
        [
            "deadline",
            "2026-12-20",
            "15 working days",
            "--policy",
            "provisional",
            "--format",
            "json",
        ],
    )
    assert r.exit_code == 0 and json.loads(r.stdout)["provisional"] is True


@pytest.mark.parametrize("policy", ["strict", "provisional", "weekdays"])
@pytest.mark.parametrize("period", ["9999999 years", "9999999 months", "9999999 days"])
def test_a_period_past_the_last_nameable_day_exits_1(
    cli: click.Group, policy: str, period: str
) -> None:
    """Python cannot name a day past 9999-12-31: a period ending there is beyond the
    calendar's data (exit 1, as any such day), never an OverflowError's traceback."""
    r = CliRunner().invoke(cli, ["deadline", "2020-01-01", period, "--policy", policy])
    assert r.exit_code == 1, r.output
    assert "beyond the data of calendar" in r.output and "Traceback" not in r.output


def test_layer_file_on_command_line(cli: click.Group, tmp_path: Path) -> None:
    f = tmp_path / "district.yaml"
    f.write_text("name: district\nholidays:\n  - {date: 2026-02-24, name: closure}\n", "utf-8")
    r = CliRunner().invoke(
        cli, ["deadline", "2026-02-13", "2wd", "--calendar", str(f), "--format", "json"]
    )
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["due"] == "2026-02-25"
    assert data["calendar"]["name"] == "cn+district"
    broken = tmp_path / "broken.yaml"
    broken.write_text(BAD, encoding="utf-8")
    r = CliRunner().invoke(cli, ["deadline", "2026-02-13", "2wd", "--calendar", str(broken)])
    assert r.exit_code == 3 and "broken.yaml:10:1" in r.output


def test_exclude_and_extend_options(cli: click.Group) -> None:
    r = CliRunner().invoke(
        cli,
        [
            "deadline",
            "2024-03-04",
            "2wd",
            "--exclude",
            "2024-03-05..2024-03-06",
            "--extend",
            "1wd",
            "--format",
            "json",
        ],
    )
    data = json.loads(r.stdout)
    assert data["due"] == "2024-03-11"
    assert data["excluded_time"] == [["2024-03-05", "2024-03-06"]]
    assert [e["kind"] for e in data["excluded"]][:2] == ["excluded-time", "excluded-time"]
    assert data["extensions"] == ["1 working day"]
