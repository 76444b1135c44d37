"""The joint review desk: one object that wires intake → rules → store → clocks → notifications.

Each method is one step of the process in the source article (screen, convene the joint review
meeting, issue the opinion letter within 2 working days, confirm at the leading-group meeting,
supervise execution, close the loop with the enterprise's feedback). A step validates its guard
through the lifecycle table, writes all of its events in one optimistic save (so a step is stored
whole or not at all), starts or stops the clocks it owns, and then notifies plugins; a failing
notifier is reported in ``Desk.failures`` and never rolls the case back.

The desk owns its plugin host, engine and calendar: two desks with different packs can live in
one process. The class is built in layers, one concern each: :mod:`~zhenshen_core.desk.core`
(state, one-write commits, notifications), :mod:`~zhenshen_core.desk.steps` (the article's
steps), and this module (receiving and deciding cases, cross-case rules, bulk intake,
supervision and documents), which hands the sweep, the recomputation of provisional clocks
and the decision events to their own modules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zhenshen_core.desk import recompute as _recompute
from zhenshen_core.desk import sweep as _sweep
from zhenshen_core.desk.bulk import DeskIntake
from zhenshen_core.desk.core import Announcement, transitioned
from zhenshen_core.desk.decisions import (
    NOT_INPUTS,
    Prepared,
    decision_events,
    decision_json,
    same_outcome,
)
from zhenshen_core.desk.results import RecomputeResult, Redecision, SweepResult
from zhenshen_core.desk.settings import GENERIC
from zhenshen_core.desk.steps import ArticleSteps
from zhenshen_core.errors import CaseValidationError, GuardError
from zhenshen_core.intake import IntakeSummary, count_source, ingest_source
from zhenshen_core.intake.window import ReceivedWindow
from zhenshen_core.model.case import SHANGHAI, Case
from zhenshen_core.model.enums import CaseStatus
from zhenshen_core.model.events import CaseEvent
from zhenshen_core.model.lifecycle import TERMINAL, dump_case, load_case
from zhenshen_core.progress import SILENT, Advance, ProgressReporter
from zhenshen_core.storage.backend import received_case
from zhenshen_core.storage.outbox import OutboxNotice
from zhenshen_core.storage.protocol import Record, finds_received

if TYPE_CHECKING:
    from zhenshen_core.desk.monitor import CrossCaseHit, Trigger
    from zhenshen_core.plugins.records import IntakeRecord


class Desk(ArticleSteps):
    """The facade developers embed. All times are aware datetimes (Asia/Shanghai by default).

    ``Desk(store, pack=load_pack(...), host=..., calendar=..., settings=...)``: without a pack
    the desk stores and moves cases but decides none; ``engine`` is ``"compiled"`` or
    ``"durable"``; the calendar defaults to the national one with the provisional policy.
    """

    # --- intake and decision ----------------------------------------------------------------

    def receive(
        self,
        data: Mapping[str, Any] | Case,
        *,
        actor: str = "intake",
        on_stored: Callable[[Case], None] | None = None,
    ) -> Case:
        """Validate, decide and store one case in one write; a repeat delivery returns it.

        With a pack, the case is enriched and decided (clocks started) before anything is
        stored, and the receive, facts, decide and clock events go to the store in one
        ``ingest``: a failure to decide (a strict calendar that does not reach a deadline, a
        failing enricher) raises and leaves the store as it was, so delivering the same work
        order again tries again. A case that an earlier version stored undecided is decided
        when it is delivered again. A ``received_at`` outside ``settings.received_window``
        raises :class:`~zhenshen_core.errors.CaseValidationError`.

        ``on_stored`` is shown the stored case of a repeat delivery before anything is done
        with it, and may raise to refuse it (the HTTP service refuses a work order another desk
        received) — the look-up a caller would otherwise make itself, a second read of the
        store for every new case.

        A repeat is found by the write itself: the store's ``ingest`` stores nothing for a work
        order it holds and answers the stored case's id. Deciding a repeat in memory for
        nothing costs less than a look-up before every new case (a round trip to a database
        server). Two things are looked up first instead: a desk with an enricher (it may ask
        other systems, which a repeat should not), and a case whose deciding failed (a repeat
        returns the stored case, as it would have before deciding).
        """
        draft = (
            data
            if isinstance(data, Case)
            else load_case(self.host.normalise_intake(str(data.get("channel", "api")), data))
        )
        outside = self._received_window().problem(draft.received_at)
        if outside is not None:
            # Located as a model error is, so a caller (the HTTP service) names the field.
            located: dict[str, object] = {
                "loc": ("received_at",), "msg": outside, "type": "received_window"
            }
            raise CaseValidationError(f"invalid case: received_at: {outside}", [located])
        case, event = self.lifecycle.receive(draft, actor=actor)
        if self.host.enriches():
            stored = self._stored(case)
            if stored is not None:
                return self._repeat(stored, on_stored)
        try:
            prepared = self._prepare(case, event, actor=actor)
        except Exception:
            stored = self._stored(case)
            if stored is None:
                raise
            return self._repeat(stored, on_stored)
        announce = self._received(prepared, event)
        notices = self._notices(case.id, announce)
        result = (
            self.store.ingest(prepared.case, prepared.events, outbox=notices)
            if notices
            else self.store.ingest(prepared.case, prepared.events)
        )
        if not result.created:  # delivered before (or at the same time): nothing was written
            return self._repeat(self.store.get(result.case_id), on_stored)
        return self._announce(prepared, announce, notices)

    def _repeat(self, stored: Case, on_stored: Callable[[Case], None] | None) -> Case:
        """A repeat delivery: shown to ``on_stored``, then decided if it was stored undecided."""
        if on_stored is not None:
            on_stored(stored)
        return self._decide_if_undecided(stored)

    def _stored(self, case: Case) -> Case | None:
        """The stored case for the same work order (any of its external refs, or its id).

        A store that offers ``find_received`` answers in one statement (a network round trip
        per look-up is most of what it costs on PostgreSQL).
        """
        refs = [(ref.channel.value, ref.external_id) for ref in case.external_refs]
        if finds_received(self.store):
            return self.store.find_received(refs, case.id)
        return received_case(self.store, refs, case.id)

    def _decide_if_undecided(self, case: Case) -> Case:
        """A repeat delivery: decide a case that was stored without its decision, else no-op."""
        if self.engine is None or case.decision is not None or case.status in TERMINAL:
            return case
        return self._cross_case(self.decide(case.id), "receive")

    def _prepare(self, case: Case, received: CaseEvent, *, actor: str) -> Prepared:
        """Enrich and decide a new case in memory: everything its single write will store."""
        events = [received]
        facts = self.host.enrich(case)
        if facts:
            case, record = self.lifecycle.fire(
                case, "update_facts", actor=actor, at=received.at, payload={"facts": facts}
            )
            events.append(record)
        if self.engine is None:
            return Prepared(case, events, None)
        decision = decision_json(self.engine.evaluate(case))
        # The case came from lifecycle.receive or fire just above: nobody else holds it.
        case, decided, _ = decision_events(
            self.clocks, case, decision, actor="rules", at=self.now(), in_place=True
        )
        return Prepared(case, [*events, *decided], decision)

    def _received(self, prepared: Prepared, received: CaseEvent) -> list[Announcement]:
        """What a new case's write announces: its receipt (the case as received), the facts
        an enricher added, its decision."""
        case = prepared.case
        first = prepared.events[0] if prepared.events else received
        announce = [
            Announcement("case_received", first.seq, first.type, {"case": case, "event": first})
        ]
        announce += [transitioned(case, r) for r in prepared.events if r.type == "update_facts"]
        if prepared.decision is not None:
            decided = next((e.seq for e in prepared.events if e.type == "decide"), case.version)
            announce.append(
                Announcement(
                    "decision_made",
                    decided,
                    "decide",
                    {"case": case, "decision": prepared.decision},
                )
            )
        return announce

    def _announce(
        self,
        prepared: Prepared,
        announce: Sequence[Announcement] | None = None,
        notices: Sequence[OutboxNotice] = (),
    ) -> Case:
        """After a new case's write: its notifications and rule actions, then cross-case rules.
        (Bulk intake passes no notices: the batch was written without an outbox.)"""
        case = prepared.case
        if announce is None:
            announce = self._received(prepared, prepared.events[0])
        self._tell(case, announce, notices)
        if prepared.decision is not None:
            self._run_actions(case, prepared.decision)
        return self._cross_case(case, "receive")

    def _cross_case(self, case: Case, on: Trigger, day: date | None = None) -> Case:
        """Feed the case to the cross-case rules and apply what completed patterns ask for."""
        if self.crosscase is None:
            return case
        for hit in self.crosscase.observe(case, on, day):
            case = self._apply_hit(case, hit)
        return case

    def _apply_hit(self, case: Case, hit: CrossCaseHit) -> Case:
        then = hit.rule.then
        at = self.now()
        if then.facts:
            facts = {**then.facts, f"crosscase.{hit.rule.id}": len(hit.case_ids)}
            case = self._commit(
                case, [("update_facts", {"facts": facts})], actor="crosscase", at=at
            )
            if self.engine is not None:
                case = self.decide(case.id, actor="crosscase")
        if then.escalate:
            if case.status is CaseStatus.ROUTED:
                case = self._commit(
                    case,
                    [("escalate", {"reason": hit.rule.description or hit.rule.id})],
                    actor="crosscase",
                    at=at,
                )
            elif case.status is CaseStatus.RECEIVED:
                case = self.screen(case.id, actor="crosscase", at=at)
        if then.generalise:
            from zhenshen_core.desk.monitor import generalisation_record

            domains = self.pack.domains if self.pack is not None else {}
            names = {k: v.name for k, v in domains.items()}
            data = generalisation_record(hit, case, names)
            record_id = f"G-{hit.rule.id}-{hit.first_day:%Y%m%d}-{hit.case_ids[0]}"
            self.store.put_record(Record(kind="generalisation", id=record_id, data=data))
            self._notify("generalisation_proposed", case, None, detail={"id": record_id, **data})
        return case

    def ingest(
        self,
        channel: str,
        source: str,
        *,
        actor: str = "intake",
        progress: ProgressReporter = SILENT,
        options: Mapping[str, str] | None = None,
    ) -> IntakeSummary:
        """Bulk intake through a channel adapter, with :meth:`receive`'s pipeline per case.

        With a pack, each case is enriched and decided before its batch is stored, so every
        stored case is decided and its clocks run; the batch is still one write per 500
        records. A record that cannot be decided becomes a dead letter with the reason (nothing
        of it is stored), and a repeat delivery of a case stored undecided decides it.
        ``progress`` hears one phase, "ingest" (records, decided as they are read).
        ``options`` go to the channel (e.g. ``{"profile": "p.yaml"}``; see
        ``IntakeChannel.options``). A ``received_at`` outside ``settings.received_window``
        is a dead letter.
        """
        reader = self.host.intake_channel(channel).reader(options)
        return ingest_source(
            source,
            channel=channel,
            store=self.store,
            host=self.host,
            lifecycle=self.lifecycle,
            actor=actor,
            progress=progress.phase(
                "ingest",
                lambda: count_source(self.host, channel, source, reader=reader),
                unit="records",
            ),
            pipeline=DeskIntake(self, actor) if self.engine is not None else None,
            reader=reader,
            window=self._received_window(),
        )

    def ingest_records(
        self,
        channel: str,
        records: Iterable[IntakeRecord],
        *,
        source: str,
        actor: str = "intake",
        progress: Advance | None = None,
    ) -> IntakeSummary:
        """:meth:`ingest` for records already read (a queue's messages, dead letters sent
        again): the same pipeline, dead letters and received window; ``source`` names where
        they came from in the summary. ``progress`` is advanced per batch written."""
        from zhenshen_core.intake import ingest_records

        return ingest_records(
            records,
            store=self.store,
            host=self.host,
            channel=channel,
            source=source,
            lifecycle=self.lifecycle,
            actor=actor,
            progress=progress,
            pipeline=DeskIntake(self, actor) if self.engine is not None else None,
            window=self._received_window(),
        )

    def _received_window(self) -> ReceivedWindow:
        """The settings' window, "now" being the later of the desk's clock and the wall
        clock: a desk replaying a past year still receives today's work orders, and one
        simulating a later year receives that year's."""
        return self.settings.received_window.at(max(self.now(), datetime.now(SHANGHAI)))

    def decide(self, case_id: str, *, actor: str = "rules") -> Case:
        """Run the pack on the case, record the decision and start the clocks it names.

        A running clock whose period the decision changes is counted again from its start
        with the new period (``deadline_changed`` with reason ``decision``).
        """
        if self.engine is None:
            raise GuardError("-", "decide", "this desk has no rule pack")
        case = self.store.get(case_id)
        decision = decision_json(self.engine.evaluate(self._decision_inputs(case)))
        return self._record_decision(case, decision, actor)

    def redecide(self, case_id: str, *, actor: str = "rules") -> Redecision:
        """Decide a stored case again (after a pack change); an unchanged outcome records nothing.

        The outcome is the decision less its provenance (pack id, version, hash) and its trace
        (rules fired, values): a new pack version that decides the case the same way leaves the
        case and its history as they are. A changed outcome is one ``decide`` event carrying the
        new pack's id, version and hash, plus a ``clock_update`` per clock it starts or
        re-periods.
        """
        if self.engine is None:
            raise GuardError("-", "decide", "this desk has no rule pack")
        case = self.store.get(case_id)
        if case.status in TERMINAL:
            raise GuardError(
                case.status.value, "decide", "the case is finished; its decision stays as recorded"
            )
        decision = decision_json(self.engine.evaluate(self._decision_inputs(case)))
        if case.decision is None:
            return Redecision(self._record_decision(case, decision, actor), "decided")
        if same_outcome(case.decision, decision):
            return Redecision(case, "unchanged")
        return Redecision(self._record_decision(case, decision, actor), "changed")

    def _decision_inputs(self, case: Case) -> Case:
        """The case as the rules are to see it: its history replayed without earlier decisions.

        A decision writes severity, tier, departments, experts and tags onto the case. Reading
        them back would let one decision feed the next — a case routed to three departments
        would count as a work order naming three — and deciding twice would not give the same
        answer. A new decision starts from what was received and what happened since: facts,
        returns, departments set by hand, the status.
        """
        if case.decision is None:
            return case
        events = [e for e in self.store.events(case.id) if e.type not in NOT_INPUTS]
        return self.lifecycle.replay(events)

    def _record_decision(self, case: Case, decision: dict[str, Any], actor: str) -> Case:
        at = self.now()
        current, events, moved = decision_events(self.clocks, case, decision, actor=actor, at=at)
        decided = next(e.seq for e in events if e.type == "decide")
        announce = [
            *self._moved(current, moved, "decision"),
            Announcement(
                "decision_made", decided, "decide", {"case": current, "decision": decision}
            ),
        ]
        self._save(current, events, expected_version=case.version, announce=announce)
        self._run_actions(current, decision)
        return current

    def return_case(
        self,
        case_id: str,
        from_department: str,
        *,
        to_department: str | None = None,
        reason: str = "",
        at: datetime | None = None,
        actor: str = "department",
    ) -> Case:
        """退单: record it and re-run the rules (two returns escalate in the reference pack)."""
        case = self.store.get(case_id)
        when = at or self.now()
        record = {
            "at": when.isoformat(),
            "from_department": from_department,
            "to_department": to_department,
            "reason": reason,
        }
        case = self._commit(case, [("return_case", {"record": record})], actor=actor, at=when)
        case = self.decide(case.id) if self.engine is not None else case
        return self._cross_case(case, "return", when.astimezone(SHANGHAI).date())

    # --- requests from outside ----------------------------------------------------------------

    def transition(
        self,
        case_id: str,
        event: str,
        payload: Mapping[str, Any] | None = None,
        *,
        actor: str,
        expected_version: int | None = None,
        at: datetime | None = None,
    ) -> Case:
        """A person's request to move a case: what the CLI and any API call, and all they call.

        Only events a person may request are taken (:data:`~zhenshen_core.PERSON_EVENTS`:
        accept, reject, return_case, record_feedback, withdraw …); an event only the desk
        records (``decide``, ``clock_update``, ``supervise``, ``update_facts``) raises
        :class:`~zhenshen_core.errors.DeskOnlyEventError` naming the allowed ones, before
        anything is read. ``actor`` is who the caller authenticated; an ``actor`` in the
        payload is ignored. ``expected_version``, when given, must be the stored version
        (else :class:`~zhenshen_core.errors.ConcurrencyError`, nothing written). The event
        goes through the desk's steps: clocks stop, start, pause or resume as the settings
        say, a task's clock starts with it (``assign_task`` takes ``department``,
        ``description`` and ``period``) and stops with ``complete_task``, notices go through
        the outbox, and a ``return_case`` re-runs the rules.
        """
        from zhenshen_core.desk.transition import transition

        return transition(
            self,
            case_id,
            event,
            payload,
            actor=actor,
            expected_version=expected_version,
            at=at,
        )

    # --- supervision ------------------------------------------------------------------------

    def sweep(
        self, now: datetime | None = None, *, limit: int = 1000, actor: str = "supervisor"
    ) -> SweepResult:
        """Find clocks due for an alert (one indexed query) and record reminders and notices.

        A threshold crossed becomes a 催办 reminder, a breach a 督办 notice; each clock raises
        one alert per sweep, for the highest it crossed (lower thresholds crossed meanwhile are
        marked done without one), and each alert is recorded on the clock so it is raised once.
        A case changed concurrently is reloaded and tried again (the alert is computed from
        the stored clock, so a clock another node has just handled raises nothing); one that
        keeps changing is skipped and listed in ``conflicts``, and the next sweep picks it up.

        First, when the desk's calendar is not the one the provisional clocks were last
        recomputed on (newer notice data was installed), it recomputes them
        (:meth:`recompute_provisional_clocks`); otherwise that check is one record read.
        Then it delivers the outbox notices left pending (a crash, a failing notifier).

        Each due clock is handled on its own: an error on one (other than the store being
        unreachable) is recorded as a sweep incident (``result.incidents``), the clock is
        held back until its retry time (1 minute, doubling up to 6 hours) and the other
        clocks are swept; a clock that later sweeps without error resolves its incident
        (``result.resolved``). Each alert's notices are written with it to the outbox and
        delivered in batches (``result.notices_delivered``, ``notices_failed``).
        """
        return _sweep.sweep(self, now or self.now(), limit=limit, actor=actor)

    def recompute_provisional_clocks(self, *, actor: str = "calendar") -> RecomputeResult:
        """Recompute every provisional clock of an active case on this desk's calendar.

        Run it when newer calendar data is installed (a release with next year's notice, a
        calendar plugin, a layer file): each clock whose due instant moves gets a
        ``clock_update`` event and a ``deadline_changed`` notification (reason ``calendar``),
        as for an extension; a clock the data now covers loses its ``provisional`` flag. A
        second run changes nothing. A case changed meanwhile is listed in ``conflicts`` (run
        again); a clock the calendar cannot reach (a strict calendar) in ``failures``.
        """
        return _recompute.recompute_provisional_clocks(self, actor=actor)

    # --- documents ----------------------------------------------------------------------------

    def letter_context(self, case: Case, renderer: str | None = None) -> dict[str, Any]:
        """The documented template context of the case's opinion letter (see
        :mod:`zhenshen_core.desk.letters.context`), with this desk's heading and pack names."""
        from zhenshen_core.desk.letters import letter_context

        opinion = case.opinion
        return letter_context(
            case,
            case.decision,
            letter_no=(opinion.letter_no if opinion and opinion.letter_no else ""),
            issued_at=opinion.issued_at if opinion else self.now(),
            org=self.settings.org or GENERIC.org,
            pack=self.pack,
            template=self.pack_template(renderer) if renderer else None,
            calendar=self.calendar,
        )

    def pack_template(self, renderer: str) -> str | None:
        """A letter template the pack ships: ``templates/opinion_letter.<ext>.j2`` in its folder.

        Templates are pack data, rendered in Jinja2's sandbox; a pack without one uses the
        built-in template of the renderer. A template whose real path is outside the pack
        folder (a symbolic link to ``/etc/passwd``, a linked ``templates`` folder) is refused
        with a :class:`~zhenshen_core.desk.letters.LetterError`, never read.
        """
        from zhenshen_core.desk.letters import LetterError
        from zhenshen_core.rules.pack.confine import PackRoots

        folder = self.pack.path if self.pack is not None else ""
        ext = {"markdown": "md"}.get(renderer, renderer)
        candidate = Path(folder) / "templates" / f"opinion_letter.{ext}.j2"
        if not folder or not candidate.is_file():
            return None
        roots = PackRoots(Path(folder))
        if not roots.admits(candidate):
            raise LetterError(f"letter template {roots.refusal(candidate, str(candidate))}")
        return str(candidate)

    def render_letter(
        self, case_id: str, renderer: str = "markdown", *, show_personal_data: bool = False
    ) -> bytes:
        """The 甄别审查意见书 of a case, through a renderer plugin (markdown, html, docx …).

        The letter is checked first (its date, display names, measures, expert advice); a
        :class:`~zhenshen_core.desk.letters.LetterCheckError` lists every problem. A letter
        goes to the enterprise and the departments, so it is written from the case with its
        personal data masked under ``settings.mask_policy`` (a confidential requester is
        保密) unless ``show_personal_data`` — which the caller records in the access log.
        """
        case = self.store.get(case_id)
        if case.opinion is None:
            raise GuardError(case.status.value, "render_letter", "no opinion has been issued")
        if not show_personal_data:
            from zhenshen_core.privacy import masked_case

            case = masked_case(case, self.settings.mask_policy)
        return self.host.renderer(renderer).render(self.letter_context(case, renderer))

    def history(self, case_id: str) -> list[CaseEvent]:
        """Every event of the case, in order: the case is their fold."""
        return self.store.events(case_id)

    def snapshot(self, case_id: str) -> dict[str, Any]:
        """The stored case as JSON data (``dump_case``), for an API response or an export."""
        return dump_case(self.store.get(case_id))
