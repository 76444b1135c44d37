"""What can go wrong with an opinion letter, as errors the CLI turns into exit codes."""

from __future__ import annotations

from collections.abc import Sequence

from zhenshen_core.errors import ZhenshenError


class LetterError(ZhenshenError):
    """A letter template could not be found, parsed or rendered; the message names it."""


class LetterCheckError(LetterError):
    """The letter is not fit to sign: its date is before an event it cites, a name is not a
    display name, a measure has no department or no due day, or a required expert's advice is
    missing. ``problems`` lists every one (all are found at once, not the first only)."""

    exit_code = 1

    def __init__(self, subject: str, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        count = len(self.problems)
        super().__init__(f"{subject} is not fit to sign ({count} problem(s)):\n{lines}")


class MeasureError(LetterError):
    """A measure of a review opinion names no known department or has no due day."""

    exit_code = 1

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))
