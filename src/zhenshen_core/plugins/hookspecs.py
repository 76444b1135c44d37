"""Hook specifications: the whole extension surface of zhenshen_core.

Every hook has the ``zhenshen_`` prefix. Three families:

* **registration** hooks return a list of typed records (:mod:`zhenshen_core.plugins.records`);
  every implementation is called and the lists are merged by name;
* **pipeline** hooks let a plugin take over or add to one step of handling a case;
* **notification** hooks fan out to every implementation; each call is isolated, so a failing
  plugin is reported with its name and never loses or rolls back the case.

Plugins are found through the ``zhenshen`` entry-point group, a project-local plugin file the
user names (``--local-plugins zhenshen_local.py``, ``ZHENSHEN_LOCAL_PLUGINS``, or
``local_plugins`` in a config given with ``--config``; a file merely present in the working
directory is never imported) and explicit ``-p NAME``; built-ins are internal plugins
registered first and marked ``trylast`` where a plugin may override them.
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
        RuleEngine,
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

    Example:

    ```python
    from zhenshen_core import MemoryStore, hookimpl
    from zhenshen_core.plugins import StorageBackend


    @hookimpl
    def zhenshen_storage_backends():
        # ``scratch://`` opens an empty in-process store, e.g. for a demo or a test fixture
        return [StorageBackend("scratch", "throw-away in-process store", lambda url: MemoryStore())]
    ```
    """


@hookspec
def zhenshen_intake_channels() -> list[IntakeChannel]:
    """Register intake channels (``json``, ``jsonl``, ``csv``, a 12345 platform export …).

    Called once. Each channel's ``read(source)`` yields
    :class:`~zhenshen_core.plugins.records.IntakeRecord` objects; records it cannot parse are
    yielded with ``error`` set so they reach the dead-letter store instead of vanishing. A
    ``read`` that raises part-way keeps the records it yielded; the failure becomes one dead
    letter after the last line read, naming the plugin (raising before the first record is an
    ``IntakeError`` for the whole source). A
    channel with options of its own (``zhenshen ingest CHANNEL SRC --profile P``) declares them
    in ``options`` and gives ``configure(options)``, which returns the
    :class:`~zhenshen_core.plugins.records.IntakeReader` for one ingest (``explain`` there
    traces a record's case fields to its source fields for ``--dry-run``).

    Example:

    ```python
    import json

    from zhenshen_core import hookimpl
    from zhenshen_core.plugins import IntakeChannel, IntakeRecord


    def read_export(source):
        with open(source, encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                try:
                    yield IntakeRecord(source, number, line, json.loads(line))
                except ValueError as exc:  # kept as a dead letter with the line and the reason
                    yield IntakeRecord(source, number, line, None, f"not JSON: {exc}")


    @hookimpl
    def zhenshen_intake_channels():
        return [IntakeChannel("export", "our 12345 platform's JSON-lines export", read_export)]
    ```
    """


@hookspec
def zhenshen_rule_packs() -> list[RulePackSource]:
    """Register rule packs (folders with a ``pack.yaml``) shipped by a distribution.

    Called once; the pack ids become valid wherever the CLI or API expects a pack, and in other
    packs' ``extends``. ``desk`` (a :class:`~zhenshen_core.plugins.records.DeskDefaults`) names
    the body that signs a desk's letters and their 文号 prefix when the desk decides with this
    pack; ``default=True`` makes the pack the one commands use when none is named (at most one
    installed plugin may say so).

    Example:

    ```python
    from pathlib import Path

    from zhenshen_core import hookimpl
    from zhenshen_core.plugins import DeskDefaults, RulePackSource


    @hookimpl
    def zhenshen_rule_packs():
        return [
            RulePackSource(
                "cn.chengdu.wuhou",
                Path(__file__).parent / "pack",
                description="武侯区: extends the reference pack",
                desk=DeskDefaults(org="武侯区营商环境领导小组办公室", letter_prefix="武营审"),
            )
        ]
    ```
    """


@hookspec
def zhenshen_calendars() -> list[CalendarSource]:
    """Register working-day calendars (a province's, a district's, an organisation's).

    Called once. ``factory()`` returns a :class:`~zhenshen_core.deadlines.Calendar`; ``base``
    names the calendar it layers on.

    Example:

    ```python
    from zhenshen_core import hookimpl, national_calendar
    from zhenshen_core.plugins import CalendarSource


    def strict():
        # the national days, refusing to guess past the published notices
        return national_calendar("strict")


    @hookimpl
    def zhenshen_calendars():
        return [CalendarSource("cn-strict", "national, strict", strict)]
    ```
    """


@hookspec
def zhenshen_notifiers() -> list[Notifier]:
    """Register notifiers that receive every :class:`Notification` of the desk.

    A desk writes one notice per notifier to the store's outbox in the same transaction as the
    change, and delivers it at least once: after a crash or a failed ``send`` it is sent again
    (with backoff; ``zhenshen outbox list|retry``). ``notification.key`` is the notice's
    idempotency key, the same on every delivery: keep the keys handled and drop a repeat.
    Each ``send`` call is isolated: an exception is reported with the plugin's name and leaves
    the notice pending.

    Example:

    ```python
    from zhenshen_core import hookimpl
    from zhenshen_core.plugins import Notifier


    def log(notification):
        print(notification.kind, notification.case.id, notification.event_type)


    @hookimpl
    def zhenshen_notifiers():
        return [Notifier("log", "prints every notification", log)]
    ```
    """


@hookspec
def zhenshen_renderers() -> list[Renderer]:
    """Register document renderers (Markdown, HTML, DOCX …) for opinion letters and reports.

    Example:

    ```python
    import json

    from zhenshen_core import hookimpl
    from zhenshen_core.plugins import Renderer


    def as_json(context):
        return json.dumps(context, ensure_ascii=False, default=str).encode("utf-8")


    @hookimpl
    def zhenshen_renderers():
        return [Renderer("json", "the context as JSON", "application/json", ".json", as_json)]
    ```
    """


@hookspec
def zhenshen_rule_actions() -> list[RuleAction]:
    """Register named actions that rules may request with ``then: {actions: [NAME]}``.

    A pack naming an action nobody registered fails to load (strict by default).

    Example:

    ```python
    from zhenshen_core import hookimpl
    from zhenshen_core.plugins import RuleAction


    def open_ticket(case, decision):
        print("ticket for", case.id, "severity", decision.get("severity"))


    @hookimpl
    def zhenshen_rule_actions():
        return [RuleAction("open_ticket", "a ticket in the district's tracker", open_ticket)]
    ```
    """


@hookspec
def zhenshen_engines() -> list[RuleEngine]:
    """Register rule engines by name (``zhenshen eval --engine NAME``, ``zhenshen test
    --engine NAME``, ``Desk(engine=NAME)``).

    Return a list of :class:`~zhenshen_core.plugins.records.RuleEngine`; ``factory(pack)``
    builds an engine bound to one resolved pack. An engine only has to find which rules match a
    fact view (a *matcher*); :class:`~zhenshen_core.rules.engines.base.MatcherEngine` does the
    rest the way the built-in engines do, so decisions, explanations and JSON stay identical.
    The built-ins ``compiled`` and ``durable`` are registered the same way; a second engine of
    one name is an error naming both plugins. For example, an engine that matches by reading
    every condition with the language's reference semantics:

    ```python
    from zhenshen_core.plugins import hookimpl
    from zhenshen_core.plugins.records import RuleEngine
    from zhenshen_core.rules import MatcherEngine, holds


    class ReferenceMatcher:
        # which rules of a stage match: each condition read by ``holds``

        def __init__(self, pack):
            self.pack = pack

        def match(self, stage, facts):
            levels = self.pack.severity_levels
            return [
                i
                for i, rule in enumerate(self.pack.stage_rules(stage))
                if rule.condition is None or holds(rule.condition, facts, levels)
            ]


    @hookimpl
    def zhenshen_engines():
        def reference(pack):
            return MatcherEngine(pack, ReferenceMatcher(pack))

        return [RuleEngine("reference", "reads every condition, no index", reference)]
    ```

    With the plugin loaded, ``make_engine("reference", pack, host=host)`` builds it, and its
    decisions equal the compiled engine's.
    """


@hookspec
def zhenshen_cli_commands() -> list[CliCommands]:
    """Add click commands to the ``zhenshen`` CLI.

    Called when the group is built for ``zhenshen --help`` or a command that is not built in
    (built-in commands start without consulting plugins, and a plugin command never replaces
    one). A command receives the CLI's context with ``zhenshen_core.cli.context.pass_cli`` and
    can take the built-in options and helpers of ``zhenshen_core.cli.options`` (``--store``,
    ``--pack``, ``desk_for``), so it behaves like the built-in commands; the reference pack's
    ``zhenshen demo`` and ``zhenshen corpus`` come this way.

    Example:

    ```python
    import click

    from zhenshen_core import hookimpl
    from zhenshen_core.plugins import CliCommands


    @click.command(help="Greet the desk.")
    def hello():
        click.echo("你好")


    @hookimpl
    def zhenshen_cli_commands():
        return [CliCommands("hello", [hello], description="zhenshen hello")]
    ```
    """


# --- pipeline ---------------------------------------------------------------------------------


@hookspec(firstresult=True)
def zhenshen_normalise_intake(channel: str, data: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """Turn a channel's raw record into the case-draft mapping (model field names).

    firstresult: the first non-None return wins; the built-in implementation (``trylast``) passes
    the mapping through unchanged. Raise ``ValueError`` to reject the record with a reason. Any
    other exception (a ``KeyError`` for a field the record lacks) also rejects only that record:
    intake stores it as a dead letter naming the plugin and the line, and goes on.

    Example:

    ```python
    from zhenshen_core import hookimpl


    @hookimpl
    def zhenshen_normalise_intake(channel, data):
        if channel != "export":
            return None  # not ours: the next implementation (at last the built-in) takes it
        return {
            "external_id": data["nr"],  # a record without "nr" becomes a dead letter
            "channel": "hotline_12345",
            "received_at": data["time"],
            "title": data["subject"],
            "content": data.get("text", ""),
        }
    ```
    """


@hookspec
def zhenshen_enrich_case(case: Case) -> Mapping[str, Any] | None:
    """Return extra ``facts`` for a case before the rules run (e.g. counts from a CRM).

    Every implementation is called; their mappings are merged in registration order (later wins
    on equal keys) and recorded as one ``update_facts`` event. A desk with an enricher looks
    each work order up before asking it: a repeat of a stored work order never reaches it.

    Example:

    ```python
    from zhenshen_core import hookimpl


    @hookimpl
    def zhenshen_enrich_case(case):
        if case.enterprise is None:
            return None
        return {"prior_contacts": 2}  # e.g. what the CRM counted for case.enterprise.uscc
    ```
    """


# --- notification (fan-out, isolated) -----------------------------------------------------------


@hookspec
def zhenshen_case_received(case: Case, event: CaseEvent) -> None:
    """A new case was stored (not called for a duplicate delivery of the same work order).

    Example:

    ```python
    from zhenshen_core import hookimpl


    @hookimpl
    def zhenshen_case_received(case, event):
        print("received", case.id, "from", case.channel.value, "at", event.at.isoformat())
    ```
    """


@hookspec
def zhenshen_case_transitioned(case: Case, event: CaseEvent) -> None:
    """A lifecycle event was stored; ``case`` is the state after it.

    Example:

    ```python
    from zhenshen_core import hookimpl


    @hookimpl
    def zhenshen_case_transitioned(case, event):
        print(case.id, event.type, "->", case.status.value)
    ```
    """


@hookspec
def zhenshen_decision_made(case: Case, decision: Mapping[str, Any]) -> None:
    """The rules engine decided on a case and the decision was stored.

    Example:

    ```python
    from zhenshen_core import hookimpl


    @hookimpl
    def zhenshen_decision_made(case, decision):
        print(case.id, decision["severity"], [f["rule"] for f in decision["fired"]])
    ```
    """


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

    Example:

    ```python
    from zhenshen_core import hookimpl


    @hookimpl
    def zhenshen_deadline_changed(case, event, clock, previous_due, reason):
        moved = f"{previous_due:%Y-%m-%d} -> {clock.due_at:%Y-%m-%d}"
        print(case.id, clock.name, moved, reason)
    ```
    """
