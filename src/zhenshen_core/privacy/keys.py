"""Master keys: where the key that wraps every data key comes from.

Personal data at rest is encrypted with one data key per case (or dead letter); the data keys
are stored *wrapped* (encrypted) by one master key that never enters the database. This module
reads that master key, in this order:

1. a key file named by the store URL (``?pii_key_file=PATH``) or by the caller;
2. ``ZHENSHEN_PII_KEY``: the key itself, 32 bytes as base64 (or 64 hex digits);
3. ``ZHENSHEN_PII_KEY_FILE``: a file holding that text;
4. for a SQLite file only: ``<database>.pii-key`` beside it, generated (mode 0600, with a
   warning) on first use, so the embedded default works with no set-up.

A key is known in the database only by its *key id* (eight bytes of an HMAC of the key), which
names the key that wrapped each data key: rotation (``zhenshen privacy rotate-key``) finds what
still needs rewrapping, and a wrong key is reported as such instead of as corrupt data. No
message ever contains a key or part of one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from zhenshen_core.errors import PersonalDataKeyError

__all__ = [
    "ENV_KEY",
    "ENV_KEY_FILE",
    "ENV_OLD_KEY",
    "ENV_OLD_KEY_FILE",
    "KEY_BYTES",
    "MasterKey",
    "PersonalDataWarning",
    "default_key_file",
    "generate_key_file",
    "new_key_text",
    "parse_key",
    "read_key_file",
    "resolve_master_key",
    "resolve_old_key",
]

ENV_KEY = "ZHENSHEN_PII_KEY"
ENV_KEY_FILE = "ZHENSHEN_PII_KEY_FILE"
ENV_OLD_KEY = "ZHENSHEN_PII_OLD_KEY"
ENV_OLD_KEY_FILE = "ZHENSHEN_PII_OLD_KEY_FILE"
KEY_BYTES = 32
#: The key file a SQLite database gets when no key is configured: beside the database.
KEY_FILE_SUFFIX = ".pii-key"


class PersonalDataWarning(UserWarning):
    """Personal data is protected less than it should be (a generated key beside the data,
    or a store with no key at all)."""


@dataclass(frozen=True)
class MasterKey:
    """A 256-bit master key and where it came from (``source`` is shown, the key never)."""

    secret: bytes = field(repr=False)
    source: str

    def __post_init__(self) -> None:
        if len(self.secret) != KEY_BYTES:
            raise PersonalDataKeyError(
                f"{self.source}: a master key is {KEY_BYTES} bytes, got {len(self.secret)}"
            )

    @cached_property
    def key_id(self) -> str:
        """16 hex digits naming the key (an HMAC of a constant, so the key stays secret);
        computed once, since every data key wrapped (one per case stored) is labelled with it."""
        return hmac.new(self.secret, b"zhenshen master key id", hashlib.sha256).hexdigest()[:16]

    @classmethod
    def generate(cls, source: str = "a generated key") -> MasterKey:
        return cls(secrets.token_bytes(KEY_BYTES), source)


def new_key_text() -> str:
    """A fresh key as the text ``ZHENSHEN_PII_KEY`` and key files hold (base64)."""
    return base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")


def parse_key(text: str, source: str) -> MasterKey:
    """A key written as base64 (standard or URL-safe) or hex; ``source`` names where it was
    read, for the error message, which never repeats the text."""
    value = text.strip()
    raw: bytes | None = None
    if len(value) == 2 * KEY_BYTES:
        try:
            raw = bytes.fromhex(value)
        except ValueError:
            raw = None
    if raw is None:
        try:
            raw = base64.b64decode(value.replace("-", "+").replace("_", "/"), validate=True)
        except (binascii.Error, ValueError):
            raw = None
    if raw is None or len(raw) != KEY_BYTES:
        raise PersonalDataKeyError(
            f"{source} is not a master key: write {KEY_BYTES} random bytes as base64 "
            "(e.g. the output of `zhenshen privacy new-key`) or as 64 hex digits"
        )
    return MasterKey(raw, source)


def read_key_file(path: str | Path) -> MasterKey:
    target = Path(path)
    try:
        text = target.read_text(encoding="ascii")
    except FileNotFoundError:
        raise PersonalDataKeyError(f"key file {str(target)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not ASCII text"
        raise PersonalDataKeyError(f"cannot read key file {str(target)!r}: {reason}") from None
    return parse_key(text, f"key file {str(target)!r}")


def generate_key_file(path: str | Path) -> MasterKey:
    """Write a new key to ``path`` (which must not exist), readable by its owner only."""
    target = Path(path)
    text = new_key_text()
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return read_key_file(target)  # another process made it first: use theirs
    except OSError as exc:
        raise PersonalDataKeyError(
            f"cannot create key file {str(target)!r}: {exc.strerror}"
        ) from None
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(text + "\n")
    return parse_key(text, f"key file {str(target)!r}")


def default_key_file(database: str | Path) -> Path:
    """Where a SQLite database's generated key lives: ``cases.db`` → ``cases.db.pii-key``."""
    target = Path(database)
    return target.with_name(target.name + KEY_FILE_SUFFIX)


def resolve_master_key(
    *,
    key_file: str | Path | None = None,
    beside: str | Path | None = None,
    create: bool = True,
    environ: Mapping[str, str] | None = None,
) -> MasterKey | None:
    """The master key configured for a store, or None when none is.

    ``key_file`` (a store URL's ``pii_key_file``) wins over the environment; ``beside`` is a
    SQLite database path whose default key file is read, or generated when ``create`` (with a
    :class:`PersonalDataWarning`, once: later opens find the file).
    """
    env = os.environ if environ is None else environ
    if key_file is not None:
        return read_key_file(key_file)
    if env.get(ENV_KEY):
        return parse_key(env[ENV_KEY], ENV_KEY)
    if env.get(ENV_KEY_FILE):
        return read_key_file(env[ENV_KEY_FILE])
    if beside is None:
        return None
    path = default_key_file(beside)
    if path.is_file() or not create:
        return read_key_file(path) if path.is_file() else None
    key = generate_key_file(path)
    warnings.warn(
        PersonalDataWarning(
            f"no master key configured: generated {str(path)!r} (mode 0600) to encrypt "
            "personal data; whoever copies it with the database can read the data, so keep "
            f"the key elsewhere ({ENV_KEY} or {ENV_KEY_FILE}; "
            "docs/howto/protect-personal-information.md)"
        ),
        stacklevel=2,
    )
    return key


def resolve_old_key(
    old_key_file: str | Path | None = None, environ: Mapping[str, str] | None = None
) -> MasterKey | None:
    """The key being rotated away from: ``--old-key-file``, ``ZHENSHEN_PII_OLD_KEY`` or
    ``ZHENSHEN_PII_OLD_KEY_FILE``."""
    env = os.environ if environ is None else environ
    if old_key_file is not None:
        return read_key_file(old_key_file)
    if env.get(ENV_OLD_KEY):
        return parse_key(env[ENV_OLD_KEY], ENV_OLD_KEY)
    if env.get(ENV_OLD_KEY_FILE):
        return read_key_file(env[ENV_OLD_KEY_FILE])
    return None
