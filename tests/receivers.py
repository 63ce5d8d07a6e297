"""A real HTTP receiver on loopback, for callbacks and token endpoints.

It records every request (method, path, headers, body) and answers what it is told: a queue of
one-off :class:`Reply` objects first, then the default reply. It runs in a thread of its own, so
it serves tests in any event loop and the server process alike, and a slow reply (``delay``)
blocks only that request's thread.

    with receiving() as receiver:
        receiver.reply(Reply(status=503, headers={"Retry-After": "7"}))  # the next request
        receiver.default = Reply(status=202)                              # all others
        ... receiver.url + "/callback" ...
        receiver.requests[0].json()

Its URL ends in a path of its own (``http://127.0.0.1:<port>/rx-<random>``), and it answers 404
to any other path without recording it: a callback meant for an earlier test's receiver, which
had the same port (the test hubs keep retrying what they could not deliver), is neither taken
for this test's nor retried again (a 4xx fails a delivery). ``Received.path`` is the path after
that prefix, as the test wrote it after ``receiver.url``.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    method: str
    path: str  # with the query string
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (any case), or ``None``."""
        return next((v for n, v in self.headers if n.lower() == name.lower()), None)

    def header_dict(self) -> dict[str, str]:
        return {name.lower(): value for name, value in self.headers}

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Reply:
    status: int = 202
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    delay: float = 0.0  # seconds before answering

    @classmethod
    def json(cls, document: Any, status: int = 200) -> Reply:
        return cls(status, {"Content-Type": "application/json"}, json.dumps(document).encode())


class Receiver:
    def __init__(self) -> None:
        self.root = ""  # http://host:port, set once listening
        self.prefix = f"/rx-{uuid.uuid4().hex[:12]}"
        self.url = ""  # root + prefix
        self.default = Reply()
        self._queue: deque[Reply] = deque()
        self._requests: list[Received] = []
        self._lock = threading.Lock()

    def reply(self, *replies: Reply) -> None:
        """Answer the next requests with these, in order, then with :attr:`default` again."""
        with self._lock:
            self._queue.extend(replies)

    @property
    def requests(self) -> list[Received]:
        with self._lock:
            return list(self._requests)

    def _record(self, request: Received) -> Reply:
        with self._lock:
            self._requests.append(request)
            return self._queue.popleft() if self._queue else self.default


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real receivers do

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            path = self.path.removeprefix(receiver.prefix)
            if path == self.path or path[:1] not in ("", "/", "?"):
                reply = Reply(status=404)  # not this receiver's: see the module docstring
            else:
                path = path if path.startswith("/") else "/" + path
                reply = receiver._record(
                    Received(self.command, path, list(self.headers.items()), body)
                )
            if reply.delay:
                time.sleep(reply.delay)
            try:
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)
            except ConnectionError:
                self.close_connection = True  # the client gave up waiting (a timeout test)

        do_GET = do_POST = do_PUT = do_DELETE = _handle

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def receiving(host: str = "127.0.0.1") -> Iterator[Receiver]:
    """A :class:`Receiver` listening on ``host`` (a free port) for the duration of the block."""
    receiver = Receiver()
    server = ThreadingHTTPServer((host, 0), _handler(receiver))
    receiver.root = f"http://{host}:{server.server_address[1]}"
    receiver.url = receiver.root + receiver.prefix
    # A short poll interval: shutdown() waits for serve_forever to look (0.5 s by default).
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
