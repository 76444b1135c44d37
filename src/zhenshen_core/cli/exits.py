"""Exit codes (pytest's, as STYLE.md asks) and the error boundary every command shares.

Which code a library error gets is decided here, once, by what the person at the terminal
can do about it (``exit_code_for``): a request the data refuses (an event the case's state
does not allow, a guard that fails, invalid case data) is a problem found, exit 1; a case id
that names no case is a bad argument, exit 2, as a missing file is; a plugin, pack or store
that cannot be loaded is exit 3. Running the same command again later may succeed when the
case was changed by someone else meanwhile (``ConcurrencyError``) or the store was locked,
stalled or unreachable (``StoreUnavailableError``): exit 75, ``EX_TEMPFAIL`` of sysexits.h,
which schedulers and mail tools already read as "try again", and outside pytest's 0-5. An
error class may also say its own code with an ``exit_code`` attribute (``ConfigError`` does).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import click

from zhenshen_core.errors import (
    CaseNotFoundError,
    CaseValidationError,
    ConcurrencyError,
    LifecycleError,
    PluginError,
    StoreUnavailableError,
    ZhenshenError,
)

OK = 0
PROBLEMS = 1  # failures found: rejected records, failing tests, check errors
USAGE = 2
LOAD_ERROR = 3  # a plugin, pack or store failed to load, or an internal error
NO_TESTS = 5
TRY_AGAIN = 75  # a conflict or a store locked, stalled or unreachable (sysexits' EX_TEMPFAIL)

P = ParamSpec("P")
T = TypeVar("T")


#: Errors that are the user's request refused by the data, not a failure to load or run.
_REFUSED: tuple[type[ZhenshenError], ...] = (
    LifecycleError,  # IllegalTransitionError, GuardError (its message lists what is allowed)
    CaseValidationError,
)

#: Errors where nothing is wrong with the request: the same command, run again, may succeed.
_TRY_AGAIN: tuple[type[ZhenshenError], ...] = (ConcurrencyError, StoreUnavailableError)


def exit_code_for(exc: ZhenshenError) -> int:
    """The exit code of a library error (see the module docstring)."""
    own = getattr(exc, "exit_code", None)
    if isinstance(own, int):
        return own
    if isinstance(exc, PluginError):
        return LOAD_ERROR
    if isinstance(exc, CaseNotFoundError):
        return USAGE
    if isinstance(exc, _TRY_AGAIN):
        return TRY_AGAIN
    if isinstance(exc, _REFUSED):
        return PROBLEMS
    return LOAD_ERROR


class CliExit(click.ClickException):
    """A clean, one-line failure with a chosen exit code (no traceback)."""

    def __init__(self, message: str, code: int = LOAD_ERROR) -> None:
        super().__init__(message)
        self.exit_code = code  # type: ignore[misc]  # click declares a class-wide default

    def show(self, file: object = None) -> None:
        click.echo(f"error: {shown_message(self.format_message())}", err=True)


def shown_message(message: str) -> str:
    """An error message as printed: personal data it repeats from the input (a phone number
    in a refused value, an ID number in a reason) masked, as in every other output."""
    from zhenshen_core.privacy import mask_text

    return mask_text(message)


def error_boundary(fn: Callable[P, T]) -> Callable[P, T]:
    """Turn library errors into one clear line on stderr and the right exit code.

    Usage errors stay click's (exit 2). Anything unexpected is an internal error: exit 3 with
    its type and message; ``ZHENSHEN_DEBUG=1`` shows the traceback for bug reports.
    """

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return fn(*args, **kwargs)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except BrokenPipeError:
            # The reader of stdout has gone (``zhenshen eval ... | head``): click ends every
            # command quietly with exit 1 then, whichever command it is.
            raise
        except ZhenshenError as exc:
            raise CliExit(str(exc), exit_code_for(exc)) from exc
        except OSError as exc:
            raise CliExit(
                f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), LOAD_ERROR
            ) from exc
        except Exception as exc:
            import os

            if os.environ.get("ZHENSHEN_DEBUG"):
                raise
            print(
                f"internal error: {type(exc).__name__}: {shown_message(str(exc))}", file=sys.stderr
            )
            sys.exit(LOAD_ERROR)

    return wrapper
