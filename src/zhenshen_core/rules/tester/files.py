"""A pack's test files, read only when they (and the golden files they name) are the pack's.

``tests/`` of a pack folder may hold symbolic links, and a test's ``golden:`` may name any path
(``--update-golden`` even writes there). Each is resolved (``rules.pack.confine``) and refused
with ``P210`` when its real path is outside the pack folder: a pack's tests read and write the
pack, nothing else. Test files named on the command line are the user's choice and are not
checked here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from zhenshen_core.rules.diagnostics import Diagnostic
from zhenshen_core.rules.pack.confine import PackRoots, link_display
from zhenshen_core.rules.tester.model import TestFile, read_test_file


def pack_test_files(
    folder: Path, paths: Iterable[Path], display: Callable[[Path], str]
) -> list[TestFile]:
    """Read ``paths``, the test files of the pack in ``folder``; a file outside the pack is a
    file with one ``P210`` problem, a test whose golden file is outside is dropped with one."""
    roots = PackRoots(folder)
    files: list[TestFile] = []
    for path in paths:
        if not roots.admits(path):
            shown = link_display(path)
            refused = Diagnostic(shown, 1, 1, "P210", roots.refusal(path, shown))
            files.append(TestFile(Path(shown), problems=[refused]))
            continue
        test_file = read_test_file(path, display(path))
        kept = []
        for test in test_file.tests:
            if test.golden is not None and not roots.admits(test.golden):
                line = test.key_lines.get("golden", test.line)
                message = roots.refusal(test.golden, f"golden file {link_display(test.golden)}")
                test_file.problems.append(Diagnostic(str(test.file), line, 1, "P210", message))
                continue
            kept.append(test)
        test_file.tests = kept
        files.append(test_file)
    return files


__all__ = ["pack_test_files"]
