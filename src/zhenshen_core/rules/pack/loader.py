"""Loading a pack: find it, read its YAML with positions (``source``), resolve ``extends``
(``extends``), check every rule (``check``) and build the ``ResolvedPack``.

Every problem is collected (not just the first) and reported as ``file:line:col: CODE message``
in one ``PackError``.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from zhenshen_core.echo import shown
from zhenshen_core.model.enums import Chair, Tier
from zhenshen_core.rules.diagnostics import (
    Diagnostic,
    PackError,
)
from zhenshen_core.rules.pack.check import PackChecker, date_facts_of
from zhenshen_core.rules.pack.extends import (
    InstalledPacks,
    Loader,
    MemoryLoader,
    Merged,
    resolve_source,
)
from zhenshen_core.rules.pack.model import (
    PackFile,
    ResolvedPack,
)


def load_pack(
    source: str | Path,
    *,
    search_paths: Sequence[str | Path] = (),
    plugin_packs: Mapping[str, str | Path] | None = None,
    actions: Collection[str] | None = None,
    analyse: bool = True,
) -> ResolvedPack:
    """Load, resolve, type-check and compile a pack.

    ``source`` is a pack folder, its ``pack.yaml`` or a pack id (looked up among
    ``plugin_packs`` and the ``search_paths`` folders, like every base named in ``extends``).
    ``plugin_packs`` maps pack ids to folders; left out, it is the packs of the installed
    plugins (the ``zhenshen`` entry points, unless ``ZHENSHEN_DISABLE_PLUGIN_AUTOLOAD`` is set),
    looked up only when an id is asked for, so ``load_pack("cn.chengdu.gaoxin")`` works as
    ``zhenshen eval --pack cn.chengdu.gaoxin`` does; pass ``{}`` to use ``search_paths`` alone.
    ``actions`` is the set of registered action names; when given, a rule naming any other
    action is an error (the CLI always passes the plugins' actions). Raises ``PackError`` listing
    every error; warnings (and, with ``analyse``, the static analysis of ``analysis.py``) are
    kept on ``ResolvedPack.warnings``.
    """
    paths = [Path(p) for p in search_paths]
    plugins = InstalledPacks() if plugin_packs is None else plugin_packs
    loader = Loader(paths, plugins, actions)
    folder = resolve_source(source, paths, plugins)
    return _finish(loader, folder, source, analyse)


def load_documents(
    packs: Mapping[str, Mapping[str, Any]],
    pack_id: str,
    *,
    actions: Collection[str] | None = None,
    analyse: bool = True,
) -> ResolvedPack:
    """Load ``pack_id`` from in-memory documents (``{id: {file name: parsed YAML}}``)."""
    loader = MemoryLoader(packs, actions)
    return _finish(loader, loader.find(pack_id), pack_id, analyse)


def _finish(loader: Loader, folder: Path | None, source: str | Path, analyse: bool) -> ResolvedPack:
    if folder is None:
        known = sorted(loader.index())
        close = difflib.get_close_matches(str(source), known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise PackError(
            [
                Diagnostic(
                    str(source), 1, 1, "P203", f"no pack folder or pack id {str(source)!r}{hint}"
                )
            ],
            summary=f"pack {str(source)!r} not found{hint}",
        )
    merged = loader.merged(folder, ())
    raw = loader.raw(folder)
    if merged is None or raw is None:
        raise PackError(loader.sink.items)
    if not merged.severity_levels:
        line, col = raw.loc.at(())
        loader.sink.error(
            raw.loc.file,
            line,
            col,
            "P201",
            "severity_levels is required (in this pack or a base pack)",
        )
        raise PackError(loader.sink.items)
    for name, enum in (("default_tier", Tier), ("default_chair", Chair)):
        value = getattr(merged, name)
        if value is not None and value not in {m.value for m in enum}:
            line, col = raw.loc.at((name,))
            loader.sink.error(
                raw.loc.file,
                line,
                col,
                "R104",
                f"{name} {shown(value)} is not one of: {', '.join(m.value for m in enum)}",
            )
    from zhenshen_core.rules.pack.analysis import analyse_pack

    checker = PackChecker(merged, merged.severity_levels, loader)
    checker.run()
    dates = date_facts_of(checker, loader.sink)
    resolved = _resolved(loader, folder, merged, raw, checker, dates)
    if loader.sink.errors:
        # The warnings of the static analysis too, on the rules that did compile: ``check``
        # reports everything at once, not the warnings only once every error is fixed.
        extra = analyse_pack(resolved) if analyse else []
        raise PackError([*loader.sink.items, *extra])
    if analyse:
        extra = analyse_pack(resolved)
        if extra:
            from dataclasses import replace

            resolved = replace(
                resolved,
                warnings=(*resolved.warnings, *extra),
                _by_stage={},
                level_rank={},
                _reads=set(),
            )
    return resolved


def _content_hash(merged: Merged, pack: PackFile) -> str:
    def dump(model: BaseModel) -> Any:
        return model.model_dump(mode="json", by_alias=True, exclude_defaults=True)

    content = {
        "id": pack.id,
        "version": pack.version,
        "severity_levels": list(merged.severity_levels or ()),
        "default_tier": merged.default_tier,
        "default_chair": merged.default_chair,
        "calendar": merged.calendar,
        "departments": [dump(d) for d in merged.departments.values()],
        "experts": [dump(e) for e in merged.experts.values()],
        "domains": [dump(d) for d in merged.domains.values()],
        "items": [dump(i.model) for i in merged.items.values()],
    }
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _resolved(
    loader: Loader,
    folder: Path,
    merged: Merged,
    raw: Any,
    checker: PackChecker,
    dates: frozenset[str] = frozenset(),
) -> ResolvedPack:
    return ResolvedPack(
        id=raw.pack.id,
        version=raw.pack.version,
        name=raw.pack.name,
        sha256=_content_hash(merged, raw.pack),
        severity_levels=merged.severity_levels or (),  # checked before compiling
        default_tier=merged.default_tier,
        default_chair=merged.default_chair,
        calendar=merged.calendar,
        departments=dict(merged.departments),
        experts=dict(merged.experts),
        domains=dict(merged.domains),
        rules=tuple(checker.specs),
        tables=tuple(checker.tables),
        crosscase=tuple(checker.crosscase),
        warnings=tuple(loader.sink.items),
        path=str(folder),
        lineage=tuple(merged.lineage),
        date_facts=dates,
        disabled=dict(merged.disabled),
    )


__all__ = ["load_documents", "load_pack"]
