"""Runs the code blocks of the README and the docs as a reader would (``tests/test_docs_run.py``).

A Markdown file's fenced blocks are read in order. Blocks tagged ``console``, ``sh``, ``bash``
or ``shell`` run in one bash session per file and ``python`` blocks in one interpreter per file
(later blocks see what earlier ones defined, as a reader following the page would), both in a
fresh working copy of the repository with the test run's ``zhenshen`` on ``PATH``. An HTML
comment just before a fence changes what happens to it:

* ``<!-- not-run: REASON -->`` — the block is not run (the reason is required: a block that
  needs a server, runs the whole test suite, is a fragment of a larger file …); a shell block
  that installs software (``pip install`` …) must be marked so, it is never run;
* ``<!-- file: PATH -->`` — the block is written to ``PATH`` (relative to the session's current
  directory), for a page that has the reader create a file;
* ``<!-- not-checked: REASON -->`` — a console block's commands run but the output shown is
  not compared (timings, machine-dependent numbers).

A ``console`` block holds ``$ command`` lines, each followed by the output it prints, which is
compared with what the command printed (stdout and stderr together): trailing spaces are
ignored, durations such as ``0.03s`` or ``1.5 s`` match any duration, and a line ``...`` (or
``…``) alone stands for any number of lines. A command that exits non-zero is a failure
unless the next command is ``echo $?`` (whose output says which code was expected). In ``sh``
blocks every command must succeed. Every fence must name its language, and a block that looks
like a shell session must be tagged ``console``: commands cannot hide in a ``text`` block.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

SHELL_LANGS = frozenset({"console", "sh", "bash", "shell"})
RUNNABLE = SHELL_LANGS | {"python"}
FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`\s]*)[^`]*$")
DIRECTIVE = re.compile(r"^\s*<!--\s*(not-run|file|not-checked)\s*:\s*(.*?)\s*-->\s*$")
DURATION = re.compile(r"\b\d+(?:\.\d+)? ?s\b")
#: Commands that would change the environment the tests run in: never run, whatever the page.
INSTALLS = re.compile(
    r"\b(?:pip3?|uv pip|pipx)\s+(?:install|uninstall)\b|\bapt(?:-get)?\s+install\b"
)
ELLIPSIS = frozenset({"...", "…"})
UNIT_TIMEOUT = 600.0


@dataclass
class Block:
    """One fenced block: where it starts (1-based line of its first content line)."""

    path: Path
    line: int
    lang: str
    text: str
    directive: str | None = None  # not-run | file | not-checked
    argument: str = ""

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


def read_blocks(path: Path, shown: Path | None = None) -> tuple[list[Block], list[str]]:
    """The fenced blocks of a Markdown file, and the problems found reading them."""
    shown = shown or path
    lines = path.read_text(encoding="utf-8").split("\n")
    blocks: list[Block] = []
    problems: list[str] = []
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if match is None:
            i += 1
            continue
        fence, indent = match["fence"], len(match["indent"])
        close = re.compile(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}\s*$")
        end = i + 1
        while end < len(lines) and not close.match(lines[end]):
            end += 1
        body = [ln[indent:] if ln[:indent].isspace() else ln for ln in lines[i + 1 : end]]
        block = Block(shown, i + 2, match["info"].lower(), "\n".join(body) + "\n")
        back = i - 1
        while back >= 0 and not lines[back].strip():
            back -= 1
        directive = DIRECTIVE.match(lines[back]) if back >= 0 else None
        if directive is not None:
            block.directive, block.argument = directive[1], directive[2]
            if not block.argument:
                problems.append(f"{block.where}: <!-- {block.directive}: … --> needs a value")
        if not block.lang:
            problems.append(f"{block.where}: a fence must name its language (text, console …)")
        elif (
            block.lang not in SHELL_LANGS
            and block.directive is None
            and any(ln.startswith("$ ") for ln in body[:1])
        ):
            problems.append(f"{block.where}: a shell session tagged {block.lang!r}: tag it console")
        if block.directive == "not-checked" and block.lang != "console":
            problems.append(f"{block.where}: not-checked applies to console blocks only")
        blocks.append(block)
        i = end + 1
    return blocks, problems


def runnable(blocks: Sequence[Block]) -> list[Block]:
    """The blocks that run or write a file, in page order."""
    return [
        b
        for b in blocks
        if b.directive != "not-run" and (b.lang in RUNNABLE or b.directive == "file")
    ]


# --- comparing output --------------------------------------------------------------------------


def _norm(line: str) -> str:
    return DURATION.sub("<duration>", line.rstrip())


def output_matches(expected: str, actual: str) -> bool:
    """``actual`` against the output a page shows (see the module docstring)."""
    want = [_norm(x) for x in expected.rstrip("\n").split("\n")] if expected.strip() else []
    got = [_norm(x) for x in actual.rstrip("\n").split("\n")] if actual.strip() else []
    return _match(want, got)


def _match(want: list[str], got: list[str]) -> bool:
    if not want:
        return not got
    head = want[0]
    if head.strip() in ELLIPSIS:
        return any(_match(want[1:], got[k:]) for k in range(len(got) + 1))
    return bool(got) and got[0] == head and _match(want[1:], got[1:])


# --- console blocks ----------------------------------------------------------------------------


@dataclass
class Command:
    line: int
    text: str
    expected: str = ""


def console_commands(block: Block) -> list[Command]:
    commands: list[Command] = []
    lines = block.text.rstrip("\n").split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("$ "):
            text, start = line[2:], i
            while text.endswith("\\") and i + 1 < len(lines):
                i += 1
                text = text[:-1] + "\n" + lines[i]
            commands.append(Command(block.line + start, text))
        elif commands:
            commands[-1].expected += line + "\n"
        i += 1
    return commands


# --- the sessions ------------------------------------------------------------------------------


class _Pipe:
    """A child process's output, read by a thread so that waiting can time out."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.lines: queue.Queue[bytes | None] = queue.Queue()
        assert proc.stdout is not None
        stream = proc.stdout

        def pump() -> None:
            for raw in iter(stream.readline, b""):
                self.lines.put(raw)
            self.lines.put(None)

        threading.Thread(target=pump, daemon=True).start()

    def until(self, marker: str, timeout: float) -> tuple[str, str | None]:
        """Output up to the line starting with ``marker`` and the rest of that line (None
        when the process ended or the time ran out first)."""
        out: list[bytes] = []
        while True:
            try:
                raw = self.lines.get(timeout=timeout)
            except queue.Empty:
                return b"".join(out).decode("utf-8", "replace"), None
            if raw is None:
                return b"".join(out).decode("utf-8", "replace"), None
            text = raw.decode("utf-8", "replace")
            if text.startswith(marker):
                body = b"".join(out).decode("utf-8", "replace")
                return body.removesuffix("\n"), text[len(marker) :].strip()
            out.append(raw)


def _spawn(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: a timeout ends everything it started
    )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


class Shell:
    """One bash session: ``cd`` and variables carry over from block to block, as in a
    terminal. Each unit is sourced from a file with stdin closed; its exit code is kept in
    ``$?`` for the next unit (``echo $?``)."""

    def __init__(self, cwd: Path, env: dict[str, str], scratch: Path) -> None:
        self.scratch = scratch
        self.marker = f"@@docrun-{uuid.uuid4().hex}"
        self.proc = _spawn(["bash", "--noprofile", "--norc"], cwd, env)
        self.pipe = _Pipe(self.proc)
        self._count = 0
        self._send(
            "set -o pipefail\n"
            f'trap \'printf "\\n{self.marker}-err %s %s\\n" "$?" "$BASH_COMMAND"\' ERR\n'
        )

    def _send(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text.encode("utf-8"))
        self.proc.stdin.flush()

    def run(self, script: str, timeout: float = UNIT_TIMEOUT) -> tuple[str, int | None, list[str]]:
        """Output, exit code (None: timed out or the shell ended) and the commands that
        failed inside the unit."""
        self._count += 1
        unit = self.scratch / f"unit-{self._count}.sh"
        unit.write_text(script, encoding="utf-8")
        self._send(
            f"{{ source {_quote(str(unit))} ; }} < /dev/null\n"
            f"__docrun_rc=$?; printf '\\n{self.marker}-end %s\\n' \"$__docrun_rc\"; "
            "(exit $__docrun_rc)\n"
        )
        output, rest = self.pipe.until(f"{self.marker}-end", timeout)
        failed: list[str] = []

        def drop(match: re.Match[str]) -> str:  # the trap's line, and the newline it added
            failed.append(match[1])
            at_line_start = match.start() == 0 or output[match.start() - 1] == "\n"
            return "" if at_line_start else "\n"

        text = re.sub(rf"\n{re.escape(self.marker)}-err ([^\n]*)(?:\n|\Z)", drop, output)
        return text, (int(rest) if rest is not None else None), failed

    def cwd(self) -> Path:
        output, _, _ = self.run("pwd")
        return Path(output.strip().split("\n")[-1])

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        _stop(self.proc)


_DRIVER = r"""
import json, os, sys, traceback
namespace = {"__name__": "__main__"}
marker = sys.argv[1]
for request in sys.stdin:
    unit = json.loads(request)
    os.chdir(unit["cwd"])
    status = 0
    try:
        code = compile("\n" * (unit["line"] - 1) + unit["code"], unit["path"], "exec")
        exec(code, namespace)
    except SystemExit as exc:
        status = 0 if exc.code in (0, None) else 1
        if status:
            traceback.print_exc()
    except BaseException:
        traceback.print_exc()
        status = 1
    sys.stdout.flush()
    sys.stderr.flush()
    print(f"\n{marker}-end {status}", flush=True)
"""


class Python:
    """One interpreter per page: a block sees the names earlier blocks defined."""

    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.marker = f"@@docrun-{uuid.uuid4().hex}"
        self.proc = _spawn([sys.executable, "-u", "-c", _DRIVER, self.marker], cwd, env)
        self.pipe = _Pipe(self.proc)

    def run(self, block: Block, cwd: Path, timeout: float = UNIT_TIMEOUT) -> tuple[str, bool]:
        request = {"cwd": str(cwd), "line": block.line, "code": block.text, "path": str(block.path)}
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps(request) + "\n").encode("utf-8"))
        self.proc.stdin.flush()
        output, rest = self.pipe.until(f"{self.marker}-end", timeout)
        return output, rest == "0"

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        _stop(self.proc)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


# --- a page, run --------------------------------------------------------------------------------


@dataclass
class PageRun:
    """What went wrong running one page (empty: every block did what the page says)."""

    failures: list[str] = field(default_factory=list)
    ran: int = 0


def reader_env(root: Path, home: Path) -> dict[str, str]:
    """A reader's shell: the venv's tools first, no project settings from this test run."""
    venv_bin = str(Path(sys.executable).parent)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ZHENSHEN_", "PYTEST_", "COV_", "HYPOTHESIS"))
        and k not in ("VIRTUAL_ENV", "PYTHONPATH")
    }
    env.update(
        PATH=venv_bin + os.pathsep + env.get("PATH", ""),
        VIRTUAL_ENV=str(Path(sys.executable).parent.parent),
        HOME=str(home),
        COLUMNS="100",
        LINES="50",
        NO_COLOR="1",
        TERM="dumb",
        LANG="C.UTF-8",
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONUNBUFFERED="1",
    )
    return env


def working_copy(root: Path, target: Path) -> Path:
    """The repository's files (tracked, or new and not ignored) under ``target``, with
    ``.venv`` pointing at the test run's environment (and set-up marked done, so ``make demo``
    does not reinstall)."""
    files = _tracked(root)
    for rel in files:
        source, dest = root / rel, target / rel
        if source.is_file():
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, dest)
    # A facade of the test run's environment: its own pyvenv.cfg (so .venv/bin/python started
    # from here finds the environment's packages), the rest linked, and its own set-up stamp.
    real = Path(sys.prefix)
    venv = target / ".venv"
    venv.mkdir(exist_ok=True)
    for part in ("bin", "lib", "lib64", "include"):
        if (real / part).exists():
            (venv / part).symlink_to((real / part).resolve(), target_is_directory=True)
    if (real / "pyvenv.cfg").is_file():
        shutil.copyfile(real / "pyvenv.cfg", venv / "pyvenv.cfg")
    (venv / ".installed").touch()
    return target


def _tracked(root: Path) -> list[str]:
    listing = ["ls-files", "-z", "--cached", "--others", "--exclude-standard"]
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *listing],
            capture_output=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return [
            str(p.relative_to(root))
            for p in root.rglob("*")
            if p.is_file()
            and not any(part.startswith(".") or part == "__pycache__" for part in p.parts)
        ]
    return [name for name in done.stdout.decode().split("\0") if name]


def run_page(page: Path, shown: Path, workdir: Path) -> PageRun:
    """Run every runnable block of ``page`` in ``workdir`` (a working copy)."""
    blocks, problems = read_blocks(page, shown)
    result = PageRun(failures=list(problems))
    todo = runnable(blocks)
    if not todo:
        return result
    scratch = workdir.parent / "scratch"
    home = workdir.parent / "home"
    scratch.mkdir(exist_ok=True)
    home.mkdir(exist_ok=True)
    env = reader_env(workdir, home)
    shell = Shell(workdir, env, scratch)
    python: Python | None = None
    try:
        for block in todo:
            if block.lang in SHELL_LANGS and INSTALLS.search(_commands(block)):
                result.failures.append(
                    f"{block.where}: installs software into the environment the tests run in; "
                    "mark the block <!-- not-run: … --> (or show the install in prose)"
                )
                continue
            result.ran += 1
            if block.directive == "file":
                target = shell.cwd() / block.argument
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(block.text, encoding="utf-8")
            elif block.lang == "python":
                python = python or Python(workdir, env)
                output, ok = python.run(block, shell.cwd())
                if not ok:
                    result.failures.append(f"{block.where}: the Python block failed:\n{output}")
            elif block.lang == "console":
                result.failures += _run_console(shell, block)
            else:
                output, code, failed = shell.run(block.text)
                if code is None:
                    result.failures.append(f"{block.where}: timed out or ended:\n{output}")
                    break
                if failed:
                    listed = "".join(f"\n  exit {item}" for item in failed)
                    result.failures.append(
                        f"{block.where}: commands failed:{listed}\nthe block printed:\n{output}"
                    )
    finally:
        shell.close()
        if python is not None:
            python.close()
    return result


def _run_console(shell: Shell, block: Block) -> list[str]:
    failures: list[str] = []
    commands = console_commands(block)
    for n, command in enumerate(commands):
        output, code, _ = shell.run(command.text + "\n")
        where = f"{block.path}:{command.line}"
        if code is None:
            return [*failures, f"{where}: `{command.text}` timed out or ended:\n{output}"]
        checked = command.text.strip() != "echo $?"
        following = commands[n + 1].text.strip() if n + 1 < len(commands) else ""
        if code != 0 and following != "echo $?":
            failures.append(f"{where}: `{command.text}` exited {code}:\n{output}")
            continue
        always = not checked  # the exit code an `echo $?` prints is checked in any block
        if (block.directive != "not-checked" or always) and not output_matches(
            command.expected, output
        ):
            failures.append(
                f"{where}: `{command.text}` printed something else than the page shows\n"
                f"--- page\n{command.expected}--- actual\n{output}\n"
            )
    return failures


def _commands(block: Block) -> str:
    """What a shell block runs (a console block's output lines are not commands)."""
    if block.lang == "console":
        return "\n".join(c.text for c in console_commands(block))
    return block.text


def pages(root: Path) -> Iterator[Path]:
    """The Markdown files a reader reads: the README, docs/, and the plugins' and examples'
    READMEs."""
    yield from sorted(root.glob("*.md"))
    for folder in ("docs", "examples", "plugins", "benchmarks"):
        yield from sorted(p for p in (root / folder).rglob("*.md") if "node_modules" not in p.parts)
