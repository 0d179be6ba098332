"""The local Jetstream bridge as a pytest plugin: the session-scoped ``jetstream`` fixture.

``tests/jetstream_bridge.py`` runs as a child process subscribed to the session's local
PDS firehose (``pds`` fixture, so these tests carry the ``pds`` marker too). The fixture
yields a ``JetstreamProcess``: ``url`` is the base URI the SDK's ``JetstreamClient`` and
feedbot's ``jetstream:`` key take (``ws://127.0.0.1:N/xrpc``); ``restart()`` SIGKILLs the
bridge and starts it again on the same port (the reconnect tests), ``kill()`` and
``start()`` do each half. A restarted bridge serves the same events under the same seqs.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pds import ROOT, LocalPds, read_line

BRIDGE = Path(__file__).with_name("jetstream_bridge.py")
READY_TIMEOUT = 90.0  # seconds: a start reads the PDS's whole history first


def firehose_url(pds: LocalPds) -> str:
    """The PDS's ``subscribeRepos`` base: its HTTP URL with a websocket scheme."""
    return "ws" + pds.pds_url.removeprefix("http").rstrip("/")


class JetstreamProcess:
    """``python tests/jetstream_bridge.py`` as a child process, ended by its PID."""

    def __init__(self, upstream: str, log_path: Path, buffer: int | None = None) -> None:
        self.upstream = upstream
        self.log_path = log_path
        self.buffer = buffer
        self.port = 0
        self.url = ""
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = READY_TIMEOUT) -> str:
        """Start (on the previous port after the first start); returns ``url`` when ready."""
        args = [sys.executable, str(BRIDGE), "--upstream", self.upstream, "--port", str(self.port)]
        if self.buffer is not None:
            args += ["--buffer", str(self.buffer)]
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                args, stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL, cwd=ROOT
            )
        ready = json.loads(self._read_line(timeout))
        self.port = int(ready["port"])
        self.url = str(ready["url"])
        return self.url

    def kill(self) -> None:
        """SIGKILL, as a crash would; no goodbye to its subscribers."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self.proc = None

    def restart(self, timeout: float = READY_TIMEOUT) -> str:
        self.kill()
        return self.start(timeout)

    def _read_line(self, timeout: float) -> bytes:
        assert self.proc is not None
        try:
            return read_line(self.proc, timeout)
        except TimeoutError:
            self.kill()
            why = f"jetstream bridge not ready after {timeout:.0f}s"
            raise RuntimeError(why + self._tail()) from None
        except EOFError:
            code = self.proc.wait()
            raise RuntimeError(f"jetstream bridge exited with {code}{self._tail()}") from None

    def _tail(self) -> str:
        text = self.log_path.read_text(errors="replace")[-3000:] if self.log_path.exists() else ""
        return f"; its log ({self.log_path}):\n{text}" if text else ""


@pytest.fixture(scope="session")
def jetstream(
    pds: LocalPds, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[JetstreamProcess]:
    """A local Jetstream v2 over the session's PDS firehose, for the whole session."""
    bridge = JetstreamProcess(
        firehose_url(pds), tmp_path_factory.mktemp("jetstream") / "bridge.log"
    )
    bridge.start()
    try:
        yield bridge
    finally:
        bridge.kill()
