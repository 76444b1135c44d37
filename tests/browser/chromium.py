"""Headless Chromium driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``).

The pipe needs no WebSocket client and no port: Chromium reads NUL-terminated JSON commands on
file descriptor 3 and writes replies and events on descriptor 4. That is enough to open a page,
find the platform fonts Chromium actually used for a node's text, take screenshots of parts of
the page and print it to PDF — what the CJK font tests need, without a browser downloaded by
npm. Debian's ``chromium`` package is expected at ``/usr/bin/chromium``.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

#: As root, on a closed network: no sandbox (it refuses root), no GPU, and nothing that phones
#: home (background networking would otherwise flood the log with refused connections).
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--mute-audio",
    "--hide-scrollbars",
    "--remote-debugging-pipe",
)
TIMEOUT = 20.0


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


class CdpError(RuntimeError):
    """Chromium answered a command with an error, or did not answer in time."""


class Browser:
    """One Chromium process and one page (a flattened target session)."""

    def __init__(self, executable: str, profile: Path) -> None:
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()
        # Chromium wants the pipe on descriptors 3 (its input) and 4 (its output).
        self._proc = subprocess.Popen(
            [executable, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(3, 4),
            preexec_fn=_dup_to(to_child_r, from_child_w),
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self._buffer = b""
        self._next_id = 0
        self._events: list[dict[str, Any]] = []
        self.session: str | None = None
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        attached = self.send("Target.attachToTarget", targetId=target, flatten=True)
        self.session = attached["sessionId"]
        for domain in ("Page", "DOM", "CSS", "Runtime"):
            self.send(f"{domain}.enable")

    def close(self) -> None:
        try:
            self.session = None
            self.send("Browser.close")
        except (CdpError, OSError):
            pass
        finally:
            for fd in (self._to_child, self._from_child):
                with suppress(OSError):
                    os.close(fd)
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()

    # --- the protocol -----------------------------------------------------------------------

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if self.session is not None and not method.startswith(("Target.", "Browser.")):
            message["sessionId"] = self.session
        os.write(self._to_child, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + TIMEOUT
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise CdpError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply.get("result", {})
                return result
            if "method" in reply:
                self._events.append(reply)

    def wait_for(self, event: str) -> dict[str, Any]:
        deadline = time.monotonic() + TIMEOUT
        while True:
            for i, seen in enumerate(self._events):
                if seen["method"] == event:
                    del self._events[: i + 1]
                    return seen
            self._events.append(self._read(deadline))

    def _read(self, deadline: float) -> dict[str, Any]:
        import select

        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise CdpError("Chromium did not answer in time")
            ready, _, _ = select.select([self._from_child], [], [], left)
            if ready:
                chunk = os.read(self._from_child, 1 << 20)
                if not chunk:
                    raise CdpError("Chromium closed the DevTools pipe")
                self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        parsed: dict[str, Any] = json.loads(raw)
        return parsed

    # --- what the tests ask ----------------------------------------------------------------

    def open(self, path: Path) -> None:
        self._events.clear()
        self.send("Page.navigate", url=path.resolve().as_uri())
        self.wait_for("Page.loadEventFired")
        # Web fonts and fontconfig fallback are settled once document.fonts is ready.
        self.evaluate("document.fonts.ready.then(() => true)")

    def evaluate(self, expression: str) -> Any:
        reply = self.send(
            "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
        )
        if "exceptionDetails" in reply:
            raise CdpError(f"script failed: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    def node(self, selector: str) -> int:
        root = self.send("DOM.getDocument", depth=0)["root"]["nodeId"]
        found = self.send("DOM.querySelector", nodeId=root, selector=selector)["nodeId"]
        if not found:
            raise CdpError(f"no element matches {selector!r}")
        return int(found)

    def platform_fonts(self, selector: str) -> list[dict[str, Any]]:
        """The fonts Chromium really drew the element's own text with, and how many glyphs each
        (``CSS.getPlatformFontsForNode``): the truth about fallback, whatever the CSS asked."""
        fonts: list[dict[str, Any]] = self.send(
            "CSS.getPlatformFontsForNode", nodeId=self.node(selector)
        )["fonts"]
        return fonts

    def screenshot(self, clip: dict[str, float]) -> bytes:
        data = self.send(
            "Page.captureScreenshot", format="png", clip={**clip, "scale": 1}, fromSurface=True
        )["data"]
        return base64.b64decode(data)

    def print_pdf(self) -> bytes:
        data = self.send("Page.printToPDF", printBackground=True, preferCSSPageSize=True)["data"]
        return base64.b64decode(data)


def _dup_to(read_fd: int, write_fd: int) -> Any:
    def child() -> None:
        import fcntl

        # Out of the way first: either end may itself be descriptor 3 or 4.
        high_read = fcntl.fcntl(read_fd, fcntl.F_DUPFD, 10)
        high_write = fcntl.fcntl(write_fd, fcntl.F_DUPFD, 10)
        os.dup2(high_read, 3)
        os.dup2(high_write, 4)

    return child


@contextmanager
def browser(executable: str) -> Iterator[Browser]:
    with tempfile.TemporaryDirectory(prefix="zhenshen-chromium-") as profile:
        page = Browser(executable, Path(profile))
        try:
            yield page
        finally:
            page.close()
