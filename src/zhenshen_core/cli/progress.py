"""Progress of long commands: a live display on a terminal, nothing drawn anywhere else.

On an interactive terminal each phase of the work (ingest, decide, simulate …) is a line on
stderr: label, bar, done/total, rate and ETA; the lines vanish when the work ends and the
command prints its one-line summary (counts and seconds), which is all a pipe, a file or a CI
log ever gets: no escape codes there. Only a real terminal on stderr turns the display on:
``FORCE_COLOR`` alone does not (CI systems set it for coloured logs); rich's own switch
``TTY_INTERACTIVE=1`` forces it (with ``TTY_COMPATIBLE=1`` where stderr is not a terminal, as
in tests) and ``TTY_INTERACTIVE=0`` turns it off. The display goes to stderr and never captures
stdout, so ``zhenshen ingest … --format json | jq`` gets clean JSON while the bar runs.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from zhenshen_core.progress import Advance, Total


def progress_console() -> Console:
    """stderr, interactive only when it is a real terminal (or rich is told so)."""
    interactive: bool | None = None  # TTY_INTERACTIVE set: rich reads it
    if os.environ.get("TTY_INTERACTIVE") not in ("0", "1"):
        isatty = getattr(sys.stderr, "isatty", None)
        interactive = bool(isatty and isatty())
    width = int(os.environ["COLUMNS"]) if os.environ.get("COLUMNS", "").isdigit() else None
    return Console(
        file=sys.stderr,
        width=width,
        force_interactive=interactive,
        no_color="NO_COLOR" in os.environ,
        highlight=False,
    )


class _Rate(ProgressColumn):
    """Items per second over rich's sliding window (the whole phase once it is finished)."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        unit = task.fields.get("unit", "items")
        shown = "–" if speed is None else f"{speed:,.0f}" if speed >= 10 else f"{speed:.1f}"
        return Text(f"{shown} {unit}/s", style="progress.data.speed")


class _Eta(ProgressColumn):
    """Time left at the current rate; empty when the total is unknown or the phase is done."""

    max_refresh = 0.5

    def render(self, task: Task) -> Text:
        if task.total is None or task.finished:
            return Text("")
        left = task.time_remaining
        shown = "-:--:--" if left is None else str(timedelta(seconds=int(left)))
        return Text(f"ETA {shown}", style="progress.remaining")


@dataclass
class PhaseTime:
    label: str
    done: int
    seconds: float


class LiveProgress:
    """A :class:`~zhenshen_core.progress.ProgressReporter` for the CLI; use it as a context.

    It also times each phase, so a command can end with "… in 32.1 s (ingest 1.4 s, …)"
    whether or not anything was drawn.
    """

    def __init__(
        self, console: Console | None = None, *, get_time: Callable[[], float] | None = None
    ) -> None:
        self.console = console or progress_console()
        self.live = self.console.is_terminal and self.console.is_interactive
        self._clock = get_time or time.monotonic
        self._progress = Progress(
            TextColumn("{task.description:<9}"),
            BarColumn(bar_width=30),
            MofNCompleteColumn(),
            _Rate(),
            _Eta(),
            TimeElapsedColumn(),
            console=self.console,
            disable=not self.live,
            transient=True,
            redirect_stdout=False,
            redirect_stderr=False,
            get_time=self._clock,
        )
        self._task: TaskID | None = None
        self._label = ""
        self._done = 0
        self._phase_start = 0.0
        self._start = 0.0
        self.phases: list[PhaseTime] = []

    def __enter__(self) -> LiveProgress:
        self._start = self._phase_start = self._clock()
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._end_phase()
        self._progress.stop()

    @property
    def seconds(self) -> float:
        """Wall time since the work began."""
        return self._clock() - self._start

    def phase(self, label: str, total: Total = None, *, unit: str = "items") -> Advance:
        self._end_phase()
        size = total() if callable(total) and self.live else total
        self._task = self._progress.add_task(
            label, total=size if isinstance(size, int) else None, unit=unit
        )
        self._label, self._done, self._phase_start = label, 0, self._clock()
        task = self._task

        def advance(n: int) -> None:
            self._done += n
            self._progress.advance(task, n)

        return advance

    def refresh(self) -> None:
        """Draw now rather than at the next tick (the display refreshes itself 10 times a
        second)."""
        self._progress.refresh()

    def _end_phase(self) -> None:
        if self._task is None:
            return
        task = self._task
        self._task = None
        # A phase may end short of an estimated total (records a channel counted but could not
        # read): show it complete at what was really done.
        self._progress.update(task, total=self._done, completed=self._done)
        self.phases.append(PhaseTime(self._label, self._done, self._clock() - self._phase_start))

    def timings(self) -> str:
        """``ingest 1.4 s, decide 8.0 s`` for the summary line."""
        return ", ".join(f"{p.label} {p.seconds:.1f} s" for p in self.phases)


__all__ = ["LiveProgress", "PhaseTime", "progress_console"]
