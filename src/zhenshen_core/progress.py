"""Progress of long work, told by the library to whoever watches it, or to nobody.

Library calls that can run for minutes (bulk intake, deciding what was ingested, the demo's
simulated year) take an optional ``progress`` reporter. They announce each phase with its size
and advance it as items are done; they never draw anything themselves. The CLI passes a
progress display for terminals (:class:`zhenshen_core.cli.progress.LiveProgress`); embedding
code may pass its own (a log line per phase, a message to a web page) or nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

Advance = Callable[[int], None]
"""Called with the number of items just done in the current phase."""

Total = int | Callable[[], int | None] | None
"""A phase's size: a number, unknown (None), or a function that counts it (e.g. the records of
a file), called only by a reporter that shows totals, so nobody pays for a count nobody sees."""


class ProgressReporter(Protocol):
    """Receives the phases of long work; see :class:`SilentProgress` for the smallest one."""

    def phase(self, label: str, total: Total = None, *, unit: str = "items") -> Advance:
        """A new phase of ``total`` ``unit`` (it ends the previous one); returns the function
        that advances it."""
        ...


def _nothing(n: int) -> None:
    del n


class SilentProgress:
    """The reporter of a caller that does not watch: every phase is ignored."""

    def phase(self, label: str, total: Total = None, *, unit: str = "items") -> Advance:
        del label, total, unit
        return _nothing


SILENT = SilentProgress()
"""Shared because it has no state."""

__all__ = ["SILENT", "Advance", "ProgressReporter", "SilentProgress", "Total"]
