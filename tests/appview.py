"""The full local network, with Bluesky's AppView, for tests: a pytest plugin.

The session-scoped ``appview`` fixture starts a throwaway PostgreSQL server (the AppView's
index) and ``scripts/devenv/network.mjs --appview`` (PLC, PDS, AppView), once per session,
and stops both at the end. Tests write through the PDS as the bot does and read what a
reader's app would get: ``app.bsky.*`` queries sent to the PDS with a reader's token, which
the PDS forwards to the AppView. ``AppView.sync()`` waits until the AppView has indexed
every write so far, so nothing polls.

PostgreSQL's programs come from ``scripts/devenv/postgres.sh`` (Debian's package, installed
when missing and we are root, as in CI). PostgreSQL refuses to run as root, so as root the
server runs as the ``postgres`` user (or ``nobody``) through ``setpriv``. Tests using the
fixture get the ``appview`` and ``pds`` markers: ``pytest -m "not pds"`` skips them too.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pds import INSTALL_ERROR, ROOT, LocalPds, Network, install_devenv, node_binary

POSTGRES_SCRIPT = ROOT / "scripts" / "devenv" / "postgres.sh"
APPVIEW_START_TIMEOUT = 180.0  # seconds: migrations of three databases on a busy machine
PG_START_TIMEOUT = 60.0
PG_BIN = pytest.StashKey[str]()
PG_ERROR = pytest.StashKey[str]()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Postgres:
    """A PostgreSQL server in a temporary folder, on 127.0.0.1, trusting local logins."""

    def __init__(self, bin_dir: Path) -> None:
        # its own folder in /tmp, not pytest's: as root, pytest's are closed to the server
        self.root = root = Path(tempfile.mkdtemp(prefix="feedbot-pg-"))
        self.port = _free_port()
        data = root / "data"
        prefix: list[str] = []
        if os.geteuid() == 0:
            user = _unprivileged_user()
            root.chmod(0o755)  # the user needs to reach the folder
            os.chown(root, user.pw_uid, user.pw_gid)
            prefix = [
                "setpriv",
                f"--reuid={user.pw_uid}",
                f"--regid={user.pw_gid}",
                "--clear-groups",
            ]
        with (root / "initdb.log").open("wb") as initdb_log:
            subprocess.run(
                [*prefix, str(bin_dir / "initdb"), "-D", str(data), "-U", "feedbot",
                 "--auth=trust", "-E", "UTF8", "--no-sync", "--locale=C"],
                check=True, stdin=subprocess.DEVNULL, stdout=initdb_log, stderr=initdb_log,
            )  # fmt: skip
        self._log = (root / "postgres.log").open("wb")
        # a test database: durability off, no Unix socket outside our folder
        self.proc = subprocess.Popen(
            [*prefix, str(bin_dir / "postgres"), "-D", str(data), "-p", str(self.port),
             "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={root}",
             "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
             "-c", "max_connections=200"],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log,
        )  # fmt: skip
        self.url = f"postgresql://feedbot@127.0.0.1:{self.port}/postgres"

    def wait_ready(self, timeout: float = PG_START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"postgres exited with {self.proc.returncode}{self._tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    pass
                # accepting connections is not yet accepting logins: wait for the log line
                if b"ready to accept connections" in (self.root / "postgres.log").read_bytes():
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"postgres not ready after {timeout:.0f}s{self._tail()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()  # "smart" shutdown; the network has closed its pools
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        shutil.rmtree(self.root, ignore_errors=True)

    def _tail(self) -> str:
        self._log.flush()
        text = (self.root / "postgres.log").read_text(errors="replace")[-2000:]
        return f"; its log:\n{text}" if text else ""


def _unprivileged_user() -> pwd.struct_passwd:
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError("running as root and no 'postgres' or 'nobody' user to run PostgreSQL")


@dataclass
class AppView:
    """The running network: ``pds`` for writes and reads, ``url`` of the AppView itself."""

    pds: LocalPds
    url: str
    network: Network

    def sync(self) -> None:
        self.network.sync()


def postgres_bin(config: pytest.Config) -> Path:
    if PG_ERROR in config.stash:
        pytest.fail(config.stash[PG_ERROR], pytrace=False)
    if PG_BIN not in config.stash:
        _install_postgres(config)
    return Path(config.stash[PG_BIN])


def _install_postgres(config: pytest.Config) -> None:
    capman = config.pluginmanager.getplugin("capturemanager")

    def run() -> str:
        out = subprocess.run(
            ["bash", str(POSTGRES_SCRIPT)],
            check=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            text=True,
        )
        return out.stdout.strip()

    if capman is not None:
        with capman.global_and_fixture_disabled():
            config.stash[PG_BIN] = run()
    else:
        config.stash[PG_BIN] = run()


@pytest.fixture(scope="session")
def appview(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AppView]:
    """PLC, PDS and Bluesky's AppView over a throwaway PostgreSQL, for the whole session."""
    if INSTALL_ERROR in request.config.stash:
        pytest.fail(request.config.stash[INSTALL_ERROR], pytrace=False)
    bin_dir = postgres_bin(request.config)
    if not node_binary().exists():
        install_devenv(request.config)
    root = tmp_path_factory.mktemp("appview")
    postgres = Postgres(bin_dir)
    try:
        postgres.wait_ready()
        network = Network(
            root / "network.log", ["--appview"], env={"DB_POSTGRES_URL": postgres.url}
        )
        try:
            urls = network.wait_ready(APPVIEW_START_TIMEOUT)
            local = LocalPds(urls["pds"], urls["plc"])
            try:
                yield AppView(local, urls["appview"], network)
            finally:
                local.close()
        finally:
            network.stop()
    finally:
        postgres.stop()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "appview: uses the full local network with Bluesky's AppView (PostgreSQL)"
    )


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "appview" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.appview)
            item.add_marker(pytest.mark.pds)


def pytest_collection_finish(session: pytest.Session) -> None:
    if session.config.option.collectonly:
        return
    if any("appview" in getattr(item, "fixturenames", ()) for item in session.items):
        try:
            _install_postgres(session.config)
        except (OSError, subprocess.CalledProcessError) as exc:
            session.config.stash[PG_ERROR] = f"scripts/devenv/postgres.sh failed: {exc}"
        try:
            install_devenv(session.config)  # a no-op when installed (also run by pds.py)
        except (OSError, subprocess.CalledProcessError) as exc:
            session.config.stash[INSTALL_ERROR] = f"scripts/devenv.sh failed: {exc}"
