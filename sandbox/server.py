"""What the local APIs share: a real HTTP server on an ephemeral port of 127.0.0.1, on a thread of its own."""

import json
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self


class JSONHandler(BaseHTTPRequestHandler):
    """Answers in JSON and logs nothing: a line per request would bury what matters, in pytest's output or the
    sandbox's log (and a Bot API path holds the token). A request reaches its local API as `self.api`."""

    api: "LocalServer"

    def send_json(self, status: int, body, headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format, *args):
        pass


class LocalServer:
    """Serves `handler` while started (or inside `with`), each request on its own thread.

    A request kept waiting (on `latency`, say) waits on `_closing`, which close sets so that it answers at once and
    the server can stop; a local API with waits of its own wakes them in `_wake_waiting`.
    """

    handler: type[JSONHandler]
    thread_name: str

    def __init__(self):
        self._closing = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        self._closing.clear()
        self._server = _Server(("127.0.0.1", 0), type("Handler", (self.handler,), {"api": self}))
        # A short poll: shutdown() waits up to one interval, and every test closes its server.
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), name=self.thread_name,
                                        daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        if self._server is None:
            return
        self._wake_waiting()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        self._server = None

    def _wake_waiting(self) -> None:
        self._closing.set()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        """Scheme, host and port: PTB takes `base_url + "/bot"`, our senders take it as it is."""
        return f"http://127.0.0.1:{self.port}"


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A client that gave up (its timeout ran out while the server kept it waiting) is no error: a test asks for it.
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens: a connection there is refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
