"""Run a probe of the C extension in a child process, so a crash or hang fails one test only."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def run_isolated(code: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter; a segfault shows as a negative return code and a
    hang as ``subprocess.TimeoutExpired`` (both fail the calling test)."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def assert_clean(result: subprocess.CompletedProcess[str], expect: str = "OK") -> None:
    assert result.returncode == 0, (
        f"child exited with {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    )
    assert expect in result.stdout, result.stdout + result.stderr
