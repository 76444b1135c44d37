"""MemoryStore specifics: isolation from callers' objects and thread safety."""

from __future__ import annotations

import threading

from zhenshen_core.storage import MemoryStore, open_store
from zhenshen_core.testing.storage_contract import make_case, received


def test_mutating_a_returned_case_does_not_change_the_store() -> None:
    store = MemoryStore()
    case, events = received(make_case(1))
    store.ingest(case, events)
    got = store.get(case.id)
    got.tags.append("tampered")
    case.facts["amount_wan"] = -1
    assert store.get(case.id).tags == ["contract"]
    assert store.get(case.id).facts["amount_wan"] == 100


def test_concurrent_ingests_create_each_work_order_once() -> None:
    store = MemoryStore()
    barrier = threading.Barrier(4)
    created: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        barrier.wait()
        for n in range(40):
            result = store.ingest(*received(make_case(n)))
            if result.created:
                with lock:
                    created.append(result.case_id)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.count() == 40
    assert sorted(created) == sorted({make_case(n).id for n in range(40)})


def test_memory_url() -> None:
    store = open_store("memory://")
    assert isinstance(store, MemoryStore) and store.url == "memory://"
