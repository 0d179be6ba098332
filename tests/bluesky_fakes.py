"""Hand-written fakes for the Bluesky publisher's tests: an in-memory SessionStore, and a
fake XRPC endpoint on the local ``http_server`` (sessions with decodable JWTs, a repo of
records that ``applyWrites`` fills and ``getRecord`` reads)."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from httpserver import LocalServer, Request, Response

from bot.atproto_ids import record_cid
from bot.config import BlueskyAccount
from bot.model import Plan, PlannedPost
from bot.publish.session import LoginGate

DID = "did:plc:fakefakefakefakefakefake"
HANDLE = "feedbot-fake.test"
PASSWORD = "app-pass-word-1234"
X = "/xrpc/"
DELETE_RESULT = "com.atproto.repo.applyWrites#deleteResult"


class MemorySessions:
    """The SessionStore interface over a dict; records every save."""

    def __init__(self, initial: dict[str, str] | None = None) -> None:
        self.data: dict[str, str] = dict(initial or {})
        self.saves: list[str] = []
        self.logins: dict[str, LoginGate] = {}

    def load_session(self, account: str) -> str | None:
        return self.data.get(account)

    def save_session(self, account: str, session: str) -> None:
        self.data[account] = session
        self.saves.append(session)

    def load_login(self, account: str) -> LoginGate | None:
        return self.logins.get(account)

    def save_login(self, account: str, gate: LoginGate | None) -> None:
        if gate is None:
            self.logins.pop(account, None)
        else:
            self.logins[account] = gate


def jwt(exp: float, tag: str) -> str:
    """An unsigned JWT the SDK can read ``exp`` from (the fake server never verifies)."""

    def part(data: dict[str, Any]) -> str:
        raw = json.dumps(data).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part({'exp': int(exp), 'jti': tag})}.sig"


def settings(url: str, **extra: Any) -> BlueskyAccount:
    values: dict[str, Any] = {
        "type": "bluesky",
        "handle": HANDLE,
        "app_password": PASSWORD,
        "pds": url,
        "timeout": timedelta(seconds=2),
        **extra,
    }
    return BlueskyAccount(**values)


def error(status: int, name: str, message: str = "", **headers: str) -> Response:
    body = json.dumps({"error": name, "message": message})
    return Response(status, body, {"Content-Type": "application/json", **headers})


def ok(data: dict[str, Any]) -> Response:
    return Response(200, json.dumps(data), {"Content-Type": "application/json"})


class FakeXrpc:
    """Routes on a LocalServer; tests replace ``apply`` answers with ``script``."""

    def __init__(self, server: LocalServer) -> None:
        self.server = server
        self.records: dict[str, dict[str, Any]] = {}  # rkey → {"uri", "cid", "value"}
        self.tokens = 0
        self.valid_access: set[str] = set()
        self.valid_refresh: set[str] = set()
        self.script: list[Callable[[Request], Response | None]] = []
        self._lock = threading.Lock()
        server.routes[X + "com.atproto.server.createSession"] = self._create_session
        server.routes[X + "com.atproto.server.refreshSession"] = self._refresh_session
        server.routes[X + "com.atproto.repo.applyWrites"] = self._apply_writes
        server.routes[X + "com.atproto.repo.getRecord"] = self._get_record

    def session_json(self) -> dict[str, Any]:
        with self._lock:
            self.tokens += 1
            access = jwt(time.time() + 7200, f"a{self.tokens}")
            refresh = jwt(time.time() + 90 * 86400, f"r{self.tokens}")
            self.valid_access.add(access)
            self.valid_refresh.add(refresh)
        return {"did": DID, "handle": HANDLE, "accessJwt": access, "refreshJwt": refresh}

    def _create_session(self, request: Request) -> Response:
        body = json.loads(request.body)
        if body.get("password") != PASSWORD:
            return error(401, "AuthenticationRequired", "Invalid identifier or password")
        return ok(self.session_json())

    def _refresh_session(self, request: Request) -> Response:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if token not in self.valid_refresh:
            return error(400, "ExpiredToken", "Token has expired")
        self.valid_refresh.discard(token)
        return ok(self.session_json())

    def _authorized(self, request: Request) -> bool:
        return request.headers.get("authorization", "").removeprefix("Bearer ") in (
            self.valid_access
        )

    def _apply_writes(self, request: Request) -> Response:
        if self.script:
            answer = self.script.pop(0)(request)
            if answer is not None:
                return answer
        return self.commit(request)

    def commit(self, request: Request) -> Response:
        """Really apply the writes (all or nothing); 500 when a created rkey exists or a
        deleted one does not, like the PDS."""
        if not self._authorized(request):
            return error(400, "ExpiredToken", "Token has expired")
        body = json.loads(request.body)
        results = []
        with self._lock:
            deletes = [w for w in body["writes"] if w["$type"].endswith("#delete")]
            if deletes:
                if any(w["rkey"] not in self.records for w in deletes):
                    return error(500, "InternalServerError", "Internal Server Error")
                for write in deletes:
                    del self.records[write["rkey"]]
                return ok({"results": [{"$type": DELETE_RESULT} for _ in deletes]})
            if any(w["rkey"] in self.records for w in body["writes"]):
                return error(500, "InternalServerError", "Internal Server Error")
            for write in body["writes"]:
                uri = f"at://{body['repo']}/{write['collection']}/{write['rkey']}"
                cid = record_cid(write["value"])
                self.records[write["rkey"]] = {"uri": uri, "cid": cid, "value": write["value"]}
                results.append({"uri": uri, "cid": cid, "validationStatus": "valid"})
        return ok({"results": results})

    def _get_record(self, request: Request) -> Response:
        params = dict(p.split("=", 1) for p in request.query.split("&") if "=" in p)
        record = self.records.get(params.get("rkey", ""))
        if record is None:
            return error(400, "RecordNotFound", "Could not locate record")
        return ok(record)

    def hits(self, method: str) -> int:
        return len(self.server.hits(X + method))


def plan(*rkeys: str) -> Plan:
    posts = []
    for i, rkey in enumerate(rkeys):
        record = {
            "$type": "app.bsky.feed.post",
            "text": f"post {i}",
            "createdAt": "2026-01-01T00:00:00.000Z",
        }
        posts.append(PlannedPost(rkey, record_cid(record), record))
    return Plan("feed", "item", "https://example.com/a", "me", DID, tuple(posts))
