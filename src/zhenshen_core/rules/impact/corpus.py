"""The corpus ``zhenshen diff`` reads: JSON Lines, an intake channel's file or a store URL,
streamed as raw records (line, payload, error); and the pack references workers load."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zhenshen_core.errors import ZhenshenError
from zhenshen_core.rules.pack.model import ResolvedPack
from zhenshen_core.textio import open_stream

Record = tuple[int, str | Mapping[str, Any] | None, str | None]  # line, payload, error


class CorpusError(ZhenshenError):
    """The corpus cannot be read at all (missing file, unknown format, bad store URL)."""

    exit_code = 3


# --- corpus -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PackRef:
    """How a worker process finds a pack again (packs are loaded, never pickled)."""

    source: str
    search_paths: tuple[str, ...] = ()
    plugin_packs: tuple[tuple[str, str], ...] = ()
    actions: tuple[str, ...] | None = None

    def load(self) -> ResolvedPack:
        from zhenshen_core.rules.pack.loader import load_pack

        return load_pack(
            self.source,
            search_paths=self.search_paths,
            plugin_packs=dict(self.plugin_packs),
            actions=self.actions,
            analyse=False,
        )


def _jsonl_lines(source: str) -> Iterator[Record]:
    # A line that is not UTF-8 is reported where it fails to parse or validate (``chunk``).
    with open_stream(source) as stream:
        for number, line in enumerate(stream, start=1):
            if line.strip():
                yield number, line, None


def _from_intake(records: Iterator[Any]) -> Iterator[Record]:
    for record in records:
        yield (record.line or 0), record.data, record.error


def _from_store(url: str) -> Iterator[Record]:
    from zhenshen_core.model.lifecycle import dump_case
    from zhenshen_core.plugins import PluginConfig, PluginHost
    from zhenshen_core.storage.url import open_store

    store = open_store(url, PluginHost(PluginConfig.from_env()))
    for number, case in enumerate(store.query(), start=1):
        yield number, dump_case(case), None


def read_corpus(source: str) -> Iterator[Record]:
    """Records of a corpus: JSON Lines (``.jsonl``/``.ndjson``/``-``), CSV, a JSON array, or a
    store URL (``sqlite:///cases.db`` …)."""
    from zhenshen_core.intake.readers import read_csv, read_json

    if "://" in source:
        return _from_store(source)
    if source != "-" and not Path(source).is_file():
        raise CorpusError(f"corpus {source!r}: no such file")
    suffix = Path(source).suffix.lower()
    if source == "-" or suffix in (".jsonl", ".ndjson", ""):
        return _jsonl_lines(source)
    if suffix == ".csv":
        return _from_intake(read_csv(source))
    if suffix == ".json":
        return _from_intake(read_json(source))
    raise CorpusError(
        f"corpus {source!r}: unknown format {suffix!r}; use .jsonl, .csv, .json or a store URL"
    )


__all__ = ["CorpusError", "PackRef", "Record", "read_corpus"]
