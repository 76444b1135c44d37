"""One service's state: its store, plugin host, desks, API key cache and JWT verifier.

The desks are replaced whole on a reload: every pack is loaded first, and only when all of
them load is the new mapping swapped in (one assignment, so a request sees the old desks or the
new ones, never a mix). A pack with errors leaves the old desks in service and the errors are
returned, each located at its file:line:column.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import MappingProxyType

from jwt import PyJWTError

from zhenshen_core import Desk, PluginConfig, PluginHost
from zhenshen_core.deadlines import CalendarPolicy, national_calendar
from zhenshen_core.storage import open_store
from zhenshen_core.storage.protocol import CaseStore
from zhenshen_server.auth import JwtVerifier
from zhenshen_server.casecache import CaseCache
from zhenshen_server.changes import StoreChanges, is_postgres
from zhenshen_server.created import IngestWatch
from zhenshen_server.keycache import KeyCache
from zhenshen_server.settings import Settings

#: A side-record kind nothing writes: reading it asks the store for an answer, cheaply.
PROBE_KIND = "zhenshen_server.readiness_probe"


class PackLoadFailed(Exception):
    """Some pack failed to load; ``problems`` are located diagnostics, per desk."""

    def __init__(self, problems: list[dict[str, str]]) -> None:
        super().__init__(f"{len(problems)} problem(s) loading the packs")
        self.problems = problems


@dataclass(frozen=True)
class LoadedDesk:
    id: str
    source: str
    desk: Desk
    loaded_at: datetime


class ServiceState:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.host = PluginHost(PluginConfig.from_env())
        self.store: CaseStore = open_store(settings.store_url, self.host)
        # Memory answers (API keys, case bodies) only where the store announces changes.
        url = settings.store_url
        self.changes = StoreChanges(url) if is_postgres(url) else None
        self.keys = KeyCache(self.store, self.changes)
        self.cases = CaseCache(self.changes)
        jwt = settings.jwt()
        self.verifier: JwtVerifier | None = jwt.verifier() if jwt is not None else None
        self._lock = threading.Lock()
        self._desks: Mapping[str, LoadedDesk] = MappingProxyType(self._load())

    @property
    def desks(self) -> Mapping[str, LoadedDesk]:
        return self._desks

    def desk(self, desk_id: str) -> LoadedDesk | None:
        return self._desks.get(desk_id)

    def reload(self) -> Mapping[str, LoadedDesk]:
        """Load every pack (and a JWKS file) again; raises :class:`PackLoadFailed` and keeps
        the old desks. A JWKS file that cannot be read raises too, and nothing changes."""
        with self._lock:
            loaded = self._load()
            verifier = self._verifier()  # a rotated JWKS file
            self._desks = MappingProxyType(loaded)
            self.verifier = verifier
            return self._desks

    def _verifier(self) -> JwtVerifier | None:
        jwt = self.settings.jwt()
        if jwt is None:
            return None
        try:
            return jwt.verifier()
        except (OSError, ValueError, PyJWTError) as exc:  # a missing file, bad JSON, no key
            raise PackLoadFailed([{"desk": "-", "pack": jwt.jwks,
                                   "problem": f"the JWKS cannot be read ({type(exc).__name__})"}]
                                 ) from None

    def _load(self) -> dict[str, LoadedDesk]:
        from zhenshen_core.rules import PackError, load_pack

        policy = CalendarPolicy(self.settings.calendar_policy)
        calendar = national_calendar(policy)
        plugin_packs = {pid: rec.path for pid, rec in self.host.rule_packs().items()}
        actions = set(self.host.rule_actions())
        problems: list[dict[str, str]] = []
        desks: dict[str, LoadedDesk] = {}
        for desk_id, source in self.settings.desks.items():
            pack = None
            if source:
                try:
                    pack = load_pack(
                        source,
                        search_paths=[Path(p) for p in self.settings.pack_paths],
                        plugin_packs=plugin_packs,
                        actions=actions,
                    )
                except PackError as exc:
                    problems.extend(
                        {"desk": desk_id, "pack": source, "problem": str(d)}
                        for d in exc.diagnostics
                    )
                    continue
            desk = Desk(IngestWatch(self.store), pack=pack, host=self.host,
                        calendar=calendar)
            desks[desk_id] = LoadedDesk(desk_id, source, desk, desk.now())
        if problems:
            raise PackLoadFailed(problems)
        return desks

    def ready(self) -> list[str]:
        """What keeps the service from being ready; empty when it is."""
        problems = []
        try:
            self.store.records(PROBE_KIND)  # one indexed read, however many cases
        except Exception as exc:  # any failure of the store means not ready
            problems.append(f"store unreachable ({type(exc).__name__})")
        if not self._desks:
            problems.append("no desk loaded")
        return problems

    def close(self) -> None:
        if self.changes is not None:
            self.changes.close()
        self.store.close()
