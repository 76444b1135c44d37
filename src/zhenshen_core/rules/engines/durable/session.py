"""A synchronous, guarded wrapper over one durable_rules ruleset.

durable_rules' Python layer (``durable.engine.Host``) starts timer threads, runs actions as
Python callbacks whose exceptions are swallowed into the session state, and keeps one global
host. We drive the C extension (``durable_rules_engine``) directly instead: assert a fact, read
the activations it produced (each names the rule that fired), complete them, retract the fact.
No Python action ever runs inside the engine, so there is no swallowed exception, no
two-parameter "async" action and no reliance on ``pri`` ordering: the caller gets the set of rule
names and applies its own conflict rules. Measured on this machine (``benchmarks/bench_durable.py``,
docs/performance.md): a ``Host`` subclass with its dispatch threads disabled is 4-5.5× slower
than this loop, because it builds closures and re-serialises the state per activation.

Every crash the team measured (``notes/durable-rules.md``) is avoided here or in ``limits.py``:

* every ruleset gets a catch-all sentinel rule (``$ex`` on ``case_id``) so that no asserted fact
  is ever unhandled (an unhandled fact corrupts the heap); its activations are dropped;
* every rule is ANDed with that positive guard, so no rule is a bare negative condition;
* activations are drained before the fact is retracted or the sid deleted (deleting with pending
  activations aborts the process);
* sids never pile up (the 1,025th live sid raises an empty ``MemoryError``): by default one
  *worker sid* is reused (assert → drain → retract), which is exact because every rule we
  compile matches a single fact; ``strategy="fresh"`` uses a new sid per evaluation and deletes
  it afterwards (slower, kept for comparison and for multi-pattern rulesets);
* engine error codes and ``MemoryError`` become :class:`EngineError` with the code's meaning;
* after an error in the middle of an evaluation the worker sid may hold pending activations, so
  it is abandoned (never deleted) and a new one is used; a bounded number of abandoned sids
  keeps the ruleset under its sid limit.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from typing import Any, Literal

import durable_rules_engine as _dre

from zhenshen_core.errors import ZhenshenError

#: Name of the catch-all rule added to every ruleset; its activations are not reported.
SENTINEL_RULE = "zz_sentinel"
#: Property every asserted fact carries; the sentinel and the guard test its presence.
CASE_KEY = "case_id"
#: The positive guard every compiled rule starts with.
GUARD: dict[str, Any] = {"$ex": {CASE_KEY: 1}}
#: Property names the session itself writes into a fact.
RESERVED_KEYS = frozenset({"sid", "id", CASE_KEY})
#: A rule name must be a plain identifier: it is cut out of activation JSON without parsing it.
_RULE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
#: Abandoned worker sids tolerated before the ruleset is declared unusable (limit is 1,024).
MAX_ABANDONED_SIDS = 512

Strategy = Literal["worker", "fresh"]

#: What the C engine's error codes mean (``src/rules/rules.h`` in durable_rules 2.0.28).
ERROR_MEANINGS: dict[int, str] = {
    101: "the engine ran out of memory",
    102: "unexpected value type in a rule or fact",
    103: "an identifier is too long",
    104: "unexpected value in a rule",
    105: "unexpected name in a rule",
    106: "too many rules or alpha nodes in one ruleset (limit 4,096 rules, 512 children a node)",
    107: "too many negative (not-exists) tests under one node (limit 128)",
    108: "too many rules end at one node (limit 256)",
    109: "a rule has no qualifier",
    111: "invalid ruleset handle (the ruleset was deleted)",
    112: "too many rulesets in this process (limit 131,072)",
    113: "a condition is too complex (more than 32 and/or terms)",
    201: "the engine could not parse a value",
    202: "the engine could not parse a string",
    203: "the engine could not parse a number",
    204: "the engine could not parse an object",
    205: "the engine could not parse an array",
    302: "a fact has more than 255 properties",
    303: "more than 64 alpha branches matched one fact",
    304: "too many messages in one frame",
    307: "an engine node was deleted while in use",
    308: "an engine node is busy dispatching",
    309: "session (sid) not found",
    313: "a fact is too large",
    314: "a fact property is too large",
}

_CODE = re.compile(r"error code: (\d+)")


class EngineError(ZhenshenError):
    """durable_rules refused or failed an operation; ``code`` is the engine's error code.

    Raised instead of letting the C extension crash, hang or answer wrongly: either a compile-time
    guard found a pack the engine cannot run safely (``code`` is then ``None`` and the message says
    which limit and how to change the pack), or the engine returned an error at run time.
    """

    def __init__(self, message: str, *, code: int | None = None, ruleset: str | None = None):
        self.code = code
        self.ruleset = ruleset
        where = f" (ruleset {ruleset})" if ruleset else ""
        super().__init__(message + where)


def engine_error(exc: BaseException, operation: str, ruleset: str | None = None) -> EngineError:
    """Translate an exception raised by ``durable_rules_engine`` into an :class:`EngineError`."""
    if isinstance(exc, MemoryError):
        return EngineError(
            f"durable_rules: {operation} failed with MemoryError (too many live sessions in one "
            "ruleset, or the engine's memory is exhausted)",
            ruleset=ruleset,
        )
    match = _CODE.search(str(exc))
    code = int(match.group(1)) if match else None
    meaning = ERROR_MEANINGS.get(code, "unknown engine error") if code is not None else str(exc)
    suffix = f"error {code}: {meaning}" if code is not None else meaning
    return EngineError(f"durable_rules: {operation} failed, {suffix}", code=code, ruleset=ruleset)


def new_ruleset_name(label: str) -> str:
    """A process-unique ruleset name: rulesets can never be re-registered under one name."""
    safe = re.sub(r"[^A-Za-z0-9_]", "_", label)[:40] or "ruleset"
    return f"zhenshen_{safe}_{uuid.uuid4().hex}"


def guarded_definition(rules: Mapping[str, dict[str, Any] | None]) -> dict[str, Any]:
    """The ruleset JSON: every rule guarded by ``$ex case_id``, plus the sentinel rule.

    ``rules`` maps a rule name to its single-pattern condition (``None`` = always true for any
    case fact). Names are validated because activations are decoded by slicing, not parsing.
    """
    definition: dict[str, Any] = {}
    for name, condition in rules.items():
        if not _RULE_NAME.match(name) or name == SENTINEL_RULE:
            raise EngineError(f"invalid durable rule name {name!r}")
        pattern = GUARD if condition is None else {"$and": [GUARD, condition]}
        definition[name] = {"all": [{"m": pattern}]}
    definition[SENTINEL_RULE] = {"all": [{"m": GUARD}]}
    return definition


def _rule_of(message: str) -> str:
    # An activation is '{"<rule>":{"m":{...}}}'; names are plain identifiers (checked above).
    end = message.index('"', 2)
    return message[2:end]


class DurableSession:
    """One durable_rules ruleset evaluated synchronously, one fact at a time.

    ``fire(fact)`` returns the names of the rules whose condition matched ``fact`` (sentinel
    excluded, each name once even when an ``$or`` matched twice). Not thread-safe: the C
    extension holds the GIL anyway, so parallelism comes from processes (one engine each).
    """

    def __init__(
        self,
        rules: Mapping[str, dict[str, Any] | None],
        *,
        label: str = "rules",
        strategy: Strategy = "worker",
    ) -> None:
        if strategy not in ("worker", "fresh"):
            raise ValueError(f"unknown session strategy {strategy!r}")
        self.name = new_ruleset_name(label)
        self.strategy: Strategy = strategy
        self.rule_names = tuple(rules)
        definition = guarded_definition(rules)
        try:
            text = json.dumps(definition, ensure_ascii=False, allow_nan=False)
            self._handle: int | None = _dre.create_ruleset(self.name, text)
        except (ValueError, TypeError) as exc:
            raise EngineError(f"cannot encode ruleset: {exc}", ruleset=self.name) from exc
        except (_dre.error, MemoryError) as exc:
            raise engine_error(exc, "create_ruleset", self.name) from exc
        # One encoder per session: json.dumps with options builds a new encoder on every call.
        self._dumps = json.JSONEncoder(
            ensure_ascii=False, allow_nan=False, separators=(",", ":")
        ).encode
        self._serial = 0
        self._worker_live = False  # the worker sid exists in the engine
        self._sid_generation = 0
        self._abandoned = 0

    # -- evaluation ---------------------------------------------------------------------------

    def fire(self, fact: Mapping[str, Any]) -> frozenset[str]:
        """Assert ``fact``, collect every rule it matches, and leave no state behind."""
        handle = self._live_handle()
        self._serial += 1
        sid = self._sid() if self.strategy == "worker" else f"e{self._serial}"
        body = dict(fact)  # the caller's dict stays untouched
        body["sid"] = sid
        body[CASE_KEY] = f"c{self._serial}"
        try:
            text = self._dumps(body)
        except (ValueError, TypeError) as exc:
            raise EngineError(f"cannot encode fact: {exc}", ruleset=self.name) from exc
        try:
            status, offset = _dre.assert_fact(handle, text)
        except (_dre.error, MemoryError) as exc:
            self._abandon_sid()
            raise engine_error(exc, "assert_fact", self.name) from exc
        self._worker_live = True
        if status == 1:
            # MessageNotHandled: nothing matched and nothing was stored. The sentinel makes this
            # unreachable; if it ever happens it means "no rule fired".
            return frozenset()
        if status != 0:
            self._abandon_sid()
            raise EngineError(f"durable_rules: assert_fact returned status {status}", code=status)
        try:
            fired = self._drain(handle, offset)
        except (_dre.error, MemoryError) as exc:
            self._abandon_sid()
            raise engine_error(exc, "running activations", self.name) from exc
        try:
            if self.strategy == "worker":
                _dre.retract_fact(handle, text)
            else:
                _dre.delete_state(handle, sid)
        except (_dre.error, MemoryError) as exc:
            self._abandon_sid()
            raise engine_error(exc, "cleaning up the session", self.name) from exc
        return fired

    @staticmethod
    def _drain(handle: int, offset: int) -> frozenset[str]:
        fired: set[str] = set()
        result = _dre.start_action_for_state(handle, offset)
        if result is None:
            return frozenset()
        message: str | None = result[1]
        while message is not None:
            name = _rule_of(message)
            if name != SENTINEL_RULE:
                fired.add(name)
            message = _dre.complete_and_start_action(handle, offset)
        return frozenset(fired)

    # -- sid bookkeeping ----------------------------------------------------------------------

    def _sid(self) -> str:
        return f"w{self._sid_generation}"

    def _abandon_sid(self) -> None:
        """Stop using a sid that may hold pending activations (deleting it could abort)."""
        if self.strategy == "worker":
            self._sid_generation += 1
            self._worker_live = False
        self._abandoned += 1
        if self._abandoned > MAX_ABANDONED_SIDS:
            self.close(force_leak=True)

    def _live_handle(self) -> int:
        if self._handle is None:
            raise EngineError(
                "this durable ruleset is closed (or was retired after repeated engine errors); "
                "build a new engine",
                ruleset=self.name,
            )
        return self._handle

    def close(self, *, force_leak: bool = False) -> None:
        """Release the worker sid and the ruleset.

        A ruleset whose sids may hold pending activations is only forgotten, never freed:
        freeing it could crash the process; leaking it cannot.
        """
        handle, self._handle = self._handle, None
        if handle is None or force_leak or self._abandoned:
            return
        try:
            if self.strategy == "worker" and self._worker_live:
                _dre.delete_state(handle, self._sid())
            _dre.delete_ruleset(handle)
        except (_dre.error, MemoryError) as exc:
            raise engine_error(exc, "close", self.name) from exc

    def __enter__(self) -> DurableSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = [
    "CASE_KEY",
    "ERROR_MEANINGS",
    "GUARD",
    "RESERVED_KEYS",
    "SENTINEL_RULE",
    "DurableSession",
    "EngineError",
    "engine_error",
    "guarded_definition",
    "new_ruleset_name",
]
