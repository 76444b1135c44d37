"""``zhenshen test``, ``fmt`` and ``new``: the rule-testing side of the CLI (``diff`` is in
:mod:`zhenshen_core.cli.impact`).

Modelled on ``opa test`` / ``opa fmt`` and pytest: exit codes 0 (ok), 1 (failures, coverage
below threshold, changes found), 2 (usage), 3 (a pack or file failed to load), 5 (no tests).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import click

from zhenshen_core.cli.context import PACK_PATH_OPTION, CliContext, pass_cli
from zhenshen_core.cli.exits import (
    LOAD_ERROR,
    NO_TESTS,
    OK,
    PROBLEMS,
    USAGE,
    CliExit,
    error_boundary,
)
from zhenshen_core.cli.output import echo_json
from zhenshen_core.cli.rules import engine_option
from zhenshen_core.rules.engines.registry import BUILTIN_ENGINES


def _width() -> int:
    return shutil.get_terminal_size((80, 24)).columns


def pack_sources(ctx: CliContext) -> dict[str, Path]:
    """Pack ids registered by plugins → their folders."""
    return {pack_id: Path(rec.path) for pack_id, rec in ctx.host.rule_packs().items()}


def pack_actions(ctx: CliContext) -> set[str]:
    return set(ctx.host.rule_actions())


# --- zhenshen test ----------------------------------------------------------------------------

TEST_HELP = """Run the YAML tests of rule packs, like pytest / opa test.

PACK_OR_PATH is a pack folder, a pack id (registered by a plugin or found with --pack-path), a
test file, or a folder holding packs further down; the default is the current folder. Each
pack's tests are the YAML files in its tests/ folder.

\b
Example: a pack folder my-pack/ with
\b
  my-pack/pack.yaml
    schema: 1
    id: my-pack
    version: 0.1.0
    severity_levels: [S1, S2, S3, S4]
    domains:
      - {id: market_entry_operation, name: 准入不准营}
\b
  my-pack/rules.yaml
    rules:
      - id: severity.cannot-operate
        when: domain == "market_entry_operation" and content contains "无法经营"
        then:
          severity: {at_least: S3}
          tags: [准入不准营]
\b
  my-pack/tests/severity.yaml
    - name: 取得执照但无法经营至少为重大
      case: {domain: market_entry_operation, content: 已取得执照但无法经营}
      expect: {severity: S3, tags: [准入不准营]}
      fired: [severity.cannot-operate]
    - name: 咨询保持默认
      case: {domain: market_entry_operation, content: 咨询流程}
      expect: {severity: S1}
      not_fired: [severity.cannot-operate]
\b
  $ zhenshen test my-pack
  my-pack/tests/severity.yaml ..
  ===================== 2 passed in 0.01s =====================
\b
  $ zhenshen test my-pack --coverage --threshold 90 --junit-xml report.xml
  $ zhenshen test my-pack -k "无法经营 and not 咨询" -v
\b
A test: name, case (partial; received_at defaults to 2026-01-05T09:00+08:00), expect
(partial: severity, tier, chair, departments {lead, co}, experts {required, suggested},
tags, deadlines, actions; a list means exactly these, {contains: [..], excludes: [..]}
a part), fired (rule ids that must fire, or {rules: [..], exact: true}), not_fired,
now, skip: REASON, golden: true | FILE (the whole decision as JSON; --update-golden
writes it).
\b
Verbosity counts like pytest's: -v a line per test, -vv long values whole, -q dots
and a bare summary line, -qq failures and the summary only.
\b
Exit codes: 0 all passed, 1 failures or coverage below --threshold, 2 usage error,
3 a pack failed to load, 5 no tests ran (none collected, or -k deselected them all).
"""


@click.command("test", help=TEST_HELP)
@click.argument("targets", metavar="[PACK_OR_PATH]...", nargs=-1)
@click.option(
    "-k",
    "keyword",
    metavar="EXPR",
    default=None,
    help="Only tests whose name or file matches: words with and/or/not/().",
)
@click.option("-x", "--exitfirst", is_flag=True, help="Stop at the first failure or error.")
@click.option(
    "-v",
    "--verbose",
    count=True,
    help="One line per test instead of dots; -vv also shows long values in failures whole.",
)
@click.option(
    "-q",
    "--quiet",
    count=True,
    help="Less output: -q dots and a bare summary line; -qq the failures and summary only.",
)
@click.option(
    "--coverage",
    is_flag=True,
    help="Report which rules and table rows fired; list the others by file:line.",
)
@click.option(
    "--threshold",
    type=click.FloatRange(0, 100),
    default=None,
    metavar="PCT",
    help="Fail (exit 1) when coverage is below PCT percent; implies --coverage.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text for people, json for machines.",
)
@click.option(
    "--junit-xml",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="FILE",
    help="Also write a JUnit XML report to FILE.",
)
@click.option(
    "--update-golden",
    is_flag=True,
    help="Write the golden files of tests with golden: from the current decisions.",
)
@engine_option(help="Rule engine that evaluates the cases.")
@PACK_PATH_OPTION
@pass_cli
@error_boundary
def test_command(
    ctx: CliContext,
    targets: tuple[str, ...],
    keyword: str | None,
    exitfirst: bool,
    verbose: int,
    quiet: int,
    coverage: bool,
    threshold: float | None,
    fmt: str,
    junit_xml: Path | None,
    update_golden: bool,
    engine: str,
) -> None:
    from zhenshen_core.rules.tester import (
        KeywordError,
        TextReporter,
        compile_keyword,
        find_packs,
        json_report,
        load_packs,
        run_tests,
        write_junit,
    )
    from zhenshen_core.rules.tester.report import load_error_lines

    try:
        select = compile_keyword(keyword) if keyword else None
    except KeywordError as exc:
        raise CliExit(str(exc), USAGE) from exc
    from zhenshen_core.rules.tester.runner import NoPacksFound

    try:
        packs = find_packs(list(targets))
    except NoPacksFound as exc:
        raise CliExit(f"{exc}; no tests collected", NO_TESTS) from exc
    except FileNotFoundError as exc:
        raise CliExit(str(exc), USAGE) from exc
    load_packs(
        packs,
        search_paths=ctx.all_pack_paths(),
        plugin_packs=pack_sources(ctx),
        actions=pack_actions(ctx),
    )
    reporter = TextReporter(sys.stdout, verbosity=verbose - quiet, width=_width())
    run = run_tests(
        packs,
        select=select,
        fail_fast=exitfirst,
        update_golden=update_golden,
        engine=engine,
        host=None if engine in BUILTIN_ENGINES else ctx.host,
        coverage=coverage or threshold is not None,
        on_result=reporter.result if fmt == "text" else None,
    )
    for line in load_error_lines(run):
        click.echo(line, err=True)
    if junit_xml is not None:
        write_junit(run, junit_xml)
    code = run.exit_code(threshold)
    if fmt == "json":
        echo_json(json_report(run, threshold=threshold))
    else:
        reporter.finish(run, threshold=threshold)
    if code == NO_TESTS and fmt == "text":
        if run.deselected:  # collected, then all deselected: say so, as pytest does
            click.echo(f"no tests ran: {run.deselected} deselected by -k {keyword!r}", err=True)
        else:
            click.echo("no tests collected (a pack's tests are tests/*.yaml)", err=True)
    sys.exit(code)


# --- zhenshen fmt -----------------------------------------------------------------------------


def _fmt_files(paths: tuple[Path, ...]) -> list[Path]:
    from zhenshen_core.rules.pack.fmt import iter_yaml_files

    files: list[Path] = []
    for path in paths or (Path("."),):
        if path.is_dir():
            packs = sorted(
                p.parent
                for p in path.rglob("pack.yaml")
                if not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            if not packs:
                raise CliExit(
                    f"{path}: no pack.yaml in this folder or below; name YAML files "
                    "directly to format them",
                    USAGE,
                )
            files.extend(iter_yaml_files(packs))
        elif path.is_file():
            files.append(path)
        else:
            raise CliExit(f"{path}: no such file or folder", USAGE)
    return list(dict.fromkeys(files))


@click.command("fmt")
@click.argument("paths", metavar="[PATH]...", nargs=-1, type=click.Path(path_type=Path))
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if a file would change.")
@click.option("--diff", "show_diff", is_flag=True, help="Write nothing; show the changes.")
@pass_cli
@error_boundary
def fmt_command(ctx: CliContext, paths: tuple[Path, ...], check: bool, show_diff: bool) -> None:
    """Rewrite pack YAML in the canonical form, keeping comments.

    PATH is a YAML file or a folder (its packs' YAML files: pack.yaml, rule and table files,
    tests); the default is the current folder. The canonical form: documented key order
    (id, description, stage, priority, when, then …), 2-space indentation, plain scalars
    where YAML reads them back unchanged, flow style for short lists and mappings of scalars.
    Formatting twice gives the same result as once.

    \b
      zhenshen fmt my-pack                 # rewrite in place
      zhenshen fmt --check my-pack         # CI: exit 1 if anything would change
      zhenshen fmt --diff my-pack/rules.yaml
    """
    from zhenshen_core.rules.pack.fmt import FormatError, format_file
    from zhenshen_core.textio import NotUtf8Error

    changed = unchanged = failed = 0
    for path in _fmt_files(paths):
        try:
            result = format_file(path)
        except (FormatError, NotUtf8Error) as exc:
            click.echo(f"error: {exc}", err=True)
            failed += 1
            continue
        except OSError as exc:
            click.echo(f"error: {path}: cannot read: {exc}", err=True)
            failed += 1
            continue
        if not result.changed:
            unchanged += 1
            continue
        changed += 1
        if show_diff:
            click.echo(result.diff(), nl=False)
        elif check:
            click.echo(f"would reformat {path}")
        else:
            path.write_text(result.formatted, encoding="utf-8")
            click.echo(f"reformatted {path}")
    verb = "would be reformatted" if (check or show_diff) else "reformatted"
    click.echo(
        f"{changed} file(s) {verb}, {unchanged} unchanged"
        + (f", {failed} failed" if failed else ""),
        err=True,
    )
    if failed:
        sys.exit(LOAD_ERROR)
    sys.exit(PROBLEMS if check and changed else OK)


# --- zhenshen new -----------------------------------------------------------------------------


@click.group("new")
def new_group() -> None:
    """Scaffold a rule-pack or plugin distribution whose own tests pass immediately."""


def _report_scaffold(root: Path, files: tuple[Path, ...], next_steps: list[str]) -> None:
    click.echo(f"created {root}/ ({len(files)} files)")
    for path in files:
        click.echo(f"  {path}")
    click.echo("next:")
    for step in next_steps:
        click.echo(f"  {step}")


@new_group.command("pack")
@click.argument("name")
@click.option(
    "--extends",
    "extends",
    metavar="ID",
    default=None,
    help="Base pack id this pack extends (e.g. cn.chengdu.gaoxin).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder to create (default: ./zhenshen-pack-<name>).",
)
@error_boundary
def new_pack_command(name: str, extends: str | None, output: Path | None) -> None:
    """Scaffold a rule-pack plugin distribution for pack id NAME.

    \b
      zhenshen new pack cn.chengdu.wuhou --extends cn.chengdu.gaoxin
    """
    from zhenshen_core.scaffold import ScaffoldError, new_pack

    try:
        made = new_pack(name, output, extends=extends)
    except ScaffoldError as exc:
        raise CliExit(str(exc), USAGE) from exc
    pack_dir = next(p.parent for p in made.files if p.name == "pack.yaml")
    _report_scaffold(
        made.root,
        made.files,
        [
            f"cd {made.root}",
            f"zhenshen test {pack_dir}",
            "pytest",
            "pip install -e .   # registers the pack id " + name,
        ],
    )


@new_group.command("plugin")
@click.argument("kind", type=click.Choice(["storage", "intake", "calendar", "renderer"]))
@click.argument("name")
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder to create (default: ./zhenshen-<name>).",
)
@error_boundary
def new_plugin_command(kind: str, name: str, output: Path | None) -> None:
    """Scaffold a plugin distribution: a storage backend, intake channel, calendar or renderer.

    \b
      zhenshen new plugin calendar wuhou-calendar
    """
    from zhenshen_core.scaffold import ScaffoldError, new_plugin

    try:
        made = new_plugin(kind, name, output)
    except ScaffoldError as exc:
        raise CliExit(str(exc), USAGE) from exc
    _report_scaffold(made.root, made.files, [f"cd {made.root}", "pytest", "pip install -e ."])


def register(group: click.Group) -> None:
    group.add_command(test_command)
    group.add_command(fmt_command)
    group.add_command(new_group)
