"""A TCP relay on 127.0.0.1 in front of a real server, for reconnect and stall tests.

It forwards bytes both ways, one pair of threads per connection, and can drop every
connection (the server "restarted"), stop listening and listen again on the same port,
or go silent: keep its connections open but forward nothing, so neither messages nor
pongs get through (a stalled link).
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator


class TcpRelay:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.connections = 0  # accepted so far
        self._silences: list[threading.Event] = []
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._listener: socket.socket | None = None
        self.port = 0
        self.listen()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(8)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def close_listener(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None

    def drop_all(self) -> None:
        """Close every open connection, as a server going down does."""
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def go_silent(self) -> None:
        """Forward nothing on the connections open now; new ones work normally."""
        with self._lock:
            for silence in self._silences:
                silence.set()

    def close(self) -> None:
        self.close_listener()
        self.drop_all()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            silent = threading.Event()
            with self._lock:
                self.connections += 1
                self._sockets += [client, upstream]
                self._silences.append(silent)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b, silent), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, silent: threading.Event) -> None:
        while True:
            try:
                data = source.recv(65536)
            except OSError:
                return
            if not data:
                with contextlib.suppress(OSError):
                    sink.shutdown(socket.SHUT_WR)
                return
            if silent.is_set():
                continue  # swallowed: the link is stalled
            try:
                sink.sendall(data)
            except OSError:
                return


@contextlib.contextmanager
def relay_to(url: str) -> Iterator[TcpRelay]:
    """A relay in front of ``http://host:port``, closed afterwards."""
    host, port = url.removeprefix("http://").split(":")
    relay = TcpRelay("127.0.0.1" if host == "localhost" else host, int(port))
    try:
        yield relay
    finally:
        relay.close()
