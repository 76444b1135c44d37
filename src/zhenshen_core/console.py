"""The ``zhenshen`` console script (and ``python -m zhenshen_core``).

It lives outside ``zhenshen_core.cli`` so that nothing heavy is imported before ``run`` starts:
``import zhenshen_core`` itself is lazy.
"""

from __future__ import annotations

import atexit
import gc
import os
import sys
import warnings
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import TextIO

#: Commands that only read their inputs and write to stdout and stderr: they end without the
#: interpreter's teardown (see ``_exit_now``).
QUICK_EXIT_COMMANDS = frozenset({"eval", "check", "schema"})


def run() -> None:
    """``zhenshen``: the CLI, with the garbage collector paused while the program loads.

    Loading builds pydantic validators, dataclasses and parse tables: tens of thousands of
    objects that live as long as the process. The full collections they trigger free nothing
    and cost about a tenth of a short command's run, so the collector is off while the modules
    load, and what they built is then frozen out of later collections (``gc.freeze``).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        from zhenshen_core.cli.main import _command_name, prepare

        group, argv = prepare()
    finally:
        gc.freeze()
        if enabled:
            gc.enable()
    warnings.showwarning = _show_warning
    try:
        group.main(args=argv, prog_name="zhenshen")
    except SystemExit as done:
        if _command_name(argv) in QUICK_EXIT_COMMANDS:
            _exit_now(done.code)
        raise


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """A library warning (a generated key file, a store without a key) as one line for the
    person at the terminal: ``warning: …`` on stderr, without the source file and line that
    Python's default format shows a developer."""
    print(f"warning: {message}", file=file or sys.stderr)


def _exit_now(code: object) -> None:
    """End the process without tearing the interpreter down.

    Teardown frees every module's objects one by one: 50-100 ms after a command that loaded a
    rule pack, a tenth of evaluating a 20,000-case file. A read-only command has nothing that
    needs it once the exit handlers have run and the standard streams are flushed, which is
    all that is done here (as the interpreter would: a failed stdout flush exits 120).
    """
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:  # sys.exit("message"): printed, status 1
        print(code, file=sys.stderr)
        status = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BrokenPipeError:
            if stream is sys.stdout and status == 0:
                status = 1  # the reader has gone: quiet, as click ends a command then
        except (OSError, ValueError):
            if stream is sys.stdout and status == 0:
                status = 120
    os._exit(status)
