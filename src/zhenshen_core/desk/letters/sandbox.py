"""The letter sandbox: Jinja2's sandbox with a budget on every loop, call and string it builds.

Jinja's :class:`~jinja2.sandbox.SandboxedEnvironment` keeps a template away from Python's
internals, not from the machine's time and memory: ``{{ lipsum(100000, false, 1, 100000) }}``
ran past 60 s and 518 MB, and doubling a string forty times through a ``namespace`` reached
3.2 GB. A letter template is pack data, possibly from another district, so a rendering here is
bounded, in the process, by:

* **steps** — every loop iteration, every call (filters, macros, methods, ``range``) and every
  item of a value measured below spends one step of ``MAX_STEPS`` for the whole rendering, and
  each step checks the clock against ``MAX_RENDER_SECONDS``: no loop, however nested, and no
  recursion of macros runs on;
* **sizes** — no operation may build a string, list or printed value larger than
  ``MAX_VALUE_CHARS`` (the longest letter): ``~``, ``+``, ``*``, ``%`` and ``str.format`` are
  checked *before* they run where their size is known from their operands (a width of
  ``10**9`` never allocates), and every call's and filter's result is measured after; a value
  is measured as it would print, so a list holding the same long string a million times counts
  a million times;
* **numbers** — ``*``, ``+``, ``-`` and ``**`` may not build integers past ``MAX_NUMBER_BITS``
  (Python refuses to print integers past 4,300 digits anyway);
* ``range`` draws on one ``MAX_RANGE_ITEMS`` budget, ``lipsum`` is gone, ``str.translate`` and
  a few other amplifying methods are not callable, and the letter itself is at most
  ``MAX_LETTER_CHARS`` long.

Going past a bound raises :class:`~jinja2.exceptions.SecurityError` at once, which the renderer
reports as a :class:`LetterError` naming the template and its line. Why not a subprocess with
``RLIMIT_AS`` and a CPU limit: a fork per letter costs more than the letter (see
``docs/performance.md``), cannot be used in a threaded web server safely, and is not there on
every platform; the budget is checked where values are built, so it holds the same everywhere.
"""

from __future__ import annotations

import math
import re
import string
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, MappingView
from functools import wraps
from typing import Any, cast

from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.environment import TemplateModule
from jinja2.exceptions import SecurityError
from jinja2.runtime import markup_join, str_join
from jinja2.sandbox import SandboxedEnvironment
from jinja2.utils import Namespace, pass_eval_context
from jinja2.visitor import NodeTransformer

#: The longest letter a template may produce (characters); real letters are a few thousand.
MAX_LETTER_CHARS = 200_000
#: The longest string, list or printed value any operation of a template may build.
MAX_VALUE_CHARS = MAX_LETTER_CHARS
#: Items that every ``range(...)`` of one rendering may produce together.
MAX_RANGE_ITEMS = 100_000
#: The largest string, list or number ``*`` and ``**`` may build in a template.
MAX_PRODUCT = 100_000
#: Loop iterations, calls and measured items of one rendering together.
MAX_STEPS = 1_000_000
#: Wall-clock seconds one rendering may take (a letter takes a few milliseconds).
MAX_RENDER_SECONDS = 2.0
#: The largest integer ``*``, ``+``, ``-`` may build (bits: about 30 decimal digits).
MAX_NUMBER_BITS = 100

#: ``str`` (and ``Markup``) methods that return at most about their input's size.
_PLAIN_STR_METHODS = frozenset(
    {
        "capitalize", "casefold", "count", "endswith", "find", "index", "isalnum",
        "isalpha", "isascii", "isdecimal", "isdigit", "isidentifier", "islower",
        "isnumeric", "isprintable", "isspace", "istitle", "isupper", "lower", "lstrip",
        "partition", "removeprefix", "removesuffix", "rfind", "rindex", "rpartition",
        "rsplit", "rstrip", "split", "splitlines", "startswith", "strip", "swapcase",
        "title", "upper", "striptags", "unescape", "escape",
    }
)
#: ``str`` methods whose result size is checked from their arguments before they run.
_SIZED_STR_METHODS = frozenset(
    ["center", "ljust", "rjust", "zfill", "expandtabs", "replace", "join", "format", "format_map"]
)
#: What ``size`` measures item by item (anything else prints short).
_MEASURED = (list, tuple, set, frozenset, dict, Namespace, MappingView, TemplateModule)
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?")
_DIGITS = re.compile(r"\d+")


class Budget:
    """The steps and the deadline of one rendering."""

    def __init__(
        self,
        steps: int | None = None,
        seconds: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.steps = MAX_STEPS if steps is None else steps
        self.seconds = MAX_RENDER_SECONDS if seconds is None else seconds
        self.clock = clock
        self.left = self.steps
        self.deadline = clock() + self.seconds

    def spend(self, count: int = 1) -> None:
        self.left -= count
        if self.left < 0:
            raise SecurityError(
                f"the template went past {self.steps:,} steps (loop iterations and calls)"
            )
        if self.clock() > self.deadline:
            raise SecurityError(f"the template ran for more than {self.seconds:g} s")


def _too_long(what: str, size: int) -> SecurityError:
    return SecurityError(f"{what} would be {size:,} characters long (at most {MAX_VALUE_CHARS:,})")


class _Instrument(NodeTransformer):
    """Routes every ``for`` loop's iterable and every ``~`` through the environment's
    budgeted versions, before Jinja compiles the template."""

    def __init__(self, environment: Any) -> None:
        self.environment = environment

    def _call(self, name: str, args: list[nodes.Expr], like: nodes.Node) -> nodes.Call:
        call = nodes.Call(nodes.EnvironmentAttribute(name), args, [], None, None)
        call.set_lineno(like.lineno)
        call.set_environment(self.environment)
        return call

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)
        node.iter = self._call("budget_iter", [cast(nodes.Expr, node.iter)], node)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        return self._call("budget_concat", list(node.nodes), node)


class BudgetedCodeGenerator(CodeGenerator):
    """Jinja's code generator on the instrumented tree (``_Instrument``)."""

    def visit_Template(self, node: nodes.Template, frame: Frame | None = None) -> None:
        _Instrument(self.environment).visit(node)
        super().visit_Template(node, frame)


class BoundedSandbox(SandboxedEnvironment):
    """The sandbox with the bounds of this module; one environment per rendering."""

    intercepted_binops = frozenset({"*", "**", "+", "-", "%"})
    code_generator_class = BudgetedCodeGenerator

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("finalize", self._finalize)
        super().__init__(*args, **kwargs)
        self.budget = Budget()
        self.globals.pop("lipsum", None)
        self.globals["range"] = _budgeted_range(MAX_RANGE_ITEMS)
        self.filters = {name: self._bounded(name, f) for name, f in self.filters.items()}

    # -- what templates call --------------------------------------------------------------

    def budget_iter(self, iterable: Iterable[Any]) -> Iterator[Any]:
        """Every loop's iterable: one step per iteration."""
        spend = self.budget.spend
        for item in iterable:
            spend()
            yield item

    @pass_eval_context
    def budget_concat(self, eval_ctx: Any, *items: Any) -> str:
        """``a ~ b``: the parts' sizes are added up before they are joined."""
        total = sum(self.size(item) for item in items)
        if total > MAX_VALUE_CHARS:
            raise _too_long("a string joined with ~", total)
        join = markup_join if eval_ctx.volatile or eval_ctx.autoescape else str_join
        return join(items)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and _huge_power(left, right):
            raise SecurityError(f"{left!r} ** {right!r} is too large")
        if operator == "*":
            _check_product(left, right)
        elif operator == "+" and _is_sized(left) and _is_sized(right):
            total = len(left) + len(right)
            if total > MAX_VALUE_CHARS:
                raise _too_long("a value joined with +", total)
        elif operator == "%" and isinstance(left, str):
            _check_percent(left)
        result = super().call_binop(context, operator, left, right)
        self.check(result)
        return result

    def call(self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        self.budget.spend()
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str):
            args = self._materialised(__obj, args)
            self._check_str_method(owner, getattr(__obj, "__name__", ""), args, kwargs)
        elif isinstance(owner, list | dict | set) and getattr(__obj, "__name__", "") in (
            "extend",
            "update",
        ):
            grown = len(owner) + sum(self.size(a) for a in (*args, *kwargs.values()))
            if grown > MAX_VALUE_CHARS:
                raise _too_long("a collection grown with extend/update", grown)
        result = super().call(__context, __obj, *args, **kwargs)
        self.check(result)
        return result

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """Jinja's sandboxed ``str.format``, with the widths of the format string checked
        first (``'{:>1000000000}'.format(1)`` would build a gigabyte)."""
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        text: str = value.__self__

        def checked(*args: Any, **kwargs: Any) -> str:
            _check_format(text)
            return wrapped(*args, **kwargs)

        return checked

    def _materialised(self, obj: Any, args: tuple[Any, ...]) -> tuple[Any, ...]:
        """``str.join``'s iterable as a list, so it is measured and still joined whole."""
        if getattr(obj, "__name__", "") == "join" and args and _to_collect("join", args[0]):
            return (self.collect(args[0]), *args[1:])
        return args

    # -- measuring ------------------------------------------------------------------------

    def size(self, value: Any) -> int:
        """About how many characters ``value`` prints as, measured to ``MAX_VALUE_CHARS``
        (each item measured spends a step): strings by length, collections by their items,
        however many times one object appears in them."""
        if isinstance(value, str):
            return len(value)
        if not isinstance(value, _MEASURED):
            return 1
        total = 0
        stack: list[tuple[Any, int]] = [(value, 0)]
        path: list[int] = []  # the ids of the collections above the item, and as a set:
        above: set[int] = set()
        spend = self.budget.spend
        while stack:
            item, depth = stack.pop()
            while len(path) > depth:
                above.discard(path.pop())
            spend()
            if isinstance(item, str):
                total += len(item) + 2
            elif isinstance(item, TemplateModule):  # an imported template prints its body
                total += sum(len(part) for part in item._body_stream)
            elif isinstance(item, _MEASURED):
                if id(item) in above:  # a cycle prints as [...]
                    total += 5
                    continue
                path.append(id(item))
                above.add(id(item))
                total += 2
                if isinstance(item, Namespace):
                    item = item._Namespace__attrs
                children = (
                    [x for pair in item.items() for x in pair]
                    if isinstance(item, Mapping)
                    else list(item)
                )
                stack.extend((child, depth + 1) for child in children)
            else:
                total += 2
            if total > MAX_VALUE_CHARS:
                return total
        return total

    def check(self, value: Any) -> None:
        """Refuse ``value`` if it prints longer than ``MAX_VALUE_CHARS`` (or is an integer past
        ``MAX_NUMBER_BITS``)."""
        if isinstance(value, int) and not isinstance(value, bool):
            if value.bit_length() > MAX_NUMBER_BITS:
                raise SecurityError(f"a number of {value.bit_length():,} bits is too large")
            return
        size = self.size(value)
        if size > MAX_VALUE_CHARS:
            raise _too_long(f"a {type(value).__name__}", size)

    def concat(self, parts: Iterable[str]) -> str:
        """How Jinja joins the output of a block, a macro, a ``{% set %}`` block or a loop in
        them: the parts are added up first, so a loop writing one long string many times
        into a block never builds the whole."""
        items = parts if isinstance(parts, list) else self.collect(parts)
        total = sum(len(part) for part in items)
        if total > MAX_VALUE_CHARS:
            raise _too_long("the output of a block, macro or loop", total)
        return "".join(items)

    def collect(self, items: Iterable[Any]) -> list[Any]:
        """``list(items)``, one step per item."""
        spend = self.budget.spend
        out = []
        for item in items:
            spend()
            out.append(item)
        return out

    def _finalize(self, value: Any) -> Any:
        """Every ``{{ value }}``, before it is turned into text."""
        self.check(value)
        return value

    # -- methods and filters --------------------------------------------------------------

    def _check_str_method(
        self, text: str, name: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]
    ) -> None:
        if name in _PLAIN_STR_METHODS:
            return
        if name not in _SIZED_STR_METHODS:
            raise SecurityError(f"str.{name} is not available in a letter template")
        values = [*args, *kwargs.values()]
        if name in ("center", "ljust", "rjust", "zfill"):
            width = values[0] if values else 0
            if isinstance(width, int) and width > MAX_VALUE_CHARS:
                raise _too_long(f"str.{name}({width})", width)
        elif name == "expandtabs":
            tab = values[0] if values and isinstance(values[0], int) else 8
            grown = len(text) + text.count("\t") * max(tab, 0)
            if grown > MAX_VALUE_CHARS:
                raise _too_long("str.expandtabs", grown)
        elif name == "replace":
            _check_replace(text, *values[:3])
        elif name == "join":
            items = values[0] if values and isinstance(values[0], list | tuple) else []
            joined = sum(self.size(i) for i in items) + len(text) * max(len(items) - 1, 0)
            if joined > MAX_VALUE_CHARS:
                raise _too_long("str.join", joined)
        else:  # format, format_map
            _check_format(text)

    def _bounded(self, name: str, func: Callable[..., Any]) -> Callable[..., Any]:
        """``func`` (a filter) with a step, the checks its arguments need and its result
        measured."""
        passes = getattr(func, "jinja_pass_arg", None)
        skip = 0 if passes is None else 1

        @wraps(func)
        def bounded(*args: Any, **kwargs: Any) -> Any:
            self.budget.spend()
            if len(args) > skip and _to_collect(name, args[skip]):
                # a generator is read once: measure the items it gives, then filter them
                args = (*args[:skip], self.collect(args[skip]), *args[skip + 1 :])
            _check_filter(self, name, args[skip:], kwargs)
            result = func(*args, **kwargs)
            self.check(result)
            return result

        if passes is not None:
            bounded.jinja_pass_arg = passes  # type: ignore[attr-defined]
        return bounded


def _check_filter(
    env: BoundedSandbox, name: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]
) -> None:
    """What a filter's arguments may not ask for. ``args[0]`` is the filtered value; the
    others are read by Jinja's own parameter names and positions."""
    if not args:
        return
    value = args[0]

    def arg(key: str, position: int, default: Any) -> Any:
        if key in kwargs:
            return kwargs[key]
        return args[position] if len(args) > position else default

    if name in ("center", "indent"):
        width = arg("width", 1, 80 if name == "center" else 4)
        unit = len(width) if isinstance(width, str) else width if isinstance(width, int) else 0
        lines = str(value).count("\n") + 1 if name == "indent" else 1
        if unit * lines > MAX_VALUE_CHARS:
            raise _too_long(f"the {name} filter's result", unit * lines)
    elif name == "wordwrap":
        width = arg("width", 1, 79)
        wrap = str(arg("wrapstring", 3, None) or "\n")
        width = width if isinstance(width, int) and width > 0 else 1
        grown = len(str(value)) * (1 + len(wrap) // width) + len(wrap)
        if grown > MAX_VALUE_CHARS:
            raise _too_long("the wordwrap filter's result", grown)
    elif name == "replace" and isinstance(value, str):
        _check_replace(value, arg("old", 1, ""), arg("new", 2, ""), arg("count", 3, None))
    elif name == "format" and isinstance(value, str):
        _check_percent(value)
    elif name == "join":
        items = value if isinstance(value, list | tuple) else []
        sep = arg("d", 1, "")
        joined = sum(env.size(i) for i in items) + env.size(sep) * max(len(items) - 1, 0)
        if joined > MAX_VALUE_CHARS:
            raise _too_long("the join filter's result", joined)
    elif name in ("batch", "slice"):
        count = arg("linecount" if name == "batch" else "slices", 1, 1)
        if isinstance(count, int) and count > MAX_VALUE_CHARS:
            raise _too_long(f"the {name} filter's result", count)
    elif name == "sum":
        if not isinstance(arg("start", 2, 0), int | float):
            raise SecurityError("the sum filter adds numbers only (start must be a number)")
    elif name == "tojson":
        indent = arg("indent", 1, None)
        if isinstance(indent, int) and indent * env.size(value) > MAX_VALUE_CHARS:
            raise _too_long("the tojson filter's result", indent * env.size(value))
    if name in _STRINGIFYING_FILTERS:
        size = env.size(value)
        if size > MAX_VALUE_CHARS:
            raise _too_long(f"the {name} filter's input", size)


#: Filters that print their whole input (a list holding one string many times prints it many
#: times).
_STRINGIFYING_FILTERS = frozenset(
    ["string", "tojson", "pprint", "list", "escape", "e", "forceescape", "urlencode", "xmlattr"]
)


def _to_collect(name: str, value: Any) -> bool:
    """Whether a filter's (or ``str.join``'s) input is read into a list first: a generator
    always (it can be read once), and whatever ``join`` iterates that is not a list or tuple
    (a string is joined character by character)."""
    if isinstance(value, Iterator):
        return True
    return name == "join" and isinstance(value, Iterable) and not isinstance(value, list | tuple)


def _is_sized(value: Any) -> bool:
    return isinstance(value, str | list | tuple)


def _check_product(left: Any, right: Any) -> None:
    count, sequence = (right, left) if isinstance(right, int) else (left, right)
    if isinstance(sequence, str | list | tuple) and isinstance(count, int):
        if len(sequence) * count > MAX_PRODUCT:
            raise SecurityError(f"a sequence repeated {count} times is too long")
    elif (
        isinstance(left, int)
        and isinstance(right, int)
        and left.bit_length() + right.bit_length() > MAX_NUMBER_BITS + 1
    ):
        raise SecurityError("the product of these numbers is too large")


def _check_replace(text: str, old: Any = "", new: Any = "", count: Any = -1) -> None:
    if not isinstance(old, str) or not isinstance(new, str):
        return
    hits = text.count(old) if old else len(text) + 1
    if isinstance(count, int) and count >= 0:
        hits = min(hits, count)
    grown = len(text) + hits * (len(new) - len(old))
    if grown > MAX_VALUE_CHARS:
        raise _too_long("the replaced string", grown)


def _check_percent(fmt: str) -> None:
    """``fmt % values``: widths and precisions together may not pass the bound; a width
    taken from the values (``*``) is refused."""
    total = 0
    for found in _PERCENT_SPEC.finditer(fmt):
        for part in found.groups():
            if part == "*":
                raise SecurityError("a %-format width taken from its values (*) is not allowed")
            if part:
                total += int(part)
    if total > MAX_VALUE_CHARS:
        raise _too_long("the formatted string", total)


def _check_format(fmt: str) -> None:
    """``fmt.format(...)``: the widths of its fields together may not pass the bound."""
    total = 0
    try:
        fields = list(string.Formatter().parse(fmt))
    except ValueError as exc:
        raise SecurityError(f"bad format string: {exc}") from None
    for _literal, _field, spec, _conversion in fields:
        if spec and "{" in spec:
            raise SecurityError("a format width taken from its values ({}) is not allowed")
        total += sum(int(d) for d in _DIGITS.findall(spec or ""))
    if total > MAX_VALUE_CHARS:
        raise _too_long("the formatted string", total)


def _huge_power(base: Any, exponent: Any) -> bool:
    """More than 12 digits: no letter needs it, and ``10 ** 10 ** 10`` would not finish."""
    numbers = isinstance(base, int | float) and isinstance(exponent, int | float)
    return numbers and abs(base) > 1 and exponent > 0 and exponent * math.log10(abs(base)) > 12


def _budgeted_range(budget: int) -> Callable[..., range]:
    """``range`` for one rendering: nested loops share ``budget`` items."""
    left = budget

    def bounded_range(*args: int) -> range:
        nonlocal left
        items = range(*args)
        left -= len(items)
        if left < 0:
            raise SecurityError(
                f"the template's loops over range() go past {budget:,} items in all"
            )
        return items

    return bounded_range


__all__ = [
    "MAX_LETTER_CHARS",
    "MAX_NUMBER_BITS",
    "MAX_PRODUCT",
    "MAX_RANGE_ITEMS",
    "MAX_RENDER_SECONDS",
    "MAX_STEPS",
    "MAX_VALUE_CHARS",
    "BoundedSandbox",
    "Budget",
    "BudgetedCodeGenerator",
]
