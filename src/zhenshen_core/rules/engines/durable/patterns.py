"""Stateful cross-case patterns on durable_rules: "N cases of one key within a window".

Groundwork for the joint review desk (issue 6): the same enterprise's third request within 30
days, a case returned between departments twice, N cases of one domain and obstacle in a month.
A Rete engine is built for this: it keeps the facts of each correlation key (an enterprise's
USCC, a department, ``domain/obstacle``) and joins them as they arrive.

How it is made safe (``notes/durable-rules.md``):

* **one sid per correlation key**, so facts of different keys never join; at most ``max_keys``
  (default 1,000, engine limit 1,024) keys live at once — past it the least recently observed key
  is evicted (``on_overflow="evict"``, its facts dropped) or :class:`EngineError` is raised
  (``"error"``);
* **no alert storms**: every fact is used by at most one alert per pattern — after an alert its
  facts are dropped for that pattern, so a 4th request does not re-fire the three
  combinations (1,2,4), (1,3,4), (2,3,4). An alert therefore means "``count`` *new* cases within
  the window"; the next alert for the key needs ``count`` more;
* **no retraction in joins, and no failing last join test**: two memory bugs of durable_rules
  2.0.28 that we found under valgrind (see ``_drop`` and ``_rule``) are avoided by rebuilding a
  key's sid instead of retracting, and by ending every join pattern with a test that never
  fails;
* **expiry**: facts older than the pattern's window are dropped by :meth:`expire` (and before
  each observation, relative to its day), so the state of a key stays bounded. Observations may
  arrive out of day order, but one older than the window relative to the newest day seen for
  its key can no longer join anything;
* every fact is matched by a single-pattern sentinel rule and every join pattern tests a positive
  ``pattern`` tag first; activations are drained before any sid is deleted.

Which counts belong here and which in the store: a pattern that must fire *once per group of
cases* (a 举一反三 proposal from N similar cases) fits this session. A count that must be known for
*every* case ("is this the 3rd or later request in 30 days?" to raise severity) is simpler and
exact as a windowed query on the case store, asserted into the rule engine as a fact
(``facts.requests_30d``); this session would report only every ``count``-th case.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

import durable_rules_engine as _dre

from zhenshen_core.rules.engines.durable.session import (
    EngineError,
    engine_error,
    new_ruleset_name,
)

#: The engine refuses the 1,025th live sid with an empty MemoryError.
ENGINE_MAX_SIDS = 1024
_SENTINEL = "zz_sentinel"
_NAMES = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth")

Overflow = Literal["evict", "error"]


@dataclass(frozen=True, slots=True)
class WindowPattern:
    """``count`` observations of one key within ``window_days`` days (first to last).

    ``where`` keeps only observations whose attributes equal these values (e.g.
    ``{"kind": "return"}`` for department returns).
    """

    id: str
    count: int
    window_days: int
    where: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 2 <= self.count <= len(_NAMES):
            raise ValueError(f"pattern {self.id!r}: count must be 2..{len(_NAMES)}")
        if self.window_days < 1:
            raise ValueError(f"pattern {self.id!r}: window_days must be at least 1")


@dataclass(frozen=True, slots=True)
class CrossCaseAlert:
    """A pattern completed for one key: the cases that completed it in arrival order, and the
    earliest and latest of their days."""

    pattern: str
    key: str
    case_ids: tuple[str, ...]
    first_day: date
    last_day: date


@dataclass(slots=True)
class _Fact:
    pattern: int
    seq: int
    day: int
    case_id: str

    def text(self, sid: str) -> str:
        return json.dumps(
            {
                "sid": sid,
                "case_id": self.case_id,
                "pattern": self.pattern,
                "seq": self.seq,
                "day": self.day,
            },
            ensure_ascii=False,
        )


def _rule(index: int, pattern: WindowPattern) -> dict[str, Any]:
    """``first``…``nth`` facts of this pattern, in arrival order, all within the window.

    A set of days fits in a window of ``W`` days exactly when every pair differs by less than
    ``W``, so each later fact is bounded against every earlier one (both directions: facts may
    arrive out of day order, e.g. when a desk replays returns at restart).
    """
    tag = {"pattern": index}
    width = pattern.window_days
    parts: list[dict[str, Any]] = [{_NAMES[0]: tag}]
    for i in range(1, pattern.count):
        tests: list[dict[str, Any]] = [tag, {"$gt": {"seq": {_NAMES[i - 1]: "seq"}}}]
        for earlier in _NAMES[:i]:
            tests.append({"$lt": {"day": {"$add": {"$l": {earlier: "day"}, "$r": width}}}})
            tests.append({"$gt": {"day": {"$sub": {"$l": {earlier: "day"}, "$r": width}}}})
        # Always true (seq grows along the chain), and it must stay last: when a join test fails,
        # durable_rules 2.0.28 skips to the sequence's end marker starting one entry too far
        # (``reduceExpressionSequence`` in events.c), so a failing *last* test reads past the
        # end of the node pool — a segfault we reproduced under valgrind. A test that never
        # fails in last place keeps the skip inside the sequence.
        tests.append({"$gte": {"seq": {_NAMES[0]: "seq"}}})
        parts.append({_NAMES[i]: {"$and": tests}})
    return {"all": parts}


class CrossCaseSession:
    """Windowed cross-case patterns over correlation keys, in one durable ruleset."""

    def __init__(
        self,
        patterns: Sequence[WindowPattern],
        *,
        max_keys: int = 1000,
        on_overflow: Overflow = "evict",
        label: str = "crosscase",
    ) -> None:
        if not patterns:
            raise ValueError("at least one pattern is needed")
        if len({p.id for p in patterns}) != len(patterns):
            raise ValueError("pattern ids must be unique")
        if not 1 <= max_keys <= ENGINE_MAX_SIDS - 1:
            raise ValueError(f"max_keys must be 1..{ENGINE_MAX_SIDS - 1}")
        self.patterns = tuple(patterns)
        self.max_keys = max_keys
        self.on_overflow: Overflow = on_overflow
        definition: dict[str, Any] = {f"p{i}": _rule(i, p) for i, p in enumerate(patterns)}
        definition[_SENTINEL] = {"all": [{"m": {"$ex": {"case_id": 1}}}]}
        self.name = new_ruleset_name(label)
        try:
            self._handle: int | None = _dre.create_ruleset(self.name, json.dumps(definition))
        except (_dre.error, MemoryError) as exc:
            raise engine_error(exc, "create_ruleset", self.name) from exc
        self._keys: OrderedDict[str, list[_Fact]] = OrderedDict()
        self._sids: dict[str, str] = {}
        self._in_engine: set[str] = set()  # sids the engine has state for
        self._seq = 0
        self._sid_serial = 0

    @property
    def live_keys(self) -> int:
        return len(self._keys)

    def observe(
        self, key: str, case_id: str, day: date, attrs: Mapping[str, Any] | None = None
    ) -> list[CrossCaseAlert]:
        """Record one case for ``key`` on ``day``; return the patterns it completed."""
        handle = self._live()
        attrs = attrs or {}
        self._expire_key(key, day)
        if key not in self._keys:
            self._make_room()
            self._keys[key] = []
            self._sids[key] = self._new_sid()
        self._keys.move_to_end(key)
        alerts: list[CrossCaseAlert] = []
        for index, pattern in enumerate(self.patterns):
            if any(attrs.get(k) != v for k, v in pattern.where.items()):
                continue
            self._seq += 1
            fact = _Fact(index, self._seq, day.toordinal(), case_id)
            self._keys[key].append(fact)
            sid = self._sids[key]
            self._in_engine.add(sid)
            alerts.extend(self._assert(handle, key, fact.text(sid)))
        return alerts

    def _new_sid(self) -> str:
        self._sid_serial += 1
        return f"k{self._sid_serial}"

    def _drain(self, handle: int, text: str) -> list[str]:
        try:
            status, offset = _dre.assert_fact(handle, text)
            if status != 0:
                raise EngineError(f"durable_rules: assert_fact returned status {status}")
            messages: list[str] = []
            result = _dre.start_action_for_state(handle, offset)
            message: str | None = None if result is None else result[1]
            while message is not None:
                messages.append(message)
                message = _dre.complete_and_start_action(handle, offset)
        except (_dre.error, MemoryError) as exc:
            self.close(leak=True)
            raise engine_error(exc, "cross-case assert", self.name) from exc
        return messages

    def _assert(self, handle: int, key: str, text: str) -> list[CrossCaseAlert]:
        messages = self._drain(handle, text)
        used: set[int] = set()
        alerts: list[CrossCaseAlert] = []
        for message in messages:
            ((rule, frames),) = json.loads(message).items()
            if rule == _SENTINEL:
                continue
            matched = [frames[name] for name in _NAMES if name in frames]
            seqs = {m["seq"] for m in matched}
            if seqs & used:
                continue  # each fact feeds at most one alert per pattern
            used |= seqs
            pattern = self.patterns[int(rule[1:])]
            days = [m["day"] for m in matched]
            alerts.append(
                CrossCaseAlert(
                    pattern=pattern.id,
                    key=key,
                    case_ids=tuple(m["case_id"] for m in matched),
                    first_day=date.fromordinal(min(days)),
                    last_day=date.fromordinal(max(days)),
                )
            )
        if used:
            self._drop(key, lambda f: f.seq in used)
        return alerts

    def expire(self, today: date) -> int:
        """Retract every fact that can no longer complete a window ending ``today`` or later."""
        self._live()
        return sum(self._expire_key(key, today) for key in list(self._keys))

    def _expire_key(self, key: str, today: date) -> int:
        if key not in self._keys:
            return 0
        now = today.toordinal()
        return self._drop(key, lambda f: f.day + self.patterns[f.pattern].window_days <= now)

    def _drop(self, key: str, doomed: Callable[[_Fact], bool]) -> int:
        """Forget some facts of ``key`` by rebuilding its sid from the facts that stay.

        Never ``retract_fact`` in a join ruleset: durable_rules 2.0.28 reads uninitialised
        frame slots when it removes a retracted fact from partial joins
        (``deleteMessageFromFrame``, seen under valgrind), which can leave stale references.
        Deleting the whole sid (nothing is pending: every assert is drained) and asserting the
        kept facts again is safe, and cheap because a key holds at most one window of facts.
        The kept facts never contain a complete pattern (it would have fired and consumed
        them), so re-asserting them fires nothing but the sentinel.
        """
        handle = self._live()
        facts = self._keys[key]
        keep = [f for f in facts if not doomed(f)]
        if len(keep) == len(facts):
            return 0
        old = self._sids[key]
        sid = self._new_sid()
        try:
            if old in self._in_engine:
                _dre.delete_state(handle, old)
                self._in_engine.discard(old)
        except (_dre.error, MemoryError) as exc:
            self.close(leak=True)
            raise engine_error(exc, "cross-case rebuild", self.name) from exc
        self._sids[key] = sid
        self._keys[key] = keep
        for fact in keep:
            self._in_engine.add(sid)
            self._drain(handle, fact.text(sid))
        return len(facts) - len(keep)

    def _make_room(self) -> None:
        if len(self._keys) < self.max_keys:
            return
        if self.on_overflow == "error":
            raise EngineError(
                f"cross-case session holds {self.max_keys} live keys (durable_rules allows at "
                "most 1,024 sessions per ruleset); expire old facts or raise max_keys",
                ruleset=self.name,
            )
        oldest, _ = self._keys.popitem(last=False)
        sid = self._sids.pop(oldest)
        if sid not in self._in_engine:
            return
        self._in_engine.discard(sid)
        try:
            _dre.delete_state(self._live(), sid)  # drained on every assert: nothing pending
        except (_dre.error, MemoryError) as exc:
            self.close(leak=True)
            raise engine_error(exc, "evicting a key", self.name) from exc

    def _live(self) -> int:
        if self._handle is None:
            raise EngineError("this cross-case session is closed", ruleset=self.name)
        return self._handle

    def close(self, *, leak: bool = False) -> None:
        """Free the engine state; after an engine error it is only forgotten (freeing could
        crash the process)."""
        handle, self._handle = self._handle, None
        if handle is None or leak:
            return
        try:
            for sid in self._in_engine:
                _dre.delete_state(handle, sid)
            _dre.delete_ruleset(handle)
        except (_dre.error, MemoryError) as exc:
            raise engine_error(exc, "close", self.name) from exc
        finally:
            self._keys.clear()
            self._sids.clear()
            self._in_engine.clear()


__all__ = ["CrossCaseAlert", "CrossCaseSession", "WindowPattern"]
