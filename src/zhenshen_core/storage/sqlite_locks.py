"""Which process holds a SQLite database's write lock: best effort, Linux first, one message.

A writer that waited its whole busy timeout has only SQLite's "database is locked" to report,
and the operator's next question is *who* holds it (a forgotten ``sqlite3`` shell, a backup
script, a stuck intake). SQLite locks with POSIX advisory locks: in WAL mode a writer holds the
byte at offset 120 of the ``-shm`` file (``WAL_WRITE_LOCK``), in the rollback journal modes the
RESERVED, PENDING or EXCLUSIVE bytes from 0x40000000 of the database file. Linux lists every
POSIX lock with the pid of its owner in ``/proc/locks``, so one read of that file and two
``stat`` calls answer the question; when it names nobody, the processes that have the file open
(a scan of ``/proc/*/fd``, only those this user may read) are the next best answer. Without
``/proc`` (macOS, Windows) the answer is empty and the message says only that the database is
locked. This runs once, after a timeout of seconds, so its cost does not matter.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["LockHolder", "describe_lock_holders", "lock_holders", "processes_with_open"]

WAL_WRITE_LOCK = 120  # offset in the -shm file (SQLite's wal.c: WALINDEX_LOCK_OFFSET + 0)
_ROLLBACK_LOCKS = range(0x40000000, 0x40000000 + 512)  # PENDING, RESERVED, SHARED bytes
_MAX_LISTED = 5


@dataclass(frozen=True)
class LockHolder:
    pid: int
    command: str  # the program name (/proc/PID/comm), never its arguments: they may hold secrets

    def describe(self) -> str:
        own = " (this process)" if self.pid == os.getpid() else ""
        return f"pid {self.pid} ({self.command}){own}"


def lock_holders(database: str | Path, *, proc: Path = Path("/proc")) -> list[LockHolder]:
    """Processes holding a write lock on ``database`` (WAL or rollback journal), by pid."""
    targets = _identities(Path(database))
    if not targets:
        return []
    try:
        table = (proc / "locks").read_text()
    except OSError:
        return []
    pids: list[int] = []
    for line in table.splitlines():
        fields = line.split()
        if "->" in fields or len(fields) < 8:
            continue  # a process waiting for a lock, not holding it
        _, kind, _, access, pid, ident, start, end = fields[:8]
        if kind != "POSIX" or access != "WRITE" or not pid.isdigit():
            continue
        device, inode = _inode_key(ident)
        role = targets.get((device, inode)) or targets.get((-1, inode))
        if role is None or not _covers(role, start, end):
            continue
        if int(pid) not in pids:
            pids.append(int(pid))
    return [LockHolder(pid, _command(proc, pid)) for pid in pids[:_MAX_LISTED]]


def processes_with_open(database: str | Path, *, proc: Path = Path("/proc")) -> list[LockHolder]:
    """Other processes with ``database`` open (those whose ``/proc/PID/fd`` this user may read)."""
    try:
        wanted = Path(database).resolve()
        entries = list(proc.iterdir())
    except OSError:
        return []
    found: list[LockHolder] = []
    for entry in entries:
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            links = [os.readlink(fd) for fd in (entry / "fd").iterdir()]
        except OSError:
            continue  # gone, or another user's
        if str(wanted) in links:
            found.append(LockHolder(int(entry.name), _command(proc, int(entry.name))))
            if len(found) == _MAX_LISTED:
                break
    return found


def describe_lock_holders(database: str | Path) -> str:
    """Who holds the write lock, for a message: ``pid 8618 (python3) holds the write lock``,
    the processes that have the file open when no holder shows, or a plain statement."""
    holders = lock_holders(database)
    if holders:
        verb = "holds" if len(holders) == 1 else "hold"
        return f"{', '.join(h.describe() for h in holders)} {verb} the write lock"
    openers = processes_with_open(database)
    if openers:
        return "another process holds the write lock; open in " + ", ".join(
            h.describe() for h in openers
        )
    return "another process holds the write lock"


def _identities(database: Path) -> dict[tuple[int, int], str]:
    """(device, inode) of the database file and its ``-shm`` file, each with its role."""
    found: dict[tuple[int, int], str] = {}
    for path, role in ((database, "db"), (Path(f"{database}-shm"), "shm")):
        try:
            st = path.stat()
        except OSError:
            continue
        found[(st.st_dev, st.st_ino)] = role
        found.setdefault((-1, st.st_ino), role)  # when /proc/locks names another device
    return found


def _inode_key(ident: str) -> tuple[int, int]:
    """``fe:00:2359426`` (major and minor in hex, inode in decimal) as a (device, inode) key."""
    try:
        major, minor, inode = ident.split(":")
        return os.makedev(int(major, 16), int(minor, 16)), int(inode)
    except ValueError:
        return (-2, -2)


def _covers(role: str, start: str, end: str) -> bool:
    low = int(start) if start.isdigit() else 0
    high = int(end) if end.isdigit() else 2**63  # "EOF": to the end of the file
    if role == "shm":
        return low <= WAL_WRITE_LOCK <= high
    return low <= _ROLLBACK_LOCKS[-1] and high >= _ROLLBACK_LOCKS[0]


def _command(proc: Path, pid: int | str) -> str:
    try:
        return (proc / str(pid) / "comm").read_text().strip() or "?"
    except OSError:
        return "?"
