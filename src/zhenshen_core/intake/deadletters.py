"""What becomes a dead letter, and how: never a record dropped silently.

A record that cannot become a case is kept in the store's dead letters with its raw text, its
line and the reason (:func:`reject`); an adapter that fails part-way through a source becomes
one rejected record after the last line it read (:func:`guarded_read`); a record holding a NUL
character is refused the same way on every backend (:func:`nul_at`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from zhenshen_core.errors import IntakeError
from zhenshen_core.plugins.records import IntakeRecord
from zhenshen_core.storage.protocol import CaseStore, DeadLetter


@dataclass
class Rejected:
    """A record that went to dead letters: its line in the source and why."""

    line: int | None
    reason: str
    location: str | None = None  # the record's own location (a workbook cell), when it has one


def reject(
    record: IntakeRecord,
    reason: str,
    channel: str,
    rejected: list[Rejected],
    store: CaseStore,
    clock: Callable[[], datetime],
) -> None:
    """Keep ``record`` in the store's dead letters and list it in ``rejected`` (the summary's
    list): the batch goes on, and the raw text is there to fix and send again."""
    rejected.append(Rejected(record.line, reason, record.location))
    store.add_dead_letter(
        DeadLetter(
            channel=channel,
            source=record.location or record.source,
            line=record.line,
            raw=record.raw,
            reason=reason,
            at=clock(),
        )
    )


def guarded_read(
    records: Iterable[IntakeRecord], source: str, channel: str, plugin: str
) -> Iterator[IntakeRecord]:
    """A channel adapter's records, with its failure turned into a dead letter.

    An adapter that raises part-way through (a bug, or a record it did not expect) cannot be
    resumed, but what it read before is kept: the failure becomes one rejected record after
    the last line read, naming the plugin. Failing before its first record, it could read
    nothing: that is an ``IntakeError`` for the whole source (one the channel raised itself,
    such as a workbook it refuses or an unknown sheet, passes unchanged).
    """
    iterator = iter(records)
    last: int | None = None
    while True:
        try:
            record = next(iterator)
        except StopIteration:
            return
        except Exception as exc:
            if last is None and isinstance(exc, IntakeError):
                raise  # the channel refused the whole source itself, in its own words
            what = f"plugin {plugin!r} failed reading {channel!r}"
            problem = f"{type(exc).__name__}: {exc}"
            if last is None:
                raise IntakeError(f"{source}: {what}: {problem}") from exc
            yield IntakeRecord(
                source,
                last + 1,
                "",
                None,
                f"{what} after line {last}: {problem}; the rest of the source was not read",
            )
            return
        last = record.line if record.line is not None else (last or 0)
        yield record


def nul_at(value: object, path: str = "") -> str | None:
    """Where ``value`` holds a NUL character (U+0000), as a dotted path, or None.

    A NUL carries nothing in a work order (it is what C-string exports leave behind) and some
    stores cannot keep it (PostgreSQL's text and jsonb), so every backend refuses the record the
    same way, as a dead letter, rather than one of them failing the whole batch."""
    if isinstance(value, str):
        return (path or "(case)") if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            inner = f"{path}.{key}" if path else str(key)
            if "\x00" in str(key):
                return inner
            found = nul_at(item, inner)
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = nul_at(item, f"{path}.{index}" if path else str(index))
            if found is not None:
                return found
    return None
