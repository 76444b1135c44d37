"""The ``zhenshen`` console script (and ``python -m zhenshen_core``).

It lives outside ``zhenshen_core.cli`` so that nothing heavy is imported before ``run`` starts:
``import zhenshen_core`` itself is lazy.
"""

from __future__ import annotations

import gc


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
        from zhenshen_core.cli.main import prepare

        group, argv = prepare()
    finally:
        gc.freeze()
        if enabled:
            gc.enable()
    group.main(args=argv, prog_name="zhenshen")
