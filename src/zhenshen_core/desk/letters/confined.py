"""The template loader: a letter template reads only files that really lie in its folder.

A pack's template is the pack's data, and so is every template it includes, imports or extends.
Jinja's ``FileSystemLoader`` follows symbolic links, so ``opinion_letter.md.j2`` linked to
``/etc/passwd`` (or ``{% include "x.j2" %}`` with ``x.j2`` such a link) put that file into the
letter. This loader resolves each file it is asked for (every link followed, every ``..``
gone), serves it only when that real path lies inside one of its folders (the template's own,
and the built-in templates), reads the real path it checked (never the link again, never a
device or a pipe) and says a served template is out of date as soon as its real path changes,
so a link swapped after the first load is checked again on the next one.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Sequence
from pathlib import Path

import jinja2
from jinja2.exceptions import SecurityError
from jinja2.loaders import split_template_path

#: The largest template file (bytes); the built-in ones are 4 KB.
MAX_TEMPLATE_BYTES = 1_000_000


class TemplateRefused(SecurityError):
    """A template file that is not served: outside the folders, too large, not a regular file
    or not UTF-8. Not a ``TemplateNotFound``, which ``{% include … ignore missing %}`` would
    silently skip."""

    def __init__(self, filename: str, problem: str) -> None:
        self.filename, self.problem = filename, problem
        super().__init__(f"{filename} {problem}")


class ConfinedLoader(jinja2.BaseLoader):
    """Templates from ``folders`` (searched in order), each confined to the real folder it is
    found in. ``served`` records every file given out, for locating errors in them."""

    def __init__(self, folders: Sequence[Path]) -> None:
        self.folders = [Path(f) for f in folders]
        self.served: set[str] = set()

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        pieces = split_template_path(template)  # refuses '..' and path separators
        for folder in self.folders:
            candidate = folder.joinpath(*pieces)
            if candidate.is_file():
                break
        else:
            raise jinja2.TemplateNotFound(template)
        filename = str(candidate)
        real = candidate.resolve()
        root = folder.resolve()
        if not real.is_relative_to(root):
            raise TemplateRefused(
                filename,
                f"leads outside the template folder (to {real}): a template may only use files "
                "in its own folder",
            )
        source = _read_regular(real, filename)
        self.served.add(filename)
        mtime = real.stat().st_mtime

        def uptodate() -> bool:
            try:
                return candidate.resolve() == real and real.stat().st_mtime == mtime
            except OSError:
                return False

        return source, filename, uptodate


def _read_regular(real: Path, filename: str) -> str:
    """The text of ``real``, opened without following a link in its last part and only when it
    is a regular file (a pipe would block, a device would never end)."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(real, flags)
    except OSError as exc:
        raise TemplateRefused(filename, f"cannot be read: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise TemplateRefused(filename, "is not a regular file")
        data = handle.read(MAX_TEMPLATE_BYTES + 1)
    if len(data) > MAX_TEMPLATE_BYTES:
        raise TemplateRefused(filename, f"is larger than {MAX_TEMPLATE_BYTES:,} bytes")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TemplateRefused(filename, f"is not UTF-8 text (byte {exc.start + 1})") from None


__all__ = ["MAX_TEMPLATE_BYTES", "ConfinedLoader", "TemplateRefused"]
