"""The forms of the query values the service reads itself, as regular expressions.

A route declares each form in the OpenAPI document (``pattern``) and checks the value with
the same expression, so the document says exactly which values are accepted: a client
generated from it (or schemathesis) never sends a value the document allows and the service
refuses for its form. The expressions use ``[0-9]`` and literals only, so they mean the same
in Python and in JSON Schema (ECMA-262), and every value one matches is one Python reads:
a day that exists (no 02-30; 02-29 in leap years only), in the years a calendar can count.
"""

from __future__ import annotations

import re
from typing import Any

from zhenshen_core.deadlines import period_pattern

#: The years of a start or since: from the first day the widest calendar (``weekdays``)
#: counts, 1970, to its last, 2199 (``tests`` check this against the calendars).
YEARS = (1970, 2199)

_YEAR = "(?:19[7-9][0-9]|2[01][0-9][0-9])"
# The leap years among them: divisible by 4, 2000 (by 400), not 2100 (by 100).
_LEAP = "(?:19(?:7[26]|8[048]|9[26])|2[01](?:0[48]|[2468][048]|[13579][26])|2000)"
_MONTH_DAY = (
    "(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])"
    "|(?:0[13-9]|1[0-2])-(?:29|30)"
    "|(?:0[13578]|1[02])-31)"
)
_DAY = f"(?:{_YEAR}-{_MONTH_DAY}|{_LEAP}-02-29)"
_TIME = (
    "(?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\\.[0-9]{1,6})?)?"
    "(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])?"
)

#: ``2026-02-13``, ``2026-02-13T09:30``, ``2026-02-13 09:30:00+08:00``: a day, or a time of
#: day on it (Asia/Shanghai unless it gives ``Z`` or an offset).
INSTANT = f"^{_DAY}(?:[T ]{_TIME})?$"

#: A period ``zhenshen deadline`` reads: ``2 working days``, ``15d``, ``3个月``, not 0.
PERIOD = period_pattern()

#: A page cursor: the position in the desk's list the next page starts at (what
#: ``next_cursor`` says); any such position is a page, the empty one past the end.
CURSOR = "^(?:0|[1-9][0-9]{0,14})$"


def matches(pattern: str, text: str) -> bool:
    return re.fullmatch(pattern, text) is not None


def declared(pattern: str, **schema: Any) -> dict[str, Any]:
    """``json_schema_extra`` for a query parameter the route checks itself: its pattern (and
    ``examples``) in the document, without FastAPI's own message for a mismatch."""
    return {"pattern": pattern, **schema}
