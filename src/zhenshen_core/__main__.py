"""``python -m zhenshen_core``: the ``zhenshen`` command."""

from zhenshen_core.console import run

run()
