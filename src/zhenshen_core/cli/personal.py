"""Personal data in command output: masked by default, shown only when asked, and then logged.

Every command that prints a case, its history, a letter, a report or a diff goes through one
:class:`Disclosure`: it masks with the desk's policy (``[privacy]`` in zhenshen.toml) for the
``department`` audience — what a terminal shows is routinely pasted into mail and reports, so
a confidential requester is 保密 there too — and with ``--show-personal-data`` it shows the
stored values, after writing an access-log record (``read_personal_data``) naming the actor
(``CliContext.actor``: ``ZHENSHEN_ACTOR``, then ``actor`` of a config given with --config,
then the OS user). The record is
written *before* anything is printed: a store that cannot record the read (opened read-only)
refuses it, and nothing unmasked is shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from zhenshen_core.cli.context import CliContext

if TYPE_CHECKING:
    from zhenshen_core.model.case import Case
    from zhenshen_core.model.events import CaseEvent
    from zhenshen_core.privacy import MaskPolicy
    from zhenshen_core.storage.protocol import CaseStore

SHOW_PERSONAL_DATA_OPTION = click.option(
    "--show-personal-data",
    "show_personal_data",
    is_flag=True,
    help="Show personal data (phone, ID and bank card numbers, e-mail, names, addresses) "
    "unmasked; the read is recorded in the store's access log ('zhenshen audit list').",
)


UNREADABLE_TITLE = "（案件无法读取，标题不显示）"
"""The title a report shows for a case whose stored document cannot be read."""


@dataclass(frozen=True)
class Disclosure:
    """How one command run shows personal data (see the module docstring)."""

    policy: MaskPolicy
    reveal: bool
    actor: str
    desk: str | None
    command: str

    @classmethod
    def of(cls, cli_ctx: CliContext, show_personal_data: bool, command: str) -> Disclosure:
        return cls(
            policy=cli_ctx.config.privacy,
            reveal=show_personal_data,
            actor=cli_ctx.actor() if show_personal_data else "",
            desk=cli_ctx.config.desk,
            command=command,
        )

    # --- masking ---------------------------------------------------------------------------

    def case(self, case: Case) -> dict[str, Any]:
        """The case as JSON data, as this run may show it."""
        from zhenshen_core.model.lifecycle import dump_case
        from zhenshen_core.privacy import mask_case

        return dump_case(case) if self.reveal else mask_case(case, self.policy)

    def shown_case(self, case: Case) -> Case:
        """The case as a ``Case`` whose values are the ones this run may show."""
        from zhenshen_core.privacy import masked_case

        return case if self.reveal else masked_case(case, self.policy)

    def events(self, events: Sequence[CaseEvent], case: Case | None) -> list[dict[str, Any]]:
        from zhenshen_core.privacy import mask_events

        if self.reveal:
            return [e.model_dump(mode="json", context={"unmasked": True}) for e in events]
        return mask_events(events, case, self.policy)

    def document(self, document: Any, names: Iterable[str] = ()) -> Any:
        from zhenshen_core.privacy import mask_document

        return document if self.reveal else mask_document(document, self.policy, names)

    def text(self, text: str, names: Iterable[str] = ()) -> str:
        """Free text (a rendered report, a letter, a line of output) with what the detector
        finds masked: the safety net under the field-by-field masking."""
        from zhenshen_core.privacy import mask_text

        return text if self.reveal else mask_text(text, self.policy, names)

    def report(self, built: Any, store: CaseStore) -> None:
        """Mask the titles a report lists (overdue cases, the cases of a proposal) with each
        case's requester looked for by name — a digest has no requester, so the cases listed
        (and only those) are read. The rendered text is then masked again as a whole."""
        if self.reveal:
            return
        import dataclasses

        from zhenshen_core.errors import CaseNotFoundError, CaseValidationError
        from zhenshen_core.privacy import mask_text

        listed = {o.case_id for o in built.overdue}
        listed |= {c["id"] for p in built.generalisations for c in p.cases}
        people: dict[str, tuple[list[str], list[str]]] = {}
        unreadable: set[str] = set()
        for case_id in listed:
            try:
                requester = store.get(case_id).requester
            except CaseNotFoundError:
                continue
            except CaseValidationError:  # a broken document: its requester is unknown, so
                unreadable.add(case_id)  # its title is withheld, and the report goes on
                continue
            if requester is None:
                continue
            identity = [v for v in (requester.name, requester.phone) if v]
            withheld = requester.confidential or requester.anonymous
            people[case_id] = ([], identity) if withheld else (identity[:1], [])

        def title(case_id: str, text: str | None) -> str | None:
            if not text:
                return text
            if case_id in unreadable:
                return UNREADABLE_TITLE
            names, withheld = people.get(case_id, ([], []))
            return mask_text(text, self.policy, names, withheld=withheld)

        built.overdue = [
            dataclasses.replace(o, title=title(o.case_id, o.title) or "") for o in built.overdue
        ]
        for proposal in built.generalisations:
            proposal.cases = [
                {**c, "title": title(c["id"], c.get("title"))} for c in proposal.cases
            ]

    # --- the access log --------------------------------------------------------------------

    def record(self, store: CaseStore, case_ids: Sequence[str] | None, **detail: Any) -> None:
        """With ``--show-personal-data``: log the read, one record per case shown (or one
        record for a read over many, with their count), before anything is printed."""
        if not self.reveal:
            return
        from zhenshen_core.errors import StorageError
        from zhenshen_core.storage.audit import AuditRecord

        details = {"command": self.command, **detail}
        # one record per case shown; one record without a case for a read over many
        shown: Iterable[str | None] = case_ids if case_ids is not None else [None]
        records = [
            AuditRecord(
                actor=self.actor,
                role="cli",
                action="read_personal_data",
                desk=self.desk,
                case_id=case_id,
                detail=details,
            )
            for case_id in shown
        ]
        try:
            for record in records:
                store.record_audit(record)
        except StorageError as exc:
            raise StorageError(
                f"--show-personal-data: the read could not be recorded in the access log, so "
                f"nothing is shown ({exc})"
            ) from exc
