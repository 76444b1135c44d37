"""Typed records that registration hooks return (conda's habit).

A hook implementation returns a list of these; the :class:`~zhenshen_core.plugins.PluginHost`
flattens them, refuses a name registered twice (naming both plugins) and answers an unknown name
with the list of known ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import click

    from zhenshen_core.model.case import Case
    from zhenshen_core.rules.engines.base import Engine
    from zhenshen_core.rules.pack.model import ResolvedPack
    from zhenshen_core.storage.protocol import CaseStore


@dataclass(frozen=True)
class StorageBackend:
    """A storage backend selected by the URL scheme (``sqlite``, ``postgresql`` …)."""

    scheme: str
    description: str
    factory: Callable[[str], CaseStore]

    @property
    def name(self) -> str:
        return self.scheme


@dataclass(frozen=True)
class IntakeRecord:
    """One raw record read from a channel: its position in the source and its content.

    ``data`` is the case draft as a mapping (model field names), or None when the adapter could
    not parse the record at all; ``error`` then says why, and the raw text goes to dead letters.
    ``location`` is where a person finds the record when ``source:line`` does not say it, e.g.
    the cell of a workbook (``book.xlsx!Sheet1!A12``); messages and dead letters use it then.
    """

    source: str
    line: int | None
    raw: str
    data: Mapping[str, Any] | None
    error: str | None = None
    location: str | None = None


@dataclass(frozen=True)
class ChannelOption:
    """An option a channel takes for one ingest (``zhenshen ingest CHANNEL SRC --NAME VALUE``).

    Values arrive as strings (from the command line or ``Desk.ingest(options=…)``); the
    channel's ``configure`` checks them.
    """

    name: str
    help: str
    metavar: str = "VALUE"


@dataclass(frozen=True)
class FieldTrace:
    """Where one case field's value came from, for ``zhenshen ingest --dry-run``.

    ``source`` names the source column(s) (empty for a constant or a default), ``source_value``
    is what they held, ``value`` what the case gets; ``problem`` says why the field could not
    be filled, when it could not.
    """

    field: str
    value: Any
    source: str = ""
    source_value: Any = None
    problem: str | None = None


@dataclass(frozen=True)
class IntakeReader:
    """A channel set up with its options for one ingest: what ``IntakeChannel.reader`` gives.

    ``read`` and ``count`` are as on :class:`IntakeChannel`; ``explain`` (optional) traces a
    record back to its source fields, side by side with the case fields they fill.
    """

    read: Callable[[str], Iterator[IntakeRecord]]
    count: Callable[[str], int] | None = None
    explain: Callable[[IntakeRecord], Sequence[FieldTrace]] | None = None


@dataclass(frozen=True)
class IntakeChannel:
    """An intake adapter: reads a source (path or ``-``) and yields raw records.

    ``count`` (optional) tells how many records a source file holds, cheaply and without side
    effects (a line count, not a parse that takes minutes; never consuming a queue). It is only
    called to show a total and an ETA while a long ingest runs on a terminal, never for
    standard input; leave it None when a count would cost about as much as the read.

    A channel that takes options (a mapping profile, a sheet name …) declares them in
    ``options`` and gives ``configure(options) -> IntakeReader``, called once per ingest with
    the options given (a subset of those declared); ``read``/``count`` stay what it does with
    none. Use :meth:`reader` rather than ``read`` to honour options.
    """

    name: str
    description: str
    read: Callable[[str], Iterator[IntakeRecord]]
    count: Callable[[str], int] | None = None
    options: tuple[ChannelOption, ...] = ()
    configure: Callable[[Mapping[str, str]], IntakeReader] | None = None

    def reader(self, options: Mapping[str, str] | None = None) -> IntakeReader:
        """The channel set up with ``options``; an option it does not declare is
        :class:`~zhenshen_core.errors.ChannelOptionError` naming the ones it does."""
        given = dict(options or {})
        declared = [o.name for o in self.options]
        unknown = sorted(set(given) - set(declared))
        if unknown:
            from zhenshen_core.errors import ChannelOptionError

            raise ChannelOptionError(self.name, unknown, declared)
        if self.configure is None:
            return IntakeReader(self.read, self.count)
        return self.configure(given)


@dataclass(frozen=True)
class DeskDefaults:
    """What a district's desk signs its letters with, declared beside the district's pack.

    A :class:`~zhenshen_core.desk.Desk` deciding with the pack takes these when its
    ``DeskSettings`` leave ``org`` or ``letter_prefix`` open (the library itself names no
    district).
    """

    org: str
    """The issuing body, e.g. 武侯区营商环境领导小组办公室."""
    letter_prefix: str
    """The 发文机关代字 of letter numbers, e.g. 武营审 (武营审〔2026〕1号)."""


@dataclass(frozen=True)
class RulePackSource:
    """A rule pack shipped by a plugin: a folder holding ``pack.yaml``.

    ``default`` marks the pack that commands use when none is named (``--pack``,
    ``ZHENSHEN_PACK``, ``pack`` in zhenshen.toml): at most one installed plugin may mark one.
    ``desk`` is what a desk deciding with this pack signs its letters with.
    """

    id: str
    path: Path
    description: str = ""
    default: bool = False
    desk: DeskDefaults | None = None

    @property
    def name(self) -> str:
        return self.id


@dataclass(frozen=True)
class CalendarSource:
    """A working-day calendar (national, provincial, district or an organisation's)."""

    name: str
    description: str
    factory: Callable[[], Any]
    base: str | None = None


@dataclass(frozen=True)
class Notification:
    """What a notifier receives: the case, the event and extra context.

    A desk delivers notices to notifiers from its outbox, at least once: ``key`` is the
    notice's idempotency key (the same change told to the same notifier always has the same
    key; keep the keys you have handled and drop a repeat), ``attempt`` counts deliveries of
    it from 1. ``case`` is the case after the change, or as stored when a later delivery
    retries it. Notifications built by hand have an empty key.
    """

    # case_received | case_transitioned | decision_made | deadline_changed | clock_alert
    kind: str
    case: Case
    event_type: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)
    key: str = ""
    attempt: int = 1


@dataclass(frozen=True)
class Notifier:
    """Sends notifications somewhere (SMS gateway, 12345 back-sync, e-mail …).

    What it sends leaves the desk, so by default it receives the case with its personal data
    masked (``138****5678``, a confidential requester 保密), as every other output shows it.
    A notifier that must reach the person (an SMS gateway texting the requester) declares
    ``personal_data=True`` and receives the stored values.
    """

    name: str
    description: str
    send: Callable[[Notification], None]
    personal_data: bool = False


@dataclass(frozen=True)
class Renderer:
    """Renders a document (e.g. the 甄别审查意见书) from a template context to bytes."""

    name: str
    description: str
    media_type: str
    extension: str
    render: Callable[[Mapping[str, Any]], bytes]


@dataclass(frozen=True)
class RuleAction:
    """A named action a rule can request (``then: {actions: [NAME]}``)."""

    name: str
    description: str
    run: Callable[[Case, Mapping[str, Any]], None]


@dataclass(frozen=True)
class RuleEngine:
    """A rule engine chosen by name (``zhenshen eval --engine NAME``, ``Desk(engine=NAME)``).

    ``factory(pack)`` returns an engine bound to that resolved pack: an object with ``name``,
    ``pack``, ``evaluate(case)`` and ``evaluate_many(cases)``
    (:class:`~zhenshen_core.rules.engines.base.Engine`); usually a
    :class:`~zhenshen_core.rules.engines.base.MatcherEngine` over a matcher of its own.
    """

    name: str
    description: str
    factory: Callable[[ResolvedPack], Engine]


@dataclass(frozen=True)
class CliCommands:
    """Extra click commands a plugin adds to ``zhenshen``."""

    name: str
    commands: Iterable[click.Command]
    description: str = ""
