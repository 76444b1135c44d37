"""Exit codes (pytest's, as STYLE.md asks) and the error boundary every command shares."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import click

from zhenshen_core.errors import PluginError, ZhenshenError

OK = 0
PROBLEMS = 1  # failures found: rejected records, failing tests, check errors
USAGE = 2
LOAD_ERROR = 3  # a plugin, pack or store failed to load, or an internal error
NO_TESTS = 5

P = ParamSpec("P")
T = TypeVar("T")


class CliExit(click.ClickException):
    """A clean, one-line failure with a chosen exit code (no traceback)."""

    def __init__(self, message: str, code: int = LOAD_ERROR) -> None:
        super().__init__(message)
        self.exit_code = code  # type: ignore[misc]  # click declares a class-wide default

    def show(self, file: object = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


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
        except PluginError as exc:
            raise CliExit(str(exc), LOAD_ERROR) from exc
        except ZhenshenError as exc:
            raise CliExit(str(exc), getattr(exc, "exit_code", LOAD_ERROR)) from exc
        except OSError as exc:
            raise CliExit(
                f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), LOAD_ERROR
            ) from exc
        except Exception as exc:
            import os

            if os.environ.get("ZHENSHEN_DEBUG"):
                raise
            print(f"internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
            sys.exit(LOAD_ERROR)

    return wrapper
