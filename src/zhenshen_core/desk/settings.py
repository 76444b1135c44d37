"""A desk's settings, and where the name it signs with comes from.

The issuing organisation and the 文号 prefix belong to the district, not to the library: a
pack's plugin declares them beside the pack (``RulePackSource.desk``, a ``DeskDefaults``), a
desk takes them from there when its settings leave them open, and otherwise writes the
article's generic office name (``GENERIC``) — set them for a real desk.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from zhenshen_core.intake.window import ReceivedWindow
from zhenshen_core.plugins.records import DeskDefaults
from zhenshen_core.privacy._mask import DEFAULT_MASK_POLICY
from zhenshen_core.privacy._policy import MaskPolicy

DEFAULT_OPINION_PERIOD = "2 working days"
"""The article: the review opinion letter is issued within 2 working days after the meeting."""

GENERIC = DeskDefaults(org="营商环境领导小组办公室", letter_prefix="甄审")
"""What a desk signs with when neither its settings nor its pack's plugin say: the office the
article names, and a plain 发文机关代字."""


@dataclass(frozen=True)
class DeskSettings:
    """District choices that are not rules: who signs, how letters are numbered, when clocks start.

    ``clock_starts`` maps a clock name from the pack's ``deadlines`` to the lifecycle event that
    starts it; clocks not listed start when the case is received. ``clock_stops`` names the
    events that stop a clock (the act it measures was done); every clock stops when the case is
    closed, withdrawn, merged or rejected.
    """

    org: str | None = None
    """The issuing body on letters; None: the pack's plugin's ``DeskDefaults``, else GENERIC."""
    letter_prefix: str | None = None
    """The 发文机关代字 of letter numbers (``武营审〔2026〕1号``); None as for ``org``."""
    thresholds: tuple[float, ...] = (0.5, 0.75)
    clock_starts: Mapping[str, str] = field(default_factory=lambda: {"opinion": "hold_meeting"})
    clock_stops: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: {
            "contact": ("accept", "route", "reject"),
            "meeting": ("hold_meeting",),
            "opinion": ("issue_opinion",),
            "resolve": ("finish_execution", "complete"),
        }
    )
    node: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
    """This process's name when a store lets sweeping nodes claim clocks (PostgreSQL)."""
    joint_review_tag: str = "联合甄审"
    """A decision carrying this tag goes to joint review; others go to ordinary handling."""
    received_window: ReceivedWindow = field(default_factory=ReceivedWindow)
    """The ``received_at`` instants the desk accepts (by default 2004-01-01 up to a day
    after now): a case received outside it is refused (a dead letter in bulk intake)."""

    mask_policy: MaskPolicy = field(default_factory=lambda: DEFAULT_MASK_POLICY)
    """How personal data is masked in what the desk writes for others to read (letters,
    notifications); the CLI takes it from ``[privacy]`` in zhenshen.toml."""

    def completed(self, defaults: DeskDefaults | None) -> DeskSettings:
        """These settings with ``org`` and ``letter_prefix`` filled in where they are left
        open: from ``defaults`` (what the pack's plugin declares), else from ``GENERIC``."""
        chosen = defaults or GENERIC
        return replace(
            self,
            org=self.org or chosen.org,
            letter_prefix=self.letter_prefix or chosen.letter_prefix,
        )
