"""``zhenshen profile check`` and ``zhenshen profile test``: mapping profiles are written and
tested by district staff, so they are checked like packs and tested like them."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from zhenshen_core.cli.context import PACK_PATH_OPTION, CliContext, pass_cli
from zhenshen_core.cli.exits import LOAD_ERROR, NO_TESTS, OK, PROBLEMS, error_boundary
from zhenshen_core.cli.output import echo_json

if TYPE_CHECKING:
    from zhenshen_core.rules.diagnostics import Diagnostic

PACK_OPTION = click.option(
    "--pack",
    "pack_source",
    default=None,
    metavar="PACK",
    help="Check domains and departments against this rule pack (folder or pack id).",
)


@click.group("profile")
def profile() -> None:
    """Check and test mapping profiles (how a platform's records become cases)."""


def _pack(cli_ctx: CliContext, source: str | None) -> Any:
    if source is None:
        return None
    from zhenshen_core.cli.options import load_cli_pack

    return load_cli_pack(cli_ctx, source)


@profile.command("check")
@click.argument("profiles", nargs=-1, required=True, type=click.Path(dir_okay=False))
@PACK_OPTION
@PACK_PATH_OPTION
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text: one 'file:line:col: CODE message' per problem on stderr; json: a list on stdout.",
)
@click.option("--no-warnings", is_flag=True, help="Report errors only.")
@pass_cli
@error_boundary
def check(
    cli_ctx: CliContext,
    profiles: tuple[str, ...],
    pack_source: str | None,
    fmt: str,
    no_warnings: bool,
) -> None:
    """Check mapping profiles: silent with exit 0 when clean, else every problem at its
    line and column; exit 1 if any is an error (warnings alone exit 0).

    Errors: YAML and schema errors, unknown case fields (with the closest one), a column named
    twice in one field, unknown or misused converters and date formats, defaults and map
    values the field cannot hold, codes with a leading zero YAML would read as numbers — and,
    with --pack, domains and departments the pack does not define. Warning: one column
    feeding two fields.

    \b
    Example:
      zhenshen profile check profile.yaml --pack cn.chengdu.gaoxin
    """
    from zhenshen_core.intake.profiles import check_profile

    pack = _pack(cli_ctx, pack_source)
    found: list[Diagnostic] = []
    for path in profiles:
        _, _, diagnostics = check_profile(path, pack=pack)
        found.extend(d for d in diagnostics if d.severity == "error" or not no_warnings)
    errors = sum(1 for d in found if d.severity == "error")
    if fmt == "json":
        click.echo(json.dumps([d.as_dict() for d in found], ensure_ascii=False, indent=2))
    else:
        for diag in found:
            click.echo(str(diag), err=True)
        if found:
            click.echo(f"{errors} error(s), {len(found) - errors} warning(s)", err=True)
    sys.exit(PROBLEMS if errors else OK)


TEST_HELP = """Run mapping-profile tests: source rows and the case fields they must give.

PATH is a tests file (NAME.tests.yaml), a profile (its NAME.tests.yaml beside it is run) or a
folder (every *.tests.yaml under it). A tests file names its profile, relative to itself:

\b
  profile.tests.yaml
    profile: profile.yaml
    tests:
      - name: 投诉 with a classification code
        row: {工单编号: GD001, 来电时间: "2026/3/4 9:05", 诉求类型: 投诉}
        expect: {external_id: GD001, appeal_type: complaint}
      - name: a call time that is no date is rejected
        row: {工单编号: GD002, 来电时间: 昨天}
        reject: 来电时间
\b
'expect' is matched partially (dotted or nested fields; lead_department and co_departments;
lists whole); 'reject' is a text the rejection must contain ('' for any).
\b
Exit codes: 0 all passed, 1 failures, 2 usage error, 3 a profile or tests file failed to
load (every problem listed), 5 no tests collected.
"""


@profile.command("test", help=TEST_HELP)
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@PACK_OPTION
@PACK_PATH_OPTION
@click.option("-v", "--verbose", is_flag=True, help="One line per test instead of dots.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text for people; json: one object per test on stdout.",
)
@pass_cli
@error_boundary
def test(
    cli_ctx: CliContext, paths: tuple[str, ...], pack_source: str | None, verbose: bool, fmt: str
) -> None:
    from zhenshen_core.intake.profiles import ProfileError, collect_tests, run_profile_tests

    started = time.perf_counter()
    files = collect_tests(paths or ("."))
    if not files:
        click.echo("no tests ran: no *.tests.yaml found", err=True)
        sys.exit(NO_TESTS)
    pack = _pack(cli_ctx, pack_source)
    outcomes = []
    broken = False
    for path in files:
        try:
            got = run_profile_tests(Path(path), pack=pack)
        except ProfileError as exc:
            broken = True
            for diag in exc.diagnostics:
                click.echo(str(diag), err=True)
            continue
        outcomes.extend(got)
        if fmt == "text":
            _report_file(path, got, verbose)
    seconds = time.perf_counter() - started
    failed = [o for o in outcomes if not o.passed]
    if fmt == "json":
        echo_json(
            [
                {
                    "file": o.file,
                    "name": o.name,
                    "line": o.line,
                    "passed": o.passed,
                    "problems": o.problems,
                }
                for o in outcomes
            ]
        )
    else:
        if failed:
            click.echo("\nFAILURES")
            for outcome in failed:
                click.echo(f"{outcome.file}:{outcome.line}: {outcome.name}")
                for problem in outcome.problems:
                    click.echo(f"  {problem}")
        parts = [f"{len(outcomes) - len(failed)} passed"]
        if failed:
            parts.append(f"{len(failed)} failed")
        if broken:
            parts.append("error(s) loading")
        click.echo(f"{', '.join(parts)} in {seconds:.2f}s")
    if broken:
        sys.exit(LOAD_ERROR)
    if not outcomes:
        sys.exit(NO_TESTS)
    sys.exit(PROBLEMS if failed else OK)


def _report_file(path: Path, outcomes: list[Any], verbose: bool) -> None:
    if verbose:
        for o in outcomes:
            click.echo(f"{o.nodeid} {'PASSED' if o.passed else 'FAILED'}")
        return
    click.echo(f"{path} " + "".join("." if o.passed else "F" for o in outcomes))


def register(group: click.Group) -> None:
    group.add_command(profile)


__all__ = ["register"]
