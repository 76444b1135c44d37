"""``zhenshen privacy …``: erase a person's data, apply a retention period, answer an access
request, rotate the master key (docs/howto/protect-personal-information.md)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from zhenshen_core.cli.context import CliContext, pass_cli
from zhenshen_core.cli.exits import USAGE, CliExit, error_boundary
from zhenshen_core.cli.options import NOW_OPTION, STORE_OPTION, open_cli_store, parse_instant
from zhenshen_core.cli.output import FORMAT_OPTION, echo_json
from zhenshen_core.model.enums import CaseStatus

T = TypeVar("T")


REASON_OPTION = click.option(
    "--reason", default="", help="Why, recorded on the personal_data_erased event."
)


@click.group("privacy")
def privacy() -> None:
    """Personal information (个人信息): erase, retention, access requests, key rotation.

    Personal data is stored encrypted with a data key per case, wrapped by the master key of
    ZHENSHEN_PII_KEY (or ZHENSHEN_PII_KEY_FILE, or the store URL's pii_key_file=PATH; a SQLite
    database without one gets a key file beside it). A person is found by a phone or ID
    number through a keyed index, never by reading plain text.
    """


@privacy.command("erase")
@STORE_OPTION
@click.option("--case", "case_ids", multiple=True, metavar="ID", help="A case id. Repeatable.")
@click.option("--phone", default=None, help="Every case and dead letter holding this phone.")
@click.option("--id-number", default=None, help="Every case and dead letter holding this ID.")
@REASON_OPTION
@NOW_OPTION
@FORMAT_OPTION
@pass_cli
@error_boundary
def erase(
    cli_ctx: CliContext,
    store_url: str | None,
    case_ids: tuple[str, ...],
    phone: str | None,
    id_number: str | None,
    reason: str,
    now_text: str | None,
    fmt: str,
) -> None:
    """Destroy the personal data of the matching cases (PIPL art. 47).

    The data key of each case is deleted (its history's personal values become unreadable)
    and the case's personal fields and numbers are replaced by [已删除]; a personal_data_erased
    event is appended. The case itself stays, so reports still count it. Example:

        zhenshen privacy erase --store sqlite:///desk.db --phone 13912345678
    """
    from zhenshen_core.privacy.rights import ErasureReport, erase_cases, erase_person

    if not (case_ids or phone or id_number):
        raise CliExit("name what to erase: --case ID, --phone N or --id-number N", USAGE)
    at = parse_instant(now_text, "--now") or datetime.now(UTC)
    numbers = _numbers(phone, id_number)
    store = open_cli_store(cli_ctx, store_url)
    try:
        report = ErasureReport()
        if case_ids:
            report.cases = erase_cases(
                store, dict.fromkeys(case_ids), actor=cli_ctx.actor(), at=at, reason=reason
            )
        if numbers:
            found = erase_person(store, numbers, actor=cli_ctx.actor(), at=at, reason=reason)
            report.cases += [c for c in found.cases if c not in report.cases]
            report.dead_letters = found.dead_letters
    finally:
        store.close()
    _report(report.cases, report.dead_letters, fmt, "erased")


@privacy.command("retention")
@STORE_OPTION
@click.option(
    "--older-than", "older_than", required=True, help="Age of the case: 3y, 18m, 6w or 90d."
)
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice([s.value for s in CaseStatus]),
    help="Only cases in this status (e.g. closed). Repeatable.",
)
@click.option("--dry-run", is_flag=True, help="List the cases; erase nothing.")
@REASON_OPTION
@NOW_OPTION
@FORMAT_OPTION
@pass_cli
@error_boundary
def retention(
    cli_ctx: CliContext,
    store_url: str | None,
    older_than: str,
    statuses: tuple[str, ...],
    dry_run: bool,
    reason: str,
    now_text: str | None,
    fmt: str,
) -> None:
    """Erase the personal data of cases received longer ago than --older-than.

    Cases whose personal data is already erased are left alone, so a scheduled run is cheap.
    Example (every night, closed cases after three years):

        zhenshen privacy retention --store sqlite:///desk.db --older-than 3y --status closed
    """
    from zhenshen_core.privacy.rights import erase_cases, parse_age, retention_candidates

    age = _checked(parse_age, older_than)
    now = parse_instant(now_text, "--now") or datetime.now(UTC)
    store = open_cli_store(cli_ctx, store_url)
    try:
        found = retention_candidates(
            store, age, now=now, statuses=[CaseStatus(s) for s in statuses] or None
        )
        ids = [c.id for c in found]
        if not dry_run:
            why = reason or f"retention: older than {older_than}"
            ids = erase_cases(store, ids, actor=cli_ctx.actor(), at=now, reason=why)
    finally:
        store.close()
    _report(ids, [], fmt, "would erase" if dry_run else "erased")


@privacy.command("export")
@STORE_OPTION
@click.option("--phone", default=None, help="The person's phone number.")
@click.option("--id-number", default=None, help="The person's resident ID number.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json"]),
    default="json",
    show_default=True,
    help="json (the only format: the answer is a document).",
)
@pass_cli
@error_boundary
def export(
    cli_ctx: CliContext,
    store_url: str | None,
    phone: str | None,
    id_number: str | None,
    fmt: str,
) -> None:
    """Everything stored about one person, unmasked (a PIPL art. 45 access request).

    Every case (with its history) and every dead letter whose personal data holds the
    number. The output is the person's own data: hand it to them, do not keep it. Example:

        zhenshen privacy export --store sqlite:///desk.db --phone 13912345678
    """
    from zhenshen_core.privacy.rights import export_person

    numbers = _numbers(phone, id_number)
    if not numbers:
        raise CliExit("name the person: --phone N or --id-number N", USAGE)
    store = open_cli_store(cli_ctx, store_url)
    try:
        echo_json(export_person(store, numbers, actor=cli_ctx.actor()))
    finally:
        store.close()


@privacy.command("rotate-key")
@STORE_OPTION
@click.option(
    "--old-key-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="File holding the key being replaced (else ZHENSHEN_PII_OLD_KEY or "
    "ZHENSHEN_PII_OLD_KEY_FILE).",
)
@pass_cli
@error_boundary
def rotate_key(
    cli_ctx: CliContext, store_url: str | None, old_key_file: Path | None
) -> None:
    """Rewrap every data key under the new master key (ZHENSHEN_PII_KEY, or the store URL's
    pii_key_file), reading it with the old one. No document is rewritten. Example:

        ZHENSHEN_PII_KEY=$(cat new.key) zhenshen privacy rotate-key
            --store sqlite:///desk.db --old-key-file old.key
    """
    from zhenshen_core.privacy.keys import resolve_old_key

    old = resolve_old_key(old_key_file)
    if old is None:
        raise CliExit(
            "name the key being replaced: --old-key-file PATH, ZHENSHEN_PII_OLD_KEY or "
            "ZHENSHEN_PII_OLD_KEY_FILE",
            USAGE,
        )
    from zhenshen_core.storage.audit import AuditRecord

    store = open_cli_store(cli_ctx, store_url)
    try:
        count = store.rewrap_keys(old)
        store.record_audit(
            AuditRecord(
                actor=cli_ctx.actor(),
                action="rotate_key",
                detail={"old_key": old.key_id, "rewrapped": count},
            )
        )
    finally:
        store.close()
    click.echo(f"rewrapped {count} data key{'s' * (count != 1)} (old key {old.key_id})")


@privacy.command("new-key")
def new_key() -> None:
    """Print a new random master key (base64) for ZHENSHEN_PII_KEY or a key file."""
    from zhenshen_core.privacy.keys import new_key_text

    click.echo(new_key_text())


def _numbers(phone: str | None, id_number: str | None) -> list[str]:
    from zhenshen_core.privacy.rights import person_numbers

    return _checked(lambda: person_numbers(phone=phone, id_number=id_number))


def _checked(fn: Callable[..., T], *args: Any) -> T:
    from zhenshen_core.privacy.rights import PersonalDataRequestError

    try:
        return fn(*args)
    except PersonalDataRequestError as exc:
        raise CliExit(str(exc), USAGE) from exc


def _report(cases: list[str], letters: list[str], fmt: str, verb: str) -> None:
    if fmt == "json":
        echo_json({"cases": cases, "dead_letters": letters})
        return
    for case_id in cases:
        click.echo(f"{verb}: case {case_id}")
    for key in letters:
        click.echo(f"{verb}: dead letter {key}")
    click.echo(
        f"{verb} the personal data of {len(cases)} case{'s' * (len(cases) != 1)}"
        + (f" and {len(letters)} dead letter{'s' * (len(letters) != 1)}" if letters else "")
    )


def register(group: click.Group) -> None:
    group.add_command(privacy)
