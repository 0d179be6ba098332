"""Secrets stay secret: a PDS that echoes the login request (password and all) in its
error, and tokens in error text, never reach status, --json, repost, the state file's
text columns or the logs; the state file and its WAL/SHM are 0600 whatever the umask."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from bluesky_fakes import HANDLE, jwt
from httpserver import LocalServer, Request, Response

from bot import redact
from bot.cli import main
from bot.logs import setup_logging
from bot.state import State

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "echoed-app-pass-9876"
TOKEN = jwt(4102444800, "leaked-refresh")


def _echo(request: Request) -> Response:
    """The worst PDS: its error repeats what it was sent, and a token for good measure."""
    body = {"error": "InvalidRequest", "message": f"bad login {request.body.decode()} {TOKEN}"}
    return Response(400, json.dumps(body), {"Content-Type": "application/json"})


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, http_server: LocalServer) -> Path:
    http_server.routes["/xrpc/com.atproto.server.createSession"] = _echo
    (tmp_path / "feeds.yaml").write_text(
        f"""
state: {tmp_path}/state/feedbot.db
accounts:
  me:
    type: bluesky
    handle: {HANDLE}
    app_password: ${{APP_PASSWORD}}
    pds: {http_server.url}
    timeout: 2s
feeds:
  - name: samples
    source: {{type: records, path: {ROOT}/config/samples}}
    account: me
    backfill: 1
""",
        encoding="utf-8",
    )
    monkeypatch.setenv("APP_PASSWORD", PASSWORD)
    monkeypatch.setenv("FEEDBOT_CONFIG", str(tmp_path / "feeds.yaml"))
    return tmp_path


@pytest.fixture(autouse=True)
def _forget_logging() -> Iterator[None]:
    yield
    setup_logging("WARNING")  # the CLI installs a handler on stderr; leave a clean one


def _state_text(path: Path) -> str:
    """Every text value in every table of the state file."""
    conn = sqlite3.connect(path)
    out: list[str] = []
    for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
        if table == "sessions":
            continue  # holds the session's tokens by design, never shown
        for row in conn.execute(f"SELECT * FROM {table}"):
            out.extend(str(v) for v in row if isinstance(v, str))
    conn.close()
    return "\n".join(out)


def test_an_echoed_password_and_tokens_appear_nowhere(
    project: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        assert main(["run", "--once"]) == 1
        seen = capsys.readouterr()
        assert main(["status"]) == 0
        status = capsys.readouterr()
        assert main(["status", "--json"]) == 0
        as_json = capsys.readouterr()
        rows = json.loads(as_json.out)["feeds"]
        item = rows[0]["item_errors"][0]["item"]
        main(["repost", item, "--feed", "samples"])
        repost = capsys.readouterr()
    shown = "\n".join(
        [seen.out, seen.err, status.out, status.err, as_json.out, repost.out, repost.err]
    )
    assert "bad login" in shown, "the failure is reported, masked"
    assert redact.MASK in shown
    stored = _state_text(project / "state" / "feedbot.db")
    assert "bad login" in stored
    for text in (shown, stored, caplog.text, "\n".join(r.getMessage() for r in caplog.records)):
        assert PASSWORD not in text
        assert TOKEN not in text and "eyJ" not in text


def test_a_traceback_is_masked_too(capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging("INFO", [PASSWORD])
    try:
        raise ValueError(f"the library said {PASSWORD} and {TOKEN}")
    except ValueError:
        logging.getLogger("bot.test").exception("it broke")
    err = capsys.readouterr().err
    assert "Traceback" in err and "it broke" in err
    assert PASSWORD not in err and TOKEN not in err


def test_the_state_file_and_its_wal_and_shm_are_private_whatever_the_umask(
    tmp_path: Path,
) -> None:
    old = os.umask(0)
    try:
        path = tmp_path / "new" / "feedbot.db"
        state = State.open(path)
        state.record_poll("f", result="ok")  # a write, so the WAL and SHM exist
        files = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
        assert all(f.exists() for f in files)
        for f in files:
            assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        state.close()
    finally:
        os.umask(old)


def test_an_existing_state_file_left_readable_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / "feedbot.db"
    State.open(path).close()
    path.chmod(0o644)
    State.open(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
