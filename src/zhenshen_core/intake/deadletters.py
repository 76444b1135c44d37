"""What becomes a dead letter, and how: never a record dropped silently.

A record that cannot become a case is kept in the store's dead letters with its raw text, its
line and the reason (:func:`reject`); an adapter that fails part-way through a source becomes
one rejected record after the last line it read (:func:`guarded_read`); a record holding what
no store can keep (a NUL, a lone surrogate, a number that is not finite) is refused the same
way on every backend (:func:`unstorable_at`).
"""

from __future__ import annotations

import math
import re
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
    from zhenshen_core.privacy import mask_text

    # A validation error may quote the text it refused: storable, and its personal data
    # masked, since every display of a dead letter shows the reason (the raw record is kept
    # whole for a retry, and masked where it is shown).
    reason = mask_text(storable(reason))
    rejected.append(Rejected(record.line, reason, record.location))
    store.add_dead_letter(
        DeadLetter(
            channel=channel,
            source=storable(record.location or record.source),
            line=record.line,
            raw=storable(record.raw),
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


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_INT_DIGITS = 4300
"""An integer longer than this has no text form Python writes by default (``ValueError``),
so no store could keep it; JSON input never holds one (``textio.json_loads``), a plugin's
data might."""
_INT_BITS = 14_000  # below this many bits an integer has fewer than 4,300 digits


def unstorable_at(value: object) -> str | None:
    """Where ``value`` holds what no store can keep, as ``path: problem``, or None.

    A NUL character (U+0000) carries nothing in a work order (it is what C-string exports
    leave behind) and PostgreSQL's text and jsonb refuse it; a lone surrogate (a JSON
    ``"\\ud800"`` escape without its pair) is not a character and cannot be written as UTF-8
    by any store; a number that is not finite (``1e999`` reads as infinity) would be written
    as ``null``; an integer of thousands of digits cannot be written at all. Each is refused
    the same way on every backend, as the record's dead letter, rather than failing the batch
    in the store. The walk is iterative, so no nesting depth ends it with a
    ``RecursionError``."""
    stack: list[tuple[str, object]] = [("", value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            problem = _text_problem(item)
            if problem is not None:
                return f"{path or '(case)'}: text {problem}"
        elif isinstance(item, dict):
            entries = list(item.items())
            for key, inner in reversed(entries):
                where = f"{path}.{key}" if path else str(key)
                problem = _text_problem(key) if isinstance(key, str) else None
                if problem is not None:
                    return f"{where}: the name {problem}"
                stack.append((where, inner))
        elif isinstance(item, list | tuple):
            for index in range(len(item) - 1, -1, -1):
                stack.append((f"{path}.{index}" if path else str(index), item[index]))
        elif isinstance(item, float) and not math.isfinite(item):
            return f"{path or '(case)'}: not a finite number ({item}); write a number JSON can hold"
        elif isinstance(item, int) and item.bit_length() > _INT_BITS and _too_long(item):
            return (
                f"{path or '(case)'}: an integer of more than {_INT_DIGITS:,} digits; "
                "write it as text"
            )
    return None


def _too_long(number: int) -> bool:
    try:
        return len(str(number)) > _INT_DIGITS
    except ValueError:  # longer than Python's own conversion limit
        return True


def _text_problem(text: str) -> str | None:
    """What makes ``text`` unstorable, worded to follow "text " or "the name "."""
    if text.isascii() and "\x00" not in text:
        return None
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return "contains a NUL character (U+0000); remove it from the source"
    return (
        f"contains a lone surrogate (U+{ord(found.group()):04X}), which is not a "
        "character (half of a \\uD83D\\uDE00-style escape pair?); fix the source"
    )


def storable(text: str) -> str:
    """``text`` as a dead letter can keep it on every store: lone surrogates written as
    escapes (``\\xNN`` for the undecodable bytes of a stream, ``\\udNNN`` for the rest)."""
    if text.isascii() or _UNSTORABLE.search(text) is None:
        return text
    return "".join(
        (f"\\x{ord(c) - 0xDC00:02x}" if 0xDC80 <= ord(c) <= 0xDCFF else f"\\u{ord(c):04x}")
        if "\ud800" <= c <= "\udfff"
        else c
        for c in text
    )
