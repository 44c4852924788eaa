"""A real HTTP server on 127.0.0.1 serving a release tree, for the `relink fetch` tests.

`ReleaseHTTPServer(root)` serves the files under `root` (GitHub-like: `/latest-release.json`, `/TAG/ASSET`)
from a thread, supports `Range: bytes=N-` (206 with Content-Range, 416 past the end), records every request,
and can be told to fail: `fail[path] = status` answers with that status, `cuts[path] = [n, …]` makes the next
responses for `path` stop after n body bytes and close the connection, `drops[path] = n` closes the next n
connections for `path` without any answer, and `chunk_delay` slows every body chunk (so concurrent downloads
overlap).
"""

from __future__ import annotations

import http.server
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

__all__ = ["ReleaseHTTPServer", "RecordedRequest", "closed_port"]

_CHUNK = 1 << 16


@dataclass(frozen=True)
class RecordedRequest:
    path: str
    range: str | None
    status: int


class ReleaseHTTPServer:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.fail: dict[str, int] = {}
        self.cuts: dict[str, list[int]] = {}
        self.drops: dict[str, int] = {}
        self.chunk_delay = 0.0
        self._log: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def requests(self, path: str | None = None) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self._log if path is None or r.path == path]

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def _record(self, path: str, range_header: str | None, status: int) -> None:
        with self._lock:
            self._log.append(RecordedRequest(path, range_header, status))

    def _next_cut(self, path: str) -> int | None:
        with self._lock:
            queue = self.cuts.get(path)
            return queue.pop(0) if queue else None

    def _take_drop(self, path: str) -> bool:
        with self._lock:
            if self.drops.get(path, 0) <= 0:
                return False
            self.drops[path] -= 1
            return True

    def _handler_class(self) -> type[http.server.BaseHTTPRequestHandler]:
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # keep pytest output clean
                pass

            def _status_only(self, path: str, status: int) -> None:
                server._record(path, self.headers.get("Range"), status)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True

            def do_GET(self) -> None:
                path = unquote(urlsplit(self.path).path)
                if server._take_drop(path):
                    server._record(path, self.headers.get("Range"), 0)
                    self.close_connection = True
                    return
                if path in server.fail:
                    return self._status_only(path, server.fail[path])
                file = server.root / path.lstrip("/")  # may be a symlink to a cached archive
                if ".." in Path(path).parts or not file.is_file():
                    return self._status_only(path, 404)
                size = file.stat().st_size
                start, status = 0, 200
                range_header = self.headers.get("Range")
                if range_header:
                    start = int(range_header.removeprefix("bytes=").split("-")[0])
                    if start >= size:
                        return self._status_only(path, 416)
                    status = 206
                server._record(path, range_header, status)
                self.send_response(status)
                self.send_header("Content-Length", str(size - start))
                if status == 206:
                    self.send_header("Content-Range", f"bytes {start}-{size - 1}/{size}")
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True
                cut = server._next_cut(path)
                remaining = size - start if cut is None else min(cut, size - start)
                with open(file, "rb") as handle:
                    handle.seek(start)
                    while remaining > 0:
                        chunk = handle.read(min(_CHUNK, remaining))
                        self.wfile.write(chunk)
                        remaining -= len(chunk)
                        if server.chunk_delay:
                            time.sleep(server.chunk_delay)
                self.wfile.flush()
                if cut is not None:  # end the connection mid-body (FIN after the bytes sent so far)
                    self.connection.shutdown(socket.SHUT_WR)

        return Handler


def closed_port() -> int:
    """A local TCP port nobody listens on (connections to it are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
