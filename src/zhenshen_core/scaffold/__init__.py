"""Scaffolds for ``zhenshen new``: a rule-pack distribution or a plugin distribution.

Each scaffold is a complete, installable distribution whose own tests pass the moment it is
written, so a district starts from green and every later red is its own change. Templates live
in ``templates/<kind>/`` (Jinja2, ``StrictUndefined`` so a missing variable fails loudly);
``__module__`` in a path becomes the Python package name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

import jinja2

from zhenshen_core.errors import ZhenshenError

#: Plugin kinds ``zhenshen new plugin`` knows, with the hook each one implements.
PLUGIN_KINDS: dict[str, tuple[str, str]] = {
    "storage": ("zhenshen_storage_backends", "a storage backend"),
    "intake": ("zhenshen_intake_channels", "an intake channel"),
    "calendar": ("zhenshen_calendars", "a working-day calendar"),
    "renderer": ("zhenshen_renderers", "a letter renderer"),
}

_PACK_ID = re.compile(r"^[a-z][a-z0-9]*([._-][a-z0-9]+)*$")
_PLUGIN_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")

_NEXT_STEPS = {
    "storage": "Replace the methods of the store class with calls to your database; the "
    "contract suite in `tests/` (`zhenshen_core.testing.storage_contract`) keeps you "
    "honest.",
    "intake": "Adapt `COLUMNS` and `read` to the channel's export format. Ingest with "
    "`zhenshen ingest {name} FILE`.",
    "calendar": "List the local rest days and working days in `days.yaml`, each with its notice. "
    "A pack selects the calendar with `calendar: {name}`.",
    "renderer": "Change `render` to produce your document format; letters are rendered with "
    "`--renderer {name}`.",
}


class ScaffoldError(ZhenshenError):
    """Bad name or an occupied target folder; a usage error (exit 2)."""

    exit_code = 2


@dataclass(frozen=True)
class Scaffold:
    """What was written: the distribution folder and its files (relative paths)."""

    root: Path
    files: tuple[Path, ...]


def _env() -> jinja2.Environment:
    return jinja2.Environment(
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # the output is source code, not HTML
    )


def _templates(folder: Traversable, prefix: str = "") -> list[tuple[str, Traversable]]:
    found: list[tuple[str, Traversable]] = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name == "__pycache__":
            continue
        rel = f"{prefix}{entry.name}"
        if entry.is_dir():
            found.extend(_templates(entry, rel + "/"))
        elif entry.name.endswith(".j2"):
            found.append((rel[: -len(".j2")], entry))
    return found


def _target(dest: Path) -> Path:
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise ScaffoldError(f"{dest} already exists and is not empty; choose another --output")
    return dest


def _write(kinds: list[str], dest: Path, variables: dict[str, object]) -> Scaffold:
    env = _env()
    root = resources.files("zhenshen_core.scaffold") / "templates"
    rendered: list[tuple[Path, str]] = []
    for kind in kinds:
        for rel, template in _templates(root / kind):
            path = Path(rel.replace("__module__", str(variables["module"])))
            text = env.from_string(template.read_text(encoding="utf-8")).render(**variables)
            rendered.append((path, text))
    _target(dest).mkdir(parents=True, exist_ok=True)
    for path, text in rendered:
        (dest / path).parent.mkdir(parents=True, exist_ok=True)
        (dest / path).write_text(text, encoding="utf-8")
    return Scaffold(dest, tuple(p for p, _ in rendered))


def _slug(name: str) -> str:
    return re.sub(r"[._-]+", "-", name.lower())


def new_pack(name: str, dest: Path | None = None, *, extends: str | None = None) -> Scaffold:
    """Write a rule-pack distribution for pack id ``name`` (e.g. ``cn.chengdu.wuhou``).

    With ``extends`` the pack adds one rule to the base pack; otherwise it is a standalone pack
    with severity levels, two departments, two experts and a domain.
    """
    if not _PACK_ID.match(name):
        raise ScaffoldError(
            f"pack id {name!r}: use lower-case letters and digits separated by '.', '-' or '_' "
            "(e.g. cn.chengdu.wuhou)"
        )
    if extends is not None and not _PACK_ID.match(extends):
        raise ScaffoldError(f"--extends {extends!r} is not a pack id (e.g. cn.chengdu.gaoxin)")
    slug = _slug(name)
    module = "zhenshen_pack_" + slug.replace("-", "_")
    dist = "zhenshen-pack-" + slug
    last = slug.rsplit("-", 1)[-1]
    variables: dict[str, object] = {
        "pack_id": name,
        "dist": dist,
        "module": module,
        "ep_name": f"pack-{slug}",
        "extends": extends,
        "rule_id": f"{last}.example" if extends else "severity.cannot-operate",
        "tag": f"{last}-示例",
    }
    return _write(["pack"], dest or Path(dist), variables)


def new_plugin(kind: str, name: str, dest: Path | None = None) -> Scaffold:
    """Write a plugin distribution of ``kind`` registering ``name``."""
    if kind not in PLUGIN_KINDS:
        raise ScaffoldError(
            f"unknown plugin kind {kind!r}; choose one of: {', '.join(PLUGIN_KINDS)}"
        )
    if not _PLUGIN_NAME.match(name):
        raise ScaffoldError(
            f"plugin name {name!r}: use lower-case letters and digits separated by '-' "
            "(e.g. wuhou-calendar)"
        )
    hook, what = PLUGIN_KINDS[kind]
    module = "zhenshen_" + name.replace("-", "_")
    variables: dict[str, object] = {
        "kind": kind,
        "name": name,
        "dist": f"zhenshen-{name}",
        "module": module,
        "ep_name": name,
        "hook": hook,
        "summary": f"{what[0].upper()}{what[1:]} for zhenshen-core: {name}.",
        "class_name": "".join(part.capitalize() for part in name.split("-")),
        "next_steps": _NEXT_STEPS[kind].format(name=name),
    }
    return _write(["_plugin", kind], dest or Path(f"zhenshen-{name}"), variables)


__all__ = ["PLUGIN_KINDS", "Scaffold", "ScaffoldError", "new_pack", "new_plugin"]
