"""Every code block of the README and the docs does what the page says (``tests/docblocks.py``).

Each page runs in its own fresh working copy of the repository, in a bash session and a Python
interpreter of its own, as a reader following it would; a block that cannot run says why in a
``<!-- not-run: … -->`` comment. The README's embedding snippets failed as written until this
ran them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from docblocks import output_matches, pages, read_blocks, run_page, working_copy

ROOT = Path(__file__).resolve().parents[1]
PAGES = [p.relative_to(ROOT) for p in pages(ROOT)]


def test_the_pages_are_found() -> None:
    names = {str(p) for p in PAGES}
    assert {"README.md", "docs/tutorial.md", "docs/howto/write-an-intake-plugin.md"} <= names


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES, ids=str)
def test_page_runs_as_written(page: Path, tmp_path: Path) -> None:
    copy = working_copy(ROOT, tmp_path / "repo")
    result = run_page(copy / page, page, copy)
    assert not result.failures, "\n\n".join(result.failures)


# --- the harness itself --------------------------------------------------------------------


def _page(tmp_path: Path, text: str) -> Path:
    page = tmp_path / "page.md"
    page.write_text(text, encoding="utf-8")
    return page


def test_unmarked_failing_blocks_fail_and_marked_ones_are_skipped(tmp_path: Path) -> None:
    page = _page(
        tmp_path,
        "```sh\ntrue\nfalse\necho after\n```\n\n"
        "<!-- not-run: needs a server -->\n```sh\nexit 7\n```\n\n"
        "```python\nimport json\nraise SystemExit(json.dumps(3))\n```\n",
    )
    work = tmp_path / "work"
    work.mkdir()
    result = run_page(page, Path("page.md"), work)
    assert result.ran == 2
    assert len(result.failures) == 2
    assert result.failures[0].startswith("page.md:2: commands failed:\n  exit 1 false\n")
    assert result.failures[1].startswith("page.md:13: the Python block failed")


def test_console_output_exit_codes_and_session_state(tmp_path: Path) -> None:
    page = _page(
        tmp_path,
        "<!-- file: sub/data.txt -->\n```text\nhello\n```\n\n"
        '```console\n$ cd sub\n$ X=$(cat data.txt)\n$ echo "$X world"\nhello world\n'
        "$ sh -c 'exit 3'\n$ echo $?\n3\n$ printf 'took 0.25s\\nb\\nc\\n'\ntook 1.5s\n...\n```\n\n"
        "```python\nfrom pathlib import Path\nprint(Path('data.txt').read_text())\n```\n\n"
        "```console\n$ echo one\ntwo\n$ sh -c 'exit 4'\n```\n",
    )
    work = tmp_path / "work"
    work.mkdir()
    result = run_page(page, Path("page.md"), work)
    assert result.ran == 4
    assert len(result.failures) == 2, result.failures
    assert "`echo one` printed something else" in result.failures[0]
    assert "`sh -c 'exit 4'` exited 4" in result.failures[1]


def test_fences_without_a_language_or_hiding_a_session_are_refused(tmp_path: Path) -> None:
    page = _page(tmp_path, "```\nplain\n```\n\n```text\n$ zhenshen check pack\n```\n")
    _, problems = read_blocks(page, Path("page.md"))
    assert problems == [
        "page.md:2: a fence must name its language (text, console …)",
        "page.md:6: a shell session tagged 'text': tag it console",
    ]


@pytest.mark.parametrize(
    ("expected", "actual", "ok"),
    [
        ("a\nb\n", "a  \nb", True),
        ("a\n...\nd\n", "a\nb\nc\nd\n", True),
        ("a\n…\n", "a\n", True),
        ("3 passed in 0.03s\n", "3 passed in 12.5s\n", True),
        ("ingested in 0.0 s\n", "ingested in 2.4 s\n", True),
        ("a\nb\n", "a\nc\n", False),
        ("", "noise\n", False),
    ],
)
def test_output_matching(expected: str, actual: str, ok: bool) -> None:
    assert output_matches(expected, actual) is ok


def test_a_block_that_installs_software_is_never_run(tmp_path: Path) -> None:
    page = _page(tmp_path, "```sh\ntouch ran\npip install zhenshen-extra\n```\n")
    work = tmp_path / "work"
    work.mkdir()
    result = run_page(page, Path("page.md"), work)
    assert result.ran == 0 and not (work / "ran").exists()
    assert result.failures == [
        "page.md:2: installs software into the environment the tests run in; mark the block "
        "<!-- not-run: … --> (or show the install in prose)"
    ]


def test_the_working_copy_has_the_environment_a_reader_set_up(tmp_path: Path) -> None:
    """``.venv/bin/python`` started in the copy is the test run's environment (its packages
    import), and ``make`` sees the set-up as done."""
    import subprocess

    copy = working_copy(ROOT, tmp_path / "repo")
    done = subprocess.run(
        [str(copy / ".venv" / "bin" / "python"), "-c", "import rich, zhenshen_core"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (copy / "README.md").is_file() and (copy / ".venv" / ".installed").is_file()
