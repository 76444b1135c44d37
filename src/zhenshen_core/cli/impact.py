"""``zhenshen diff``: what a rule change would do to a corpus of cases, before it ships.

Exit codes as everywhere: 0 (no change, or changes without ``--fail-on-change``), 1 (changes
with ``--fail-on-change``), 2 (usage), 3 (a pack or the corpus failed to load).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from zhenshen_core.cli.context import PACK_PATH_OPTION, CliContext, pass_cli
from zhenshen_core.cli.exits import LOAD_ERROR, OK, PROBLEMS, CliExit, error_boundary


def register(group: click.Group) -> None:
    group.add_command(diff_command)


# --- zhenshen diff ----------------------------------------------------------------------------

_FIELD_LABELS = (
    ("severity_up", "severity up", "severity"),
    ("severity_down", "severity down", None),
    ("tier", "tier", "tier"),
    ("chair", "chair", "chair"),
    ("lead_department", "lead department", "lead_department"),
    ("co_departments_added", "co-departments added", "co_departments_added"),
    ("co_departments_removed", "co-departments removed", "co_departments_removed"),
    ("experts_required_added", "required experts added", "experts_required_added"),
    ("experts_required_removed", "required experts removed", "experts_required_removed"),
    ("experts_suggested_added", "suggested experts added", "experts_suggested_added"),
    ("experts_suggested_removed", "suggested experts removed", "experts_suggested_removed"),
    ("tags_added", "tags added", "tags_added"),
    ("tags_removed", "tags removed", "tags_removed"),
    ("actions_added", "actions added", "actions_added"),
    ("actions_removed", "actions removed", "actions_removed"),
    ("deadlines", "deadlines", "deadlines"),
)


def _top(counter: dict[str, int], n: int = 4) -> str:
    items = list(counter.items())
    text = ", ".join(f"{k} {v}" for k, v in items[:n])
    return text + (f", … (+{len(items) - n})" if len(items) > n else "")


def _describe(changes: dict[str, Any]) -> str:
    parts: list[str] = []
    for name, delta in changes.items():
        if name == "deadlines":
            parts.extend(
                f"deadline {c} {d['old'] or '—'}→{d['new'] or '—'}" for c, d in delta.items()
            )
        elif "old" in delta:
            label = name.replace("_", " ")
            parts.append(f"{label} {delta['old'] or '—'}→{delta['new'] or '—'}")
        else:
            label = name.replace("_", " ")
            signs = [f"+{x}" for x in delta["added"]] + [f"-{x}" for x in delta["removed"]]
            parts.append(f"{label} {' '.join(signs)}")
    return "; ".join(parts)


def _print_diff_text(result: Any, corpus: str) -> None:
    from zhenshen_core.cli.output import Column, print_table

    summary = result.summary.as_dict()
    old, new = result.old, result.new
    click.echo(f"{old.id} {old.version} → {new.id} {new.version} over {corpus}")
    share = 100.0 * summary["changed"] / summary["cases"] if summary["cases"] else 0.0
    click.echo(
        f"cases {summary['cases']}, changed {summary['changed']} ({share:.1f}%), "
        f"unchanged {summary['unchanged']}, invalid {summary['invalid']}"
    )
    changes = result.rule_changes
    if changes.added:
        click.echo("added rules: " + ", ".join(changes.added))
    if changes.removed:
        click.echo(
            "removed rules: "
            + ", ".join(
                f"{rid} (disable: in {changes.disabled_by[rid]})"
                if rid in changes.disabled_by
                else rid
                for rid in changes.removed
            )
        )
    if result.modified_rules:
        click.echo("redefined rules: " + ", ".join(sorted(result.modified_rules)))
    fields = summary["fields"]
    by_value = summary["by_value"]
    if fields:
        rows: list[tuple[str, ...]] = []
        for key, label, values_key in _FIELD_LABELS:
            if fields.get(key):
                values = by_value.get(values_key, {}) if values_key else {}
                if key.startswith("severity"):
                    values = {
                        k: v
                        for k, v in by_value.get("severity", {}).items()
                        if (k in _severity_moves(result, key))
                    }
                rows.append((label, str(fields[key]), _top(values)))
        print_table(
            (
                Column("field", whole=True),
                Column("cases", justify="right", whole=True),
                Column("values", words=True),
            ),
            rows,
            title="changes by field",
        )
    if result.changes:
        print_table(
            (
                Column("line", justify="right", whole=True),
                Column("case", whole=True),
                Column("change", min_width=20),
                Column("rules", words=True),
            ),
            (
                (
                    str(change["line"]),
                    change["case_id"],
                    _describe(change["changes"]),
                    " ".join(change["rules"]),
                )
                for change in result.changes
            ),
            title=f"first {len(result.changes)} changed cases",
        )
    if summary["rules"]:
        click.echo(
            "rules behind the changes (+ now fires, - no longer fires, ~ redefined): "
            + _top(summary["rules"], 8)
        )
    for item in result.invalid[:10]:
        click.echo(f"{corpus}:{item['line']}: invalid case: {item['error']}", err=True)
    if summary["invalid"] > 10:
        click.echo(
            f"… {summary['invalid'] - 10} more invalid cases (--format json lists them)", err=True
        )


def _severity_moves(result: Any, key: str) -> set[str]:
    levels = list(result.new.severity_levels)
    moves = set()
    for move in result.summary.transitions.get("severity", {}):
        a, _, b = move.partition("→")
        up = (levels.index(b) if b in levels else -1) > (levels.index(a) if a in levels else -1)
        if up == (key == "severity_up"):
            moves.add(move)
    return moves


@click.command("diff")
@click.argument("old_pack")
@click.argument("new_pack")
@click.option(
    "--cases",
    "corpus",
    required=True,
    metavar="CORPUS",
    help="JSON Lines (or - for stdin), CSV, a JSON array, or a store URL.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text for people; json lists every changed case.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=20,
    show_default=True,
    help="Changed cases shown in the text table.",
)
@click.option("--fail-on-change", is_flag=True, help="Exit 1 when any decision changed.")
@click.option(
    "--validate-all",
    is_flag=True,
    help="Validate every case (slower); by default a case that no changed rule can match is "
    "settled from its raw record.",
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes (default: number of CPUs).",
)
@PACK_PATH_OPTION
@pass_cli
@error_boundary
def diff_command(
    ctx: CliContext,
    old_pack: str,
    new_pack: str,
    corpus: str,
    fmt: str,
    limit: int,
    fail_on_change: bool,
    validate_all: bool,
    jobs: int | None,
) -> None:
    """What a rule change does: evaluate a corpus with OLD_PACK and NEW_PACK, report every case
    whose decision changes.

    OLD_PACK and NEW_PACK are pack folders or pack ids. The report first names the rules
    NEW_PACK adds, removes (and the pack whose disable: removed them) and redefines, whether or
    not a case of the corpus notices; then it counts changes by field
    (severity up/down, tier, chair, lead department, co-departments, experts, tags, actions,
    deadlines), lists the first --limit changed cases with the rules that explain each change
    (+ fires only under NEW_PACK, - no longer fires, ~ same id, new definition), and with
    --format json every changed case. The corpus is streamed and evaluated on every core; on
    a terminal, stderr shows the cases done, the corpus size, the rate and the ETA.

    \b
      zhenshen corpus generate 100000 -o corpus.jsonl
      zhenshen diff cn.chengdu.gaoxin ./my-pack --cases corpus.jsonl
      zhenshen diff old/ new/ --cases sqlite:///zhenshen.db --format json > impact.json
    """
    import json

    from zhenshen_core.rules.impact import CorpusError, diff_corpus
    from zhenshen_core.rules.tester.runner import display

    refs = [ctx.pack_ref(arg) for arg in (old_pack, new_pack)]
    streamed = {"n": 0}

    def emit(change: dict[str, Any]) -> None:
        sys.stdout.write(
            ("," if streamed["n"] else "") + "\n  " + json.dumps(change, ensure_ascii=False)
        )
        streamed["n"] += 1

    from zhenshen_core.cli.progress import LiveProgress

    try:
        with LiveProgress() as progress:
            result = diff_corpus(
                refs[0],
                refs[1],
                corpus,
                jobs=jobs,
                keep=limit,
                on_change=emit if fmt == "json" else None,
                on_progress=progress.phase("evaluate", lambda: _corpus_size(corpus), unit="cases"),
                validate_all=validate_all,
                on_start=_open_json_document if fmt == "json" else None,
            )
    except CorpusError as exc:
        raise CliExit(str(exc), LOAD_ERROR) from exc
    if fmt == "json":
        tail = {
            "old": result.old.ref,
            "new": result.new.ref,
            "corpus": corpus,
            **result.rule_changes.as_dict(),
            "redefined_rules": sorted(result.modified_rules),
            "invalid": result.invalid,
            "summary": result.summary.as_dict(),
        }
        body = json.dumps(tail, ensure_ascii=False)
        sys.stdout.write("\n], " + body[1:] + "\n")
    else:
        _print_diff_text(result, display(Path(corpus)) if "://" not in corpus else corpus)
    sys.exit(PROBLEMS if fail_on_change and result.summary.changed else OK)


def _open_json_document() -> None:
    sys.stdout.write('{"changes": [')


def _corpus_size(corpus: str) -> int | None:
    """Cases in a corpus file, for the progress total: a line count for JSON Lines, a read
    for CSV and JSON; None for stdin and store URLs (the total is then left open)."""
    from zhenshen_core.intake.readers import count_jsonl, count_records, read_csv, read_json

    suffix = Path(corpus).suffix.lower()
    counters: dict[str, Callable[[str], int]] = {
        ".jsonl": count_jsonl,
        ".ndjson": count_jsonl,
        "": count_jsonl,
        ".csv": count_records(read_csv),
        ".json": count_records(read_json),
    }
    counter = counters.get(suffix)
    if counter is None or corpus == "-" or "://" in corpus:
        return None
    try:
        return counter(corpus)
    except (OSError, ValueError):
        return None
