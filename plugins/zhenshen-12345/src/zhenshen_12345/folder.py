"""The back-sync written to a folder the platform collects from: one JSON file per notice.

The file is named after the notice's idempotency key, and created only if absent (written
beside it, then linked into place), so a notice the outbox delivers again finds its file and
writes nothing: each event exactly once in the folder, and never a half-written file for the
platform to read (it only ever sees complete files named ``*.json``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from zhenshen_12345.backsync import status_document
from zhenshen_core.plugins import Notification

FOLDER_ENV = "ZHENSHEN_12345_OUTBOX"
DESK_ENV = "ZHENSHEN_DESK"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def file_name(document: dict[str, object]) -> str:
    """``<key>.json``, one file name per key: a key that is not already a plain name (letters,
    digits, ``.``, ``_``, ``-``; not hidden; not too long) is written plain as far as it can
    be, with a digest of the whole key after it, so two keys never share a file. A document
    without a key (a notification built by hand) is named by its content's digest."""
    key = str(document.get("key") or "")
    if not key:
        text = json.dumps(document, ensure_ascii=False, sort_keys=True)
        return "sha256-" + hashlib.sha256(text.encode()).hexdigest()[:32] + ".json"
    plain = _UNSAFE.sub("_", key)
    if plain == key and not key.startswith(".") and len(key) <= 150:
        return key + ".json"
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"{plain.lstrip('.')[:120]}-{digest}.json"


@dataclass(frozen=True)
class StatusFolder:
    """A notifier writing :func:`~zhenshen_12345.backsync.status_document` files."""

    folder: Path
    desk: str = "desk"

    def send(self, notification: Notification) -> None:
        """The notifier's ``send``: :meth:`write`."""
        self.write(notification)

    def write(self, notification: Notification) -> Path | None:
        """Write the notification's status document, unless it has none or is written already;
        the path written (or found), or None."""
        document = status_document(notification, desk=self.desk)
        if document is None:
            return None
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.folder / file_name(document)
        if target.exists():
            return target
        data = json.dumps(document, ensure_ascii=False, indent=2).encode() + b"\n"
        # A name of its own per writer (threads of one process too), hidden from the platform.
        handle, name = tempfile.mkstemp(dir=self.folder, prefix=f".{target.name}.", suffix=".tmp")
        temporary = Path(name)
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
                stream.flush()
                os.fsync(stream.fileno())
            os.link(temporary, target)  # atomic, and refuses to replace a file already there
        except FileExistsError:
            pass  # another delivery of the same notice won: the same document
        finally:
            temporary.unlink()
        return target


def from_environment() -> StatusFolder | None:
    """The folder ``$ZHENSHEN_12345_OUTBOX`` names (desk ``$ZHENSHEN_DESK``), or None."""
    folder = os.environ.get(FOLDER_ENV)
    if not folder:
        return None
    return StatusFolder(Path(folder), os.environ.get(DESK_ENV) or "desk")


__all__ = ["DESK_ENV", "FOLDER_ENV", "StatusFolder", "file_name", "from_environment"]
