"""The Bluesky publisher: a composed ``Thread`` becomes one atomic ``applyWrites``.

The only module that imports the ``atproto`` SDK. How it keeps "exactly once":

- ``prepare`` picks every record key (TIDs) and computes every CID locally, so replies can
  name their parents before anything exists; the pipeline saves this plan first.
- ``write`` creates the whole thread in one ``com.atproto.repo.applyWrites`` commit: all
  posts or none. Creating an rkey that already exists fails with HTTP **500** (not a 4xx)
  and fails the whole commit, so a plan must never be written again blindly: after a crash
  or an unclear failure, call ``find`` first. ``write`` does so itself between retries.
- ``find`` looks the planned rkeys up with ``getRecord``.
- ``delete`` removes a planned ``Deletion`` in one ``applyWrites`` of deletes. Deleting a
  record that is not there fails the whole commit with HTTP 500 too, so it looks first
  (``getRecord``) and deletes only what is still there: the same call finishes a first
  try, a retry and a recovery after a crash.

Sessions: logs in with the app password once, keeps the SDK's session string in the
``SessionStore`` (the state file) and reuses it across runs; the SDK refreshes it before
it expires. Only when the server refuses it and refreshing fails does it log in again.
Neither the password nor tokens are ever logged.

Threads: feeds on one account share its publisher from the daemon's worker threads. The
session (connect, re-authenticate) is taken under one lock, so racing threads log in
once; the write budget and the TID clock lock themselves.

Errors become ``bot.errors``: 429 → ``TransientError`` with ``retry_at`` from
``RateLimit-Reset``; timeouts, connection errors and 5xx are retried with backoff and
jitter, then ``TransientError``; other 4xx → ``RejectedError`` with the server's message.
Records that fail our own lexicon checks never leave: ``InvalidThread``.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Sequence, Set
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypeVar

import httpx

# atproto_client rather than the umbrella ``atproto``: the client alone, without the
# firehose, identity and crypto packages (less memory and start-up time)
from atproto_client import Client, Session, SessionEvent, models
from atproto_client.exceptions import (
    LoginRequiredError,
    RateLimitExceededError,
    RequestErrorBase,
)
from atproto_client.models.common import XrpcError
from atproto_client.request import Request, Response
from atproto_core.exceptions import AtProtocolError

from bot.atproto_ids import TidClock, record_cid
from bot.config import BlueskyAccount
from bot.errors import (
    InvalidThread,
    LoginUnavailable,
    PublishError,
    RejectedError,
    TransientError,
)
from bot.http import USER_AGENT, make_client
from bot.lexicon import (
    POST,
    PROFILE,
    check_post_record,
    gate_records,
    post_record,
    repost_record,
    with_bot_label,
)
from bot.model import Deletion, LinkCard, Plan, PlannedPost, RecordKey, StrongRef, Target, Thread
from bot.observe import NO_OBSERVER, Observer
from bot.publish.pacing import Backoff, WriteBudget, points
from bot.publish.session import (
    LOGIN_BACKOFF_MAX,
    LoginGate,
    SessionStore,
    after_failure,
    login_key,
)
from bot.thumbnail import fetch_image, make_thumbnail

log = logging.getLogger(__name__)

_AUTH_ERRORS = frozenset({"ExpiredToken", "InvalidToken"})
_RATE_LIMIT_FALLBACK = 60.0  # seconds, for a 429 without a usable RateLimit-Reset

DEFAULT_BACKOFF = Backoff()

T = TypeVar("T")
Kind = Literal["auth", "retry", "rate", "reject"]


@dataclass(frozen=True)
class _Create:
    collection: str
    rkey: str
    cid: str
    record: dict[str, Any]


def _creates(plan: Plan) -> list[_Create]:
    """A plan's records, each in the collection its ``$type`` names (posts, a repost, then
    the root's gates): all of them are written in one commit and looked up together."""
    return [
        _Create(p.record.get("$type", POST), p.rkey, p.cid, p.record)
        for p in (*plan.posts, *plan.gates)
    ]


class BlueskyPublisher:
    def __init__(
        self,
        name: str,
        settings: BlueskyAccount,
        sessions: SessionStore,
        *,
        http: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        tids: TidClock | None = None,
        backoff: Backoff = DEFAULT_BACKOFF,
        rng: Callable[[], float] = random.random,
        history: Iterable[tuple[float, int]] = (),
        private_ok: Set[str] = frozenset(),
        observer: Observer = NO_OBSERVER,
    ) -> None:
        """``http`` fetches covers (by default from public addresses only, except for
        the feeds in ``private_ok``); ``transport`` carries XRPC (tests count or fault it);
        ``clock`` (epoch seconds) and ``sleep`` drive pacing, backoff and ``retry_at``."""
        self.name = name
        self._observer = observer
        self._settings = settings
        self._sessions = sessions
        seconds = settings.timeout.total_seconds()
        self._timeout = httpx.Timeout(seconds, connect=min(10.0, seconds))
        self._owns_http = http is None
        self._http = http or make_client(timeout=self._timeout, allow_private=False)
        self._open_http = http or make_client(timeout=self._timeout)
        self._private_ok = private_ok
        options: dict[str, Any] = {"timeout": self._timeout}
        if transport is not None:
            options["transport"] = transport
        request = Request(**options)
        request.add_additional_header("User-Agent", USER_AGENT)
        self._client = Client(base_url=settings.pds, request=request)
        self._client.on_session_change(self._session_changed)
        self._session: Session | None = None
        self._session_lock = threading.RLock()  # re-entered: login fires _session_changed
        self._clock = clock
        self._sleep = sleep
        self._tids = tids if tids is not None else TidClock()
        self._backoff = backoff
        self._rng = rng
        self.budget = WriteBudget(
            per_hour=settings.points_per_hour,
            burst=settings.burst_points,
            per_day=settings.points_per_day,
            clock=clock,
            sleep=sleep,
        )
        self.budget.replay(history)  # the last day's writes, so a restart doesn't reset it

    def close(self) -> None:
        self._client.request.close()
        if self._owns_http:
            self._http.close()
            self._open_http.close()

    def __enter__(self) -> BlueskyPublisher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the Publisher protocol --------------------------------------------------------

    def prepare(self, thread: Thread, target: Target, *, now: datetime) -> Plan:
        """Record keys, records and CIDs for the whole thread; uploads the cover thumbnail
        (repeating an upload is harmless). Creates no post."""
        if not thread.posts:
            raise InvalidThread(f"empty thread for {target.item}")
        did = self._connect()
        thumbs: dict[str, dict[str, Any] | None] = {}
        posts: list[PlannedPost] = []
        root: StrongRef | None = None
        parent: StrongRef | None = None
        for i, post in enumerate(thread.posts):
            thumb = None
            if post.card is not None and post.card.thumb_url:
                url = post.card.thumb_url
                if url not in thumbs:
                    thumbs[url] = self._thumb_blob(post.card, target.feed)
                thumb = thumbs[url]
            record = post_record(
                post,
                langs=thread.langs,
                # a millisecond apart, so the posts sort in thread order everywhere
                created_at=now.astimezone(UTC) + timedelta(milliseconds=i),
                reply=(root, parent) if root is not None and parent is not None else None,
                thumb=thumb,
                labels=thread.labels,
            )
            problems = check_post_record(record)
            if problems:
                raise InvalidThread(f"post {i + 1} is invalid: {'; '.join(problems)}")
            rkey = self._tids.next()
            cid = record_cid(record)
            parent = StrongRef(f"at://{did}/{POST}/{rkey}", cid)
            root = root or parent
            posts.append(PlannedPost(rkey, cid, record))
        assert root is not None
        # a gate's record key must be its post's: that is how the AppView finds it
        gates = tuple(
            PlannedPost(posts[0].rkey, record_cid(gate), gate)
            for gate in gate_records(root.uri, thread.gate, created_at=now)
        )
        return Plan(
            feed=target.feed,
            item=target.item,
            url=target.url,
            account=self.name,
            repo=did,
            posts=tuple(posts),
            gates=gates,
        )

    def find(self, plan: Plan) -> tuple[StrongRef, ...] | None:
        """The written posts when every planned record (gates too) exists; None when none
        does."""
        found = self._find(plan.repo, _creates(plan))
        return found[: len(plan.posts)] if found is not None else None

    def write(self, plan: Plan) -> tuple[StrongRef, ...]:
        """One applyWrites for the whole thread and its gates. Don't call it again for a
        plan that may have been written (its rkeys would collide with HTTP 500): ``find``
        first."""
        refs = self._apply(plan.repo, _creates(plan), what=f"thread for {plan.item}")
        log.info(
            "written account=%s item=%s posts=%d gates=%d",
            self.name,
            plan.item,
            len(plan.posts),
            len(plan.gates),
        )
        return refs[: len(plan.posts)]

    def prepare_boost(self, root: StrongRef, target: Target, *, now: datetime) -> Plan:
        """A native repost of an earlier root post, planned like a thread."""
        did = self._connect()
        record = repost_record(root, created_at=now)
        planned = PlannedPost(self._tids.next(), record_cid(record), record)
        return Plan(target.feed, target.item, target.url, self.name, did, (planned,))

    def delete(self, deletion: Deletion) -> int:
        """Delete what is left of ``deletion``'s records in one applyWrites; return how
        many were deleted (0: all were gone already). Safe to call again after a crash or
        an unclear failure: it looks before it deletes."""
        self._connect()
        left = self._present(deletion.repo, deletion.records)
        if not left:
            log.info("nothing left to delete account=%s item=%s", self.name, deletion.item)
            return 0
        self.budget.spend(points(0, len(left)))
        count = len(left)
        what = f"deleting the threads of {deletion.item}"

        def attempt() -> int:
            body = {
                "repo": deletion.repo,
                "writes": [
                    {
                        "$type": "com.atproto.repo.applyWrites#delete",
                        "collection": r.collection,
                        "rkey": r.rkey,
                    }
                    for r in left
                ],
            }
            content = json.dumps(body, separators=(",", ":")).encode()
            self._client.invoke_procedure(
                "com.atproto.repo.applyWrites",
                content=content,
                headers={"Content-Type": "application/json"},
            )
            return count

        def look_again() -> int | None:
            # a retry must not name a record that is gone now (HTTP 500 again)
            left[:] = self._present(deletion.repo, left)
            return None if left else count

        deleted = self._call(what, attempt, on_retry=look_again)
        log.info("deleted account=%s item=%s records=%d", self.name, deletion.item, deleted)
        return deleted

    def _present(self, repo: str, records: Sequence[RecordKey]) -> list[RecordKey]:
        return [r for r in records if self._get_record(repo, r.collection, r.rkey) is not None]

    # --- writes and lookups ------------------------------------------------------------

    def _apply(self, repo: str, creates: Sequence[_Create], *, what: str) -> tuple[StrongRef, ...]:
        if not creates:
            raise InvalidThread(f"{what}: nothing to write")
        self._connect()
        self.budget.spend(points(len(creates)))
        body = {
            "repo": repo,
            "validate": True,
            "writes": [
                {
                    "$type": "com.atproto.repo.applyWrites#create",
                    "collection": c.collection,
                    "rkey": c.rkey,
                    "value": c.record,
                }
                for c in creates
            ],
        }
        # sent as our own JSON: the records' bytes must be exactly those we hashed
        content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()

        def attempt() -> tuple[StrongRef, ...]:
            response = self._client.invoke_procedure(
                "com.atproto.repo.applyWrites",
                content=content,
                headers={"Content-Type": "application/json"},
            )
            return _results(creates, response)

        # after a timeout or 5xx the commit may have landed (and rewriting it would fail
        # with 500 forever): look before trying again
        return self._call(what, attempt, on_retry=lambda: self._find(repo, creates))

    def _find(self, repo: str, creates: Sequence[_Create]) -> tuple[StrongRef, ...] | None:
        found = [self._get_record(repo, c.collection, c.rkey) for c in creates]
        present = [ref for ref in found if ref is not None]
        if not present:
            return None
        if len(present) < len(creates):
            # applyWrites is atomic, so this means someone deleted posts by hand
            raise RejectedError(
                f"only {len(present)} of {len(creates)} planned posts exist in {repo}; "
                "the thread was changed outside feedbot"
            )
        for ref, create in zip(found, creates, strict=True):
            assert ref is not None
            if ref.cid != create.cid:
                log.error("cid differs rkey=%s planned=%s pds=%s", create.rkey, create.cid, ref.cid)
        return tuple(ref for ref in found if ref is not None)

    def _get_record(self, repo: str, collection: str, rkey: str) -> StrongRef | None:
        params = models.ComAtprotoRepoGetRecord.Params(repo=repo, collection=collection, rkey=rkey)

        def attempt() -> StrongRef | None:
            try:
                response = self._client.invoke_query("com.atproto.repo.getRecord", params=params)
            except RequestErrorBase as exc:
                if _xrpc(exc)[1] == "RecordNotFound":
                    return None
                raise
            data = _json(response)
            return StrongRef(str(data["uri"]), str(data["cid"]))

        return self._call(f"getRecord {rkey}", attempt)

    # --- covers ------------------------------------------------------------------------

    def _thumb_blob(self, card: LinkCard, feed: str) -> dict[str, Any] | None:
        """The uploaded thumbnail's blob, or None: a bad cover never fails the post."""
        assert card.thumb_url is not None
        http = self._open_http if feed in self._private_ok else self._http
        raw = fetch_image(http, card.thumb_url, seconds=self._settings.timeout.total_seconds())
        thumb = make_thumbnail(raw) if raw is not None else None
        if thumb is None:
            if raw is not None:
                log.warning("cover not usable url=%s; card without thumbnail", card.thumb_url)
            return None

        def attempt() -> dict[str, Any]:
            response = self._client.invoke_procedure(
                "com.atproto.repo.uploadBlob",
                content=thumb.data,
                headers={"Content-Type": thumb.mime},
            )
            blob = _json(response)["blob"]
            if not isinstance(blob, dict):
                raise RejectedError("uploadBlob answered without a blob")
            return blob

        try:
            blob = self._call("uploadBlob", attempt)
        except RejectedError as exc:
            log.warning("cover refused by the PDS: %s; card without thumbnail", exc)
            return None
        log.info("cover uploaded bytes=%d mime=%s", len(thumb.data), thumb.mime)
        return blob

    # --- sessions ----------------------------------------------------------------------

    def _session_changed(self, event: SessionEvent, session: Session) -> None:
        self._session = session
        if event in (SessionEvent.CREATE, SessionEvent.REFRESH):
            self._sessions.save_session(self.name, session.export())
            log.info("session %s account=%s", event.value, self.name)

    def _connect(self) -> str:
        """The account's DID, from the live session, the stored one, or a login."""
        with self._session_lock:
            if self._session is not None:
                return str(self._session.did)
            stored = self._sessions.load_session(self.name)
            if not (stored and self._import(stored)):
                self._login()
            assert self._session is not None
            return str(self._session.did)

    def _import(self, stored: str) -> bool:
        try:
            session = Session.decode(stored)
            session.access_jwt_payload  # noqa: B018 (the SDK needs its exp to know when to refresh)
            session.refresh_jwt_payload  # noqa: B018
        except (ValueError, AtProtocolError):
            log.warning("stored session unreadable account=%s; logging in", self.name)
            return False
        handle = self._settings.handle.lower()
        if handle not in (session.handle.lower(), session.did):
            log.info("stored session is for another account account=%s; logging in", self.name)
            return False
        self._client.login(session_string=stored, fetch_bsky_profile=False)
        log.info("session reused account=%s", self.name)
        return True

    def _login(self) -> None:
        """One login attempt, if the account's ``LoginGate`` allows one now: a failure
        waits out an exponential backoff (kept in the state file, so shared by every
        item, feed and process), and a 401 stops logins until the credentials change."""
        password = self._settings.app_password.get_secret_value()
        what = f"login as {self._settings.handle}"
        key = login_key(self._settings.handle, password, self._settings.pds)
        gate = self._sessions.load_login(self.name)
        now = self._clock()
        blocked = gate.blocked(key, now) if gate is not None else None
        if blocked is not None:
            assert gate is not None
            raise LoginUnavailable(f"{what}: {blocked}", retry_at=_pause(gate, now))
        log.info("logging in account=%s", self.name)
        self._client.update_base_url(self._settings.pds)

        def attempt() -> None:
            self._client.login(self._settings.handle, password, fetch_bsky_profile=False)

        try:
            self._call(what, attempt, reauth=False, tries=1)
        except PublishError as exc:
            cause = exc.__cause__ if isinstance(exc.__cause__, Exception) else None
            refused = cause is not None and _classify(cause) == "auth"
            retry_at = exc.retry_at if isinstance(exc, TransientError) else None
            failed = after_failure(
                gate,
                key,
                now,
                _describe(cause) if cause else str(exc),
                refused=refused,
                not_before=retry_at,
            )
            self._sessions.save_login(self.name, failed)
            self._observer.login(self.name, ok=False)
            log.warning(
                "login failed account=%s failures=%d next_attempt_in=%.0fs refused=%s",
                self.name,
                failed.failures,
                (failed.next_at or now) - now,
                refused,
            )
            # the items are fine: they stay pending (transient) for when logins work
            reason = failed.blocked(key, now) if refused else str(exc)
            raise LoginUnavailable(f"{what}: {reason}", retry_at=_pause(failed, now)) from exc
        if gate is not None:
            self._sessions.save_login(self.name, None)
        self._observer.login(self.name, ok=True)
        if self._settings.bot_label:
            self._label_profile()

    def _label_profile(self) -> None:
        """Put the self-label ``bot`` on the account's profile when it is missing, keeping
        every other field; ``swapRecord`` so a profile edited meanwhile is never lost.
        Done after each password login (first use, expired sessions); a failure is only
        logged, never a reason not to post."""
        assert self._session is not None
        did = str(self._session.did)
        params = models.ComAtprotoRepoGetRecord.Params(repo=did, collection=PROFILE, rkey="self")

        def current() -> tuple[str | None, dict[str, Any] | None]:
            try:
                response = self._client.invoke_query("com.atproto.repo.getRecord", params=params)
            except RequestErrorBase as exc:
                if _xrpc(exc)[1] == "RecordNotFound":
                    return None, None
                raise
            data = _json(response)
            value = data.get("value")
            return str(data["cid"]), value if isinstance(value, dict) else None

        try:
            cid, profile = self._call("getRecord profile", current)
            record = with_bot_label(profile)
            if record is None:
                return
            # swapRecord null: create only if there is still no profile
            body: dict[str, Any] = {
                "repo": did,
                "collection": PROFILE,
                "rkey": "self",
                "record": record,
                "swapRecord": cid,
            }
            content = json.dumps(body, ensure_ascii=False).encode()
            self._call(
                "putRecord profile",
                lambda: self._client.invoke_procedure(
                    "com.atproto.repo.putRecord",
                    content=content,
                    headers={"Content-Type": "application/json"},
                ),
            )
        except PublishError as exc:
            log.warning("bot label not set account=%s: %s", self.name, exc)
            return
        log.info("bot label set on the profile account=%s", self.name)

    def _reauthenticate(self) -> None:
        """The server refused our token: take a newer session another process saved,
        else refresh, else (only then) log in again."""
        with self._session_lock:
            self._reauthenticate_locked()

    def _reauthenticate_locked(self) -> None:
        stored = self._sessions.load_session(self.name)
        current = self._session
        if stored and current is not None and stored != current.export() and self._import(stored):
            return
        if current is not None:
            try:
                self._refresh(current)
                return
            except RejectedError as exc:
                log.info("refresh refused account=%s (%s); logging in", self.name, exc)
        self._session = None
        self._login()

    def _refresh(self, current: Session) -> None:
        def attempt() -> Any:
            return self._client.com.atproto.server.refresh_session(
                headers={"Authorization": f"Bearer {current.refresh_jwt}"},
                ignore_session_check=True,
            )

        fresh = self._call("refreshSession", attempt, reauth=False)
        session = Session(
            fresh.handle, fresh.did, fresh.access_jwt, fresh.refresh_jwt, current.pds_endpoint
        )
        self._client.login(session_string=session.export(), fetch_bsky_profile=False)
        self._sessions.save_session(self.name, session.export())
        log.info("session refreshed account=%s", self.name)

    # --- retries and error translation -------------------------------------------------

    def _call(
        self,
        what: str,
        fn: Callable[[], T],
        *,
        reauth: bool = True,
        on_retry: Callable[[], T | None] | None = None,
        tries: int | None = None,
    ) -> T:
        """Run ``fn`` with bounded retries (``tries``, by default the backoff's);
        foreign errors leave as ``bot.errors``."""
        tries = tries if tries is not None else self._backoff.attempts
        reauthed = not reauth
        attempt = 0
        while True:
            try:
                return fn()
            except PublishError:
                raise
            except (AtProtocolError, httpx.HTTPError) as exc:
                kind = _classify(exc)
                if kind == "auth" and not reauthed:
                    reauthed = True
                    self._reauthenticate()
                    continue
                if kind == "rate":
                    retry_at = _reset_at(exc) or self._clock() + _RATE_LIMIT_FALLBACK
                    log.warning("rate limited account=%s until=%.0f", self.name, retry_at)
                    raise TransientError(f"{what}: rate limited", retry_at=retry_at) from exc
                if kind != "retry":
                    raise RejectedError(f"{what}: {_describe(exc)}") from exc
                attempt += 1
                if attempt >= tries:
                    raise TransientError(
                        f"{what}: {_describe(exc)} (after {attempt} tries)"
                    ) from exc
                delay = self._backoff.delay(attempt - 1, self._rng)
                log.info("retrying %s in %.2fs: %s", what, delay, _describe(exc))
                self._sleep(delay)
                if on_retry is not None:
                    done = on_retry()
                    if done is not None:
                        log.info("%s had landed before the retry", what)
                        return done


def _pause(gate: LoginGate, now: float) -> float:
    """Until when the account's other items wait, this pass: the backoff's end, or for
    refused credentials the longest backoff (status says what reopens the gate)."""
    if gate.refused is not None or gate.next_at is None:
        return now + LOGIN_BACKOFF_MAX
    return gate.next_at


def _classify(exc: Exception) -> Kind:
    if isinstance(exc, LoginRequiredError):
        return "auth"
    if isinstance(exc, httpx.HTTPError):  # an httpx error the SDK did not wrap
        return "retry" if isinstance(exc, httpx.TransportError) else "reject"
    if not isinstance(exc, RequestErrorBase):
        return "reject"  # e.g. a response the SDK could not parse
    if exc.response is None:
        return "retry"  # timeouts and connection errors
    status = exc.response.status_code
    if status == 429:
        return "rate"
    if status == 401 or (status == 400 and _xrpc(exc)[1] in _AUTH_ERRORS):
        return "auth"
    if status == 408 or status >= 500:
        return "retry"
    return "reject"


def _xrpc(exc: RequestErrorBase) -> tuple[int | None, str, str]:
    """(status, XRPC error name, message) of a failed request."""
    if exc.response is None:
        return None, "", ""
    content = exc.response.content
    if isinstance(content, XrpcError):
        return exc.response.status_code, content.error, content.message or ""
    return exc.response.status_code, "", ""


def _describe(exc: Exception) -> str:
    """One line for logs and ``status``: the server's error, never a request's headers."""
    if isinstance(exc, RequestErrorBase):
        status, error, message = _xrpc(exc)
        if status is not None:
            text = f"{error}: {message}" if error and message else error or message
            return f"HTTP {status} {text}".strip()
        cause = exc.__cause__ or exc
        return type(cause).__name__
    return type(exc).__name__


def _reset_at(exc: Exception) -> float | None:
    if not isinstance(exc, RateLimitExceededError):
        return None
    reset = exc.reset_at
    return float(reset.timestamp()) if reset is not None else None


def _json(response: Response) -> dict[str, Any]:
    if not isinstance(response.content, dict):
        raise RejectedError(f"expected JSON, got HTTP {response.status_code}")
    return response.content


def _results(creates: Sequence[_Create], response: Response) -> tuple[StrongRef, ...]:
    results = _json(response).get("results") or []
    if len(results) != len(creates):
        raise RejectedError(f"applyWrites answered {len(results)} results for {len(creates)}")
    refs = []
    for create, result in zip(creates, results, strict=True):
        if result.get("cid") != create.cid:
            # the records are written; the thread's reply refs may be off: loud, not fatal
            log.error(
                "cid differs rkey=%s planned=%s pds=%s", create.rkey, create.cid, result.get("cid")
            )
        refs.append(StrongRef(str(result["uri"]), str(result["cid"])))
    return tuple(refs)
