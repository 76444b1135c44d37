"""Exceptions raised by zhenshen_core.

Every error a caller can act on derives from :class:`ZhenshenError`, so embedding code can catch
one type at its boundary. The tree::

    ZhenshenError
    ├── CaseValidationError        invalid case data (wraps pydantic's located errors)
    ├── LifecycleError
    │   ├── IllegalTransitionError event not allowed in the current state
    │   ├── GuardError             event allowed, but its precondition fails
    │   └── DeskOnlyEventError     an event only the desk records, requested from outside
    ├── StorageError
    │   ├── ConcurrencyError       stale version on save; nothing was written; exit 75
    │   ├── StoreUnavailableError  the store is locked by another process, stalled past its
    │   │                          timeouts, or kept failing after its retries; exit 75
    │   ├── CaseNotFoundError
    │   └── StoreURLError          unknown scheme / bad URL
    ├── PluginError
    │   ├── PluginLoadError        a plugin failed to import or register
    │   ├── DuplicateNameError     two plugins registered the same name
    │   └── UnknownNameError       no plugin registered that name
    ├── IntakeError                a whole source could not be read (records go to dead letters)
    │   └── NormaliseError         a plugin could not make a case of one record (names it)
    │   └── ChannelOptionError     an option the intake channel does not take; exit 2
    ├── PackError / RuleError      a rule pack failed to load (``zhenshen_core.rules``;
    │                              ``.diagnostics`` lists every file:line:col problem)
    ├── EngineError                durable_rules refused or failed
    │                              (``rules.engines.durable``; ``.code``)
    ├── DeadlineError              periods and calendars (``zhenshen_core.deadlines``):
    │   ├── PeriodError            a malformed period string
    │   ├── CalendarRangeError     a date beyond the calendar's published notices
    │   └── CalendarDataError      a calendar data file with located problems
    ├── LetterError                an opinion letter failed (``zhenshen_core.desk.letters``): its
    │   │                          template could not be found, parsed or rendered
    │   ├── LetterCheckError       the letter is not fit to sign (``.problems``: dates, names,
    │   │                          measures, expert advice); exit 1
    │   └── MeasureError           a measure names no known department or has no due day
    ├── NotUtf8Error               a file that is not UTF-8 text, with the line and column
    │                              (``zhenshen_core.textio``)
    └── ConfigError                ``zhenshen.toml`` could not be read (``zhenshen_core.config``)

Errors of the rules, deadlines, letters, text and config modules live beside their modules.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


class ZhenshenError(Exception):
    """Base of every error this library raises on purpose."""


class CaseValidationError(ZhenshenError, ValueError):
    """Case data failed validation; ``errors`` holds pydantic-style located errors."""

    def __init__(self, message: str, errors: list[dict[str, object]] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []


class LifecycleError(ZhenshenError):
    """An event could not be applied to a case."""


class IllegalTransitionError(LifecycleError):
    def __init__(self, status: str, event: str, allowed: Iterable[str]) -> None:
        self.status, self.event, self.allowed = status, event, sorted(allowed)
        choices = ", ".join(self.allowed) or "none (terminal state)"
        super().__init__(
            f"event {event!r} is not allowed in state {status!r}; allowed events: {choices}"
        )


class GuardError(LifecycleError):
    def __init__(self, status: str, event: str, reason: str) -> None:
        self.status, self.event, self.reason = status, event, reason
        super().__init__(f"cannot {event!r} in state {status!r}: {reason}")


class DeskOnlyEventError(LifecycleError):
    """A person asked for an event only the desk itself records (``decide``, ``clock_update``,
    ``supervise`` …); the message names the events a person may request."""

    def __init__(self, event: str, allowed: Iterable[str]) -> None:
        self.event, self.allowed = event, sorted(allowed)
        super().__init__(
            f"event {event!r} is recorded by the desk itself and cannot be requested; "
            f"the events a person may request are: {', '.join(self.allowed)}"
        )


class StorageError(ZhenshenError):
    """A store could not be opened, read or written; nothing was half-written."""


class ConcurrencyError(StorageError):
    def __init__(self, case_id: str, expected: int, actual: int | None) -> None:
        self.case_id, self.expected, self.actual = case_id, expected, actual
        super().__init__(
            f"case {case_id} was changed by someone else: expected version {expected}, "
            f"stored version is {actual}; reload and retry"
        )


class StoreUnavailableError(StorageError):
    """The store did not answer in time, or kept failing where trying again later may succeed.

    Raised for a database another process holds locked past the busy timeout (the message names
    that process when it can), a server that stopped answering within its timeouts, and a
    transient failure (a lost connection, a server restarting) that outlasted the retries. The
    message says whether anything was written: normally nothing was; when a connection was lost
    while a commit was under way and the outcome could not be checked, it says so.
    """


class CaseNotFoundError(StorageError, KeyError):
    def __init__(self, case_id: str) -> None:
        self.case_id = case_id
        super().__init__(f"no case with id {case_id!r}")

    def __str__(self) -> str:
        return str(self.args[0])


class StoreURLError(StorageError, ValueError):
    """A store URL that names no backend or cannot be opened (bad path, bad scheme)."""


class PluginError(ZhenshenError):
    """A plugin could not be loaded or asked for something nobody registered."""


class PluginLoadError(PluginError):
    def __init__(self, plugin: str, cause: BaseException) -> None:
        self.plugin = plugin
        super().__init__(f"plugin {plugin!r} failed to load: {type(cause).__name__}: {cause}")


class DuplicateNameError(PluginError):
    def __init__(self, kind: str, name: str, first: str, second: str) -> None:
        self.kind, self.name = kind, name
        super().__init__(
            f"{kind} {name!r} is registered by two plugins: {first!r} and {second!r}; "
            f"disable one with -p no:NAME"
        )


class UnknownNameError(PluginError, LookupError):
    def __init__(self, kind: str, name: str, known: Iterable[str]) -> None:
        self.kind, self.name, self.known = kind, name, sorted(known)
        super().__init__(
            f"unknown {kind} {name!r}; choose one of: {', '.join(self.known) or '(none loaded)'}"
        )

    def __str__(self) -> str:
        return str(self.args[0])


class IntakeError(ZhenshenError):
    """A whole intake source could not be read; single bad records go to dead letters."""


class NormaliseError(IntakeError, ValueError):
    """A plugin's normaliser rejected one record (``ValueError``) or failed on it (any other
    exception, e.g. a ``KeyError`` for a field the record lacks).

    Intake stores the record as a dead letter with this message and goes on with the next one;
    ``plugin`` names the plugin, so the operator knows whose code to look at.
    """

    def __init__(self, plugin: str, hook: str, cause: BaseException) -> None:
        self.plugin, self.hook, self.cause = plugin, hook, cause
        if type(cause) is ValueError:  # the documented way to reject a record on purpose
            message = f"rejected by plugin {plugin!r}: {cause}"
        else:
            message = f"plugin {plugin!r} failed in {hook}: {type(cause).__name__}: {cause}"
        super().__init__(message)


class ChannelOptionError(IntakeError):
    """An option the intake channel does not declare (a usage error: exit 2)."""

    exit_code = 2

    def __init__(self, channel: str, unknown: Iterable[str], declared: Iterable[str]) -> None:
        self.channel, self.unknown, self.declared = channel, sorted(unknown), list(declared)
        names = ", ".join(f"--{n}" for n in self.unknown)
        takes = (
            "its options: " + ", ".join(f"--{n}" for n in self.declared)
            if self.declared
            else "it takes no options"
        )
        super().__init__(f"intake channel {channel!r} has no option {names}; {takes}")


def describe_validation_error(error: Mapping[str, Any], whole: str = "") -> str:
    """One of pydantic's ``errors()`` as ``dotted.location: message`` for people to read.

    ``whole`` stands for the location of an error about the entire object (``(case)``). The
    ``Value error, `` that pydantic puts before a message raised by one of our own checks is
    dropped: the message says what is wrong already.
    """
    where = ".".join(str(part) for part in error["loc"]) or whole
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message
