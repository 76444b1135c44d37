"""Hook specifications: the whole extension surface of zhenshen_core.

Every hook has the ``zhenshen_`` prefix. Three families:

* **registration** hooks return a list of typed records (:mod:`zhenshen_core.plugins.records`);
  every implementation is called and the lists are merged by name;
* **pipeline** hooks let a plugin take over or add to one step of handling a case;
* **notification** hooks fan out to every implementation; each call is isolated, so a failing
  plugin is reported with its name and never loses or rolls back the case.

Plugins are found through the ``zhenshen`` entry-point group, a project-local
``zhenshen_local.py`` and explicit ``-p NAME``; built-ins are internal plugins registered first
and marked ``trylast`` where a plugin may override them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from zhenshen_core.model.case import Case
    from zhenshen_core.model.clock import Clock
    from zhenshen_core.model.events import CaseEvent
    from zhenshen_core.plugins.records import (
        CalendarSource,
        CliCommands,
        IntakeChannel,
        Notifier,
        Renderer,
        RuleAction,
        RulePackSource,
        StorageBackend,
    )

PROJECT = "zhenshen"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# --- registration -----------------------------------------------------------------------------


@hookspec
def zhenshen_storage_backends() -> list[StorageBackend]:
    """Register storage backends by URL scheme.

    Called once when the plugin host is built. Return a list of
    :class:`~zhenshen_core.plugins.records.StorageBackend`; each ``factory(url)`` opens a store
    implementing :class:`~zhenshen_core.storage.CaseStore`. Two plugins claiming one scheme is an
    error naming both.
    """


@hookspec
def zhenshen_intake_channels() -> list[IntakeChannel]:
    """Register intake channels (``json``, ``jsonl``, ``csv``, a 12345 platform export …).

    Called once. Each channel's ``read(source)`` yields
    :class:`~zhenshen_core.plugins.records.IntakeRecord` objects; records it cannot parse are
    yielded with ``error`` set so they reach the dead-letter store instead of vanishing. A
    channel with options of its own (``zhenshen ingest CHANNEL SRC --profile P``) declares them
    in ``options`` and gives ``configure(options)``, which returns the
    :class:`~zhenshen_core.plugins.records.IntakeReader` for one ingest (``explain`` there
    traces a record's case fields to its source fields for ``--dry-run``).
    """


@hookspec
def zhenshen_rule_packs() -> list[RulePackSource]:
    """Register rule packs (folders with a ``pack.yaml``) shipped by a distribution.

    Called once; the pack ids become valid wherever the CLI or API expects a pack, and in other
    packs' ``extends``.
    """


@hookspec
def zhenshen_calendars() -> list[CalendarSource]:
    """Register working-day calendars (a province's, a district's, an organisation's).

    Called once. ``factory()`` returns a :class:`~zhenshen_core.deadlines.Calendar`; ``base``
    names the calendar it layers on.
    """


@hookspec
def zhenshen_notifiers() -> list[Notifier]:
    """Register notifiers that receive every :class:`Notification` of the desk.

    Each ``send`` call is isolated: an exception is reported with the plugin's name.
    """


@hookspec
def zhenshen_renderers() -> list[Renderer]:
    """Register document renderers (Markdown, HTML, DOCX …) for opinion letters and reports."""


@hookspec
def zhenshen_rule_actions() -> list[RuleAction]:
    """Register named actions that rules may request with ``then: {actions: [NAME]}``.

    A pack naming an action nobody registered fails to load (strict by default).
    """


@hookspec
def zhenshen_cli_commands() -> list[CliCommands]:
    """Add click commands to the ``zhenshen`` CLI. Called when the CLI group is built."""


# --- pipeline ---------------------------------------------------------------------------------


@hookspec(firstresult=True)
def zhenshen_normalise_intake(channel: str, data: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """Turn a channel's raw record into the case-draft mapping (model field names).

    firstresult: the first non-None return wins; the built-in implementation (``trylast``) passes
    the mapping through unchanged. Raise ``ValueError`` to reject the record with a reason.
    """


@hookspec
def zhenshen_enrich_case(case: Case) -> Mapping[str, Any] | None:
    """Return extra ``facts`` for a case before the rules run (e.g. counts from a CRM).

    Every implementation is called; their mappings are merged in registration order (later wins
    on equal keys) and recorded as one ``update_facts`` event.
    """


# --- notification (fan-out, isolated) -----------------------------------------------------------


@hookspec
def zhenshen_case_received(case: Case, event: CaseEvent) -> None:
    """A new case was stored (not called for a duplicate delivery of the same work order)."""


@hookspec
def zhenshen_case_transitioned(case: Case, event: CaseEvent) -> None:
    """A lifecycle event was stored; ``case`` is the state after it."""


@hookspec
def zhenshen_decision_made(case: Case, decision: Mapping[str, Any]) -> None:
    """The rules engine decided on a case and the decision was stored."""


@hookspec
def zhenshen_deadline_changed(
    case: Case, event: CaseEvent, clock: Clock, previous_due: datetime, reason: str
) -> None:
    """A running clock's due instant moved, and the change is stored.

    ``reason`` says why: ``extension`` (an approved 延期), ``decision`` (a new decision gave the
    clock another period) or ``calendar`` (the clock was recomputed on newer calendar data, e.g.
    next year's State Council notice replacing the provisional estimate). ``clock`` is the
    clock after the change (``clock.provisional`` tells whether it still rests on estimated
    days), ``event`` the ``clock_update`` that recorded it. Tell the enterprise and the
    departments the new date as you would for an extension.
    """
