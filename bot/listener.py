"""The daemon's opt-in HTTP listener: ``/metrics`` (Prometheus text) and ``/healthz``.

It binds only where ``metrics.listen`` says (``127.0.0.1:9464`` in the README) and serves
from daemon threads, so a slow scraper never holds up a poll or the shutdown.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app

from bot.config import split_listen
from bot.errors import ConfigError

log = logging.getLogger(__name__)

#: ``(healthy, one-line reason)``
HealthCheck = Callable[[], tuple[bool, str]]
StartResponse = Callable[..., Any]


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass  # a scrape every 15 s is not news


class Listener:
    def __init__(self, listen: str, registry: CollectorRegistry, health: HealthCheck) -> None:
        metrics = make_wsgi_app(registry)

        def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
            path = environ.get("PATH_INFO", "")
            if path == "/metrics":
                return metrics(environ, start_response)  # type: ignore[no-any-return]
            if path == "/healthz":
                ok, reason = health()
                status = "200 OK" if ok else "503 Service Unavailable"
                start_response(status, [("Content-Type", "text/plain; charset=utf-8")])
                return [f"{'ok' if ok else 'unhealthy'}: {reason}\n".encode()]
            start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
            return [b"not found: try /metrics or /healthz\n"]

        host, port = split_listen(listen)
        try:
            self.server = make_server(host, port, app, _Server, _Quiet)
        except OSError as exc:
            raise ConfigError(f"metrics.listen: cannot listen on {listen}: {exc.strerror}") from exc
        self.address = f"{host}:{self.server.server_port}"
        self._thread = threading.Thread(
            target=self.server.serve_forever, name="metrics", daemon=True
        )

    def start(self) -> None:
        self._thread.start()
        log.info("listening on http://%s (/metrics, /healthz)", self.address)

    def close(self) -> None:
        if self._thread.is_alive():
            self.server.shutdown()  # waits for serve_forever, so only once it runs
        self.server.server_close()
