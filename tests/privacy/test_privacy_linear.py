"""The detector stays linear on hostile input: no pattern can backtrack without bound."""

from __future__ import annotations

import re
import signal
import time
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

import pytest

from zhenshen_core.privacy import detect_personal_data, mask_text
from zhenshen_core.privacy._patterns import COMBINED, LANDLINE_FULL, PREFILTER

N = 200_000
HOSTILE: dict[str, Callable[[int], str]] = {
    "one digit run": lambda n: "1" * n,
    "full-width digit run": lambda n: "１" * n,
    "digits and single spaces": lambda n: "1 " * (n // 2),
    "digits and dashes": lambda n: "1-" * (n // 2),
    "a word with no at sign": lambda n: "a" * n,
    "dots and an at sign at the end": lambda n: "a." * (n // 2) + "@",
    "an at sign and endless labels": lambda n: "x@" + "a." * (n // 2),
    "an at sign and one endless label": lambda n: "x@" + "b" * n,
    "at signs": lambda n: "a@" * (n // 2),
    "country codes": lambda n: "+86" * (n // 3),
    "area codes in brackets": lambda n: "(028)" * (n // 5),
    "groups of four": lambda n: "6222 " * (n // 5),
    "ID-like runs glued together": lambda n: ("1" * 17 + "X") * (n // 18),
    "extensions": lambda n: "010-12345678-" * (n // 13),
    "almost mobiles in Han text": lambda n: "电话1381234567" * (n // 13),
    "a name repeated": lambda n: "王芳" * (n // 2),
    "names and numbers": lambda n: "王芳13812345678，" * (n // 15),
    "overlapping names": lambda n: "欧阳娜" * (n // 3),
}
NAMES = ("王芳", "欧阳娜", "娜欧阳", "阳娜欧")


@pytest.fixture
def deadline() -> Iterator[None]:
    """A regression to quadratic work fails after 20 s instead of stalling the suite for
    hours (``re`` checks for signals while it matches)."""

    def expire(signum: int, frame: FrameType | None) -> None:
        raise TimeoutError("still running after 20 s: not linear")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(20)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize("make", HOSTILE.values(), ids=HOSTILE.keys())
@pytest.mark.usefixtures("deadline")
def test_hostile_input_finishes_fast(make: Callable[[int], str]) -> None:
    text = make(N)
    start = time.perf_counter()
    detect_personal_data(text, names=NAMES)
    mask_text(text, names=NAMES)
    # Linear work takes about 0.1 s here; quadratic work on 200,000 characters takes hours.
    assert time.perf_counter() - start < 5.0


def _unbounded_repeats(parsed: Any) -> list[str]:
    """The repeats of a parsed pattern with no upper bound that are not possessive."""
    found = []
    for op, av in parsed:
        name = str(op)
        if name in ("MAX_REPEAT", "MIN_REPEAT"):
            low, high, sub = av
            if high == re._constants.MAXREPEAT:  # type: ignore[attr-defined]
                found.append(f"{name} {{{low},}}")
            found += _unbounded_repeats(sub)
        elif name == "POSSESSIVE_REPEAT":
            found += _unbounded_repeats(av[2])
        elif name == "SUBPATTERN":
            found += _unbounded_repeats(av[-1])
        elif name in ("ASSERT", "ASSERT_NOT"):
            found += _unbounded_repeats(av[1])
        elif name == "BRANCH":
            for branch in av[1]:
                found += _unbounded_repeats(branch)
        elif name == "GROUPREF_EXISTS":
            found += _unbounded_repeats(av[1])
            if av[2] is not None:
                found += _unbounded_repeats(av[2])
    return found


@pytest.mark.parametrize(
    "pattern", [COMBINED, PREFILTER, LANDLINE_FULL], ids=["combined", "prefilter", "landline"]
)
def test_every_repeat_is_bounded_or_possessive(pattern: re.Pattern[str]) -> None:
    parsed = re._parser.parse(pattern.pattern)  # type: ignore[attr-defined]
    assert _unbounded_repeats(parsed) == []
    assert "{7,}+" in pattern.pattern or pattern is not COMBINED  # the one possessive run
