"""``matches``: regexes written as in Python, run by RE2 in time linear in the text.

A backtracking engine such as Python's ``re`` can take exponential time on a short pattern:
``(a|a)*c`` needs seconds for 24 letters, and ``\\w*\\w*\\w*x`` hours for a 20,000-character
complaint. No static check finds every such pattern, and rule packs are written by district
staff, not vetted code. RE2 (``google-re2``) has no backtracking: every pattern runs in time
linear in the text, which is the bound the rule language promises.

Patterns keep Python's syntax and meaning, which is what the rule-language reference documents
and what people copy from examples. Before RE2 sees a pattern it is translated where the two
differ: ``\\d``, ``\\w`` and ``\\s`` mean Unicode digits, word characters and spaces (RE2's are
ASCII, so ``\\w`` would not match 汉字 and ``\\d`` not ``２``), ``$`` also matches before a
final newline, ``\\Z``, ``\\uXXXX``, ``\\N{name}`` and ``{,n}`` are spelled RE2's way. What RE2
cannot do at all (backreferences, lookaround, ``\\b``) is an error at load time, never a
different answer. A property test checks the translation against ``re.search``.
"""

from __future__ import annotations

import re
import unicodedata
import warnings
from collections.abc import Callable
from typing import Any

from zhenshen_core.rules.lang.ast import MAX_MATCH_INPUT, MAX_PATTERN_LENGTH

_WORD = r"\p{L}\p{N}_"
#: What ``str.isspace`` (Python's ``\s``) accepts.
_SPACE = (
    r"\t\n\x0B\f\r\x1C-\x1F \x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}"
    r"\x{205F}\x{3000}"
)
#: Python escapes outside a class → RE2.
_OUTSIDE = {
    "d": r"\p{Nd}",
    "D": r"\P{Nd}",
    "w": f"[{_WORD}]",
    "W": f"[^{_WORD}]",
    "s": f"[{_SPACE}]",
    "S": f"[^{_SPACE}]",
    "Z": r"\z",
}
#: Python escapes inside ``[...]`` → RE2 (those with no equivalent there are refused).
_INSIDE = {"d": r"\p{Nd}", "D": r"\P{Nd}", "w": _WORD, "s": _SPACE, "b": r"\x08"}
_WORD_BOUNDARY = (
    r"\b and \B (word boundaries) are not supported: Chinese text has no spaces between words; "
    "match the words themselves"
)
_FLAGS = re.compile(r"\(\?([a-zA-Z-]+)([:)])")


class RegexError(ValueError):
    """A pattern the rule language does not accept; the message says why."""


def translate(pattern: str) -> str:
    """``pattern`` (Python syntax, already valid for ``re``) as an RE2 pattern with the same
    ``re.search`` meaning; ``RegexError`` for what RE2 cannot express."""
    multiline = any("m" in flags.split("-")[0] for flags, _ in _FLAGS.findall(pattern))
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "\\":
            text, i = _escape(pattern, i, _OUTSIDE)
            out.append(text)
            continue
        if ch == "[":
            text, i = _char_class(pattern, i)
            out.append(text)
            continue
        if ch == "(" and pattern.startswith("(?", i):
            text, i = _group_start(pattern, i)
            out.append(text)
            continue
        if ch == "$" and not multiline:
            out.append(r"(?:\n?\z)")  # Python's $ also matches just before a final newline
        elif ch == "{" and pattern.startswith("{,", i) and re.match(r"\{,\d+\}", pattern[i:]):
            out.append("{0,")
            i += 2
            continue
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def _escape(pattern: str, i: int, table: dict[str, str]) -> tuple[str, int]:
    """The RE2 form of the escape at ``pattern[i]`` (a backslash) and the index after it."""
    letter = pattern[i + 1] if i + 1 < len(pattern) else ""
    if letter in table:
        return table[letter], i + 2
    if letter in ("b", "B") and table is _OUTSIDE:
        raise RegexError(_WORD_BOUNDARY)
    if letter == "u":
        return r"\x{" + pattern[i + 2 : i + 6] + "}", i + 6
    if letter == "U":
        return r"\x{" + pattern[i + 2 : i + 10] + "}", i + 10
    if letter == "N":  # \N{NAME}
        end = pattern.index("}", i)
        char = unicodedata.lookup(pattern[i + 3 : end])
        return rf"\x{{{ord(char):X}}}", end + 1
    if letter.isdigit():
        raise RegexError("backreferences and octal escapes are not allowed in regexes")
    return pattern[i : i + 2], i + 2


def _char_class(pattern: str, i: int) -> tuple[str, int]:
    """The RE2 form of the ``[...]`` starting at ``pattern[i]`` and the index after it."""
    out = ["["]
    j = i + 1
    if pattern.startswith("^", j):
        out.append("^")
        j += 1
    first = True
    while j < len(pattern):
        ch = pattern[j]
        if ch == "]" and not first:
            out.append("]")
            return "".join(out), j + 1
        if ch == "\\":
            letter = pattern[j + 1]
            if letter in "SW":
                raise RegexError(
                    f"\\{letter} inside [...] is not supported; write the class negated, [^...]"
                )
            text, j = _escape(pattern, j, _INSIDE)
            out.append(text)
        elif ch == "[" and pattern.startswith("[:", j):
            raise RegexError("POSIX classes like [[:alpha:]] are not supported; use \\w or \\d")
        elif ch == "]":  # a literal ] first in the class
            out.append(r"\]")
            j += 1
        else:
            out.append(ch)
            j += 1
        first = False
    raise RegexError("unterminated character class")  # pragma: no cover - re.compile caught it


def _group_start(pattern: str, i: int) -> tuple[str, int]:
    """``(?`` constructs: flags and non-capturing groups pass (Python-only flags are refused),
    lookaround and comments are refused; named groups pass."""
    rest = pattern[i + 2 :]
    if rest.startswith(("=", "!", "<=", "<!")):
        raise RegexError("lookahead and lookbehind ((?=...), (?!...), (?<=...)) are not supported")
    if rest.startswith("#"):
        raise RegexError("comments (?#...) are not supported in regexes")
    if rest.startswith("P=") or rest.startswith("("):
        raise RegexError("backreferences and conditional groups are not allowed in regexes")
    flags = _FLAGS.match(pattern, i)
    if flags is None:  # (?: or (?P<name>
        return "(?", i + 2
    letters, end = flags.group(1), flags.group(2)
    bad = sorted(set(letters) - set("imsu-"))
    if bad:
        raise RegexError(f"regex flag(s) {''.join(bad)!r} are not supported; use i, m or s")
    kept = letters.replace("u", "")  # Unicode matching is the default (and RE2's u differs)
    if kept in ("", "-"):
        return ("(?:" if end == ":" else ""), flags.end()
    return f"(?{kept}{end}", flags.end()


def pattern_problem(pattern: str) -> str | None:
    """Why the rule language refuses ``pattern``, or None when ``matches`` can use it."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        return f"regex is {len(pattern)} characters; the limit is {MAX_PATTERN_LENGTH}"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # e.g. a FutureWarning for "[[" (a nested set)
            re.compile(pattern)
    except (re.error, FutureWarning, DeprecationWarning) as exc:
        return f"invalid regex: {exc}"
    try:
        _compile(pattern)
    except RegexError as exc:
        return str(exc)
    return None


def _compile(pattern: str) -> Any:
    import re2  # on first use: most packs have no ``matches`` (start-up, see architecture.md)

    options = re2.Options()
    options.log_errors = False  # RE2 would print its own copy of the error on stderr
    try:
        return re2.compile(translate(pattern), options)
    except re2.error as exc:
        detail = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else exc
        raise RegexError(f"regex not supported: {detail}") from None


def searcher(pattern: str) -> Callable[[str], bool]:
    """``re.search(pattern, text) is not None`` over the first ``MAX_MATCH_INPUT`` characters,
    in time linear in the text; ``pattern`` must have passed ``pattern_problem``."""
    search = _compile(pattern).search

    def matches(text: str) -> bool:
        return search(text[:MAX_MATCH_INPUT]) is not None

    return matches


__all__ = ["RegexError", "pattern_problem", "searcher", "translate"]
