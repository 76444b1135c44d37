"""Order-preserving work on both cores for streams of cases (``zhenshen diff``, ``eval``).

The parent reads the stream and ships chunks; each worker process builds its engines once (the
initializer) and turns chunks into results; results come back in stream order with at most
``2 × jobs`` chunks in flight, so memory stays flat however long the stream is. Packs travel as
references and are loaded in each worker, never pickled. The C extension of durable_rules never
releases the GIL, and neither does the compiled engine, so processes, not threads.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from itertools import islice
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from concurrent.futures import Future

T = TypeVar("T")
R = TypeVar("R")


def chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def ordered_pool(
    items: Iterable[T],
    work: Callable[[list[T]], R],
    *,
    jobs: int,
    chunk_size: int,
    initializer: Callable[..., None],
    initargs: tuple[Any, ...] = (),
) -> Generator[R, None, None]:
    """``work(chunk)`` for every chunk of ``items`` in worker processes, results in order.

    ``work`` and ``initializer`` must be module-level functions (they are pickled by name).
    """
    # Imported here: a single-process run (most runs) never pays for multiprocessing.
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    pool = ProcessPoolExecutor(
        max_workers=jobs,
        mp_context=multiprocessing.get_context(method),
        initializer=initializer,
        initargs=initargs,
    )
    pending: deque[Future[R]] = deque()
    try:
        for chunk in chunks(items, chunk_size):
            pending.append(pool.submit(work, chunk))
            if len(pending) >= 2 * jobs:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        # Also when the consumer stops early (an error, or ``| head`` closing the pipe): the
        # chunks not started are dropped, the running ones (at most ``jobs``) finish, and no
        # worker outlives the stream.
        pool.shutdown(wait=True, cancel_futures=True)
