"""A TCP relay between the store and the test server that a test can pause or cut.

Pausing stops forwarding in both directions while both sockets stay open, which is what a
client sees of a frozen server (SIGSTOP, a hung disk, a paused VM): its kernel still
acknowledges everything, nothing ever answers. Unlike signalling the server itself, it touches
no process other tests share. ``lose_answer_to`` forwards one client message to the server,
lets the server answer, drops the answer and closes the client's side: the client is left not
knowing whether, say, its ``COMMIT`` went through (it did). ``hold_answer_to`` instead
pauses the relay when that answer arrives: the server froze right after committing.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from urllib.parse import urlsplit, urlunsplit


class Proxy:
    """Relays 127.0.0.1:``port`` to ``upstream``; one pair of threads per connection."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._running = threading.Event()
        self._running.set()  # cleared while paused
        self._closed = threading.Event()
        self._lose_after: bytes | None = None
        self._losing: set[int] = set()
        self._hold: bool = False
        self._guard = threading.Lock()
        self._sockets: list[socket.socket] = []
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    @classmethod
    def to(cls, url: str) -> Proxy:
        parts = urlsplit(url)
        return cls((parts.hostname or "127.0.0.1", parts.port or 5432))

    def url(self, url: str) -> str:
        """``url`` with its host and port replaced by the proxy's."""
        parts = urlsplit(url)
        user = parts.netloc.rpartition("@")[0]
        netloc = f"{user}@127.0.0.1:{self.port}" if user else f"127.0.0.1:{self.port}"
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def lose_answer_to(self, marker: bytes) -> None:
        """The next client message holding ``marker`` reaches the server; its answer does not
        reach the client, whose connection is closed instead."""
        with self._guard:
            self._lose_after = marker

    def hold_answer_to(self, marker: bytes) -> None:
        """Like :meth:`lose_answer_to`, except that the relay pauses (every connection) when the
        answer arrives, and delivers it only on :meth:`resume`."""
        with self._guard:
            self._lose_after, self._hold = marker, True

    def close(self) -> None:
        self._closed.set()
        self._running.set()
        with self._guard:
            sockets, self._sockets = self._sockets, []
        for sock in [self._listener, *sockets]:
            with contextlib.suppress(OSError):
                sock.close()

    def __enter__(self) -> Proxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- relaying ----------------------------------------------------------------------------

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
                server = socket.create_connection(self.upstream)
            except OSError:
                return
            with self._guard:
                self._sockets += [client, server]
                self.connections += 1
            pair = (client, server)
            threading.Thread(target=self._pump, args=(pair, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(pair, False), daemon=True).start()

    def _pump(self, pair: tuple[socket.socket, socket.socket], upward: bool) -> None:
        client, server = pair
        source, target = (client, server) if upward else (server, client)
        try:
            while True:
                self._running.wait()
                data = source.recv(65536)
                if not data or self._closed.is_set():
                    break
                self._running.wait()  # paused while this block was on its way: hold it
                if upward:
                    with self._guard:
                        if self._lose_after is not None and self._lose_after in data:
                            self._lose_after = None
                            self._losing.add(id(client))
                elif id(client) in self._losing:
                    if not self._hold:
                        break  # the server answered; the client never hears it
                    self._losing.discard(id(client))
                    self.pause()
                    self._running.wait()
                target.sendall(data)
        except OSError:
            pass
        for sock in pair:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
