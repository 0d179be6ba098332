"""The state file: the only module that touches SQLite.

What it keeps:

- ``feeds``: per feed, the source's cursor, the last poll's time, result and error.
- ``items``: per feed and item identity, the article, its content hash, when it was
  first seen, its status (new, skipped, planned, posted, failed), attempts, last error.
- ``threads``: every attempt to put an item on an account: the plan (record keys,
  CIDs, records) saved *before* anything is written, then the posts once written.
- ``sessions``: each account's exported login session, so it logs in once.
- ``streams``: per event-stream endpoint, the cursor of the last batch applied, saved
  in the same transaction as the items that batch produced.

Claiming an item is one ``INSERT`` guarded by a unique index over in-flight threads,
so the daemon and a manual ``repost`` can never both post the same item.
"""

from __future__ import annotations

import functools
import inspect
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Set
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import sqlite_utils

from bot import redact
from bot.clock import Clock, utcnow
from bot.errors import StateError, UnknownItem
from bot.heartbeat import owner_alive, process_owner
from bot.model import Article, Deletion, Plan, StrongRef
from bot.outcomes import (
    Claim,
    Claimed,
    ErrorKind,
    ItemStatus,
    Refused,
    ThreadKind,
    ThreadStatus,
)
from bot.publish.session import LoginGate

# SQL spellings of the stored values, from the enums (migrations keep their own text)
_IN_FLIGHT = ", ".join(f"'{s}'" for s in ThreadStatus.in_flight())
_GONE = ", ".join(f"'{s}'" for s in ItemStatus.gone())


def _masked(text: str | None) -> str | None:
    """Error text is stored masked: the state file's text columns never hold a secret."""
    return redact.mask(text) if text is not None else None


def _iso(when: datetime | None) -> str | None:
    return when.astimezone(UTC).isoformat(timespec="seconds") if when else None


def _when(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


# --- migrations ----------------------------------------------------------------------
# Numbered by PRAGMA user_version; each runs once, in a transaction. Never edit a
# published migration: add a new one. Their status words are history, written out.


def _v1(db: sqlite_utils.Database) -> None:
    db["feeds"].create(  # type: ignore[union-attr]
        {
            "name": str,
            "cursor": str,
            "last_poll_at": str,
            "last_result": str,
            "last_error": str,
        },
        pk="name",
        not_null={"cursor"},
        defaults={"cursor": "{}"},
    )
    db["items"].create(  # type: ignore[union-attr]
        {
            "feed": str,
            "id": str,
            "url": str,
            "content_hash": str,
            "first_seen": str,
            "status": str,
            "attempts": int,
            "last_error": str,
            "article": str,
        },
        pk=("feed", "id"),
        not_null={"url", "content_hash", "first_seen", "status", "attempts", "article"},
        defaults={"attempts": 0},
    )
    db["threads"].create(  # type: ignore[union-attr]
        {
            "id": int,
            "feed": str,
            "item": str,
            "account": str,
            "status": str,
            "plan": str,
            "posts": str,
            "created_at": str,
        },
        pk="id",
        not_null={"feed", "item", "account", "status", "created_at"},
    )


def _v2(db: sqlite_utils.Database) -> None:
    """Cross-source dedup, crash recovery, error kinds, scheduling hints, sessions."""
    db.execute("ALTER TABLE feeds ADD COLUMN next_poll_at TEXT")
    db.execute("ALTER TABLE feeds ADD COLUMN disabled TEXT")
    db.execute("ALTER TABLE items ADD COLUMN norm_url TEXT")
    db.execute("ALTER TABLE items ADD COLUMN published TEXT")
    db.execute("ALTER TABLE items ADD COLUMN updated_at TEXT")
    db.execute("ALTER TABLE items ADD COLUMN error_kind TEXT")
    db.execute("ALTER TABLE items ADD COLUMN note TEXT")
    db.execute("UPDATE items SET norm_url = url WHERE norm_url IS NULL")
    db.execute("ALTER TABLE threads ADD COLUMN kind TEXT NOT NULL DEFAULT 'post'")
    db.execute("ALTER TABLE threads ADD COLUMN norm_url TEXT")
    db.execute("ALTER TABLE threads ADD COLUMN owner TEXT")
    db.execute("ALTER TABLE threads ADD COLUMN posted_at TEXT")
    db.execute("ALTER TABLE threads ADD COLUMN error TEXT")
    db.execute("CREATE INDEX items_norm_url ON items (norm_url)")
    db.execute("CREATE INDEX items_status ON items (feed, status)")
    db.execute("CREATE INDEX threads_account_url ON threads (account, norm_url)")
    db.execute(
        "CREATE UNIQUE INDEX threads_in_flight ON threads (feed, item)"
        " WHERE status IN ('claimed', 'planned')"
    )
    db.execute(
        """CREATE TABLE sessions (
            account TEXT PRIMARY KEY,
            session TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )"""
    )


def _v3(db: sqlite_utils.Database) -> None:
    """Failed logins per account (``LoginGate``), so backoff survives restarts."""
    db.execute(
        """CREATE TABLE logins (
            account TEXT PRIMARY KEY,
            gate TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )"""
    )


def _v4(db: sqlite_utils.Database) -> None:
    """Rate-limit pauses, so ``status`` (another process) can show them."""
    db.execute(
        """CREATE TABLE pauses (
            account TEXT PRIMARY KEY,
            until TEXT NOT NULL,
            reason TEXT NOT NULL
        )"""
    )


def _v5(db: sqlite_utils.Database) -> None:
    """Interrupted tries (a crash between claim and plan) counted apart from failures."""
    db.execute("ALTER TABLE items ADD COLUMN interrupted INTEGER NOT NULL DEFAULT 0")


def _v6(db: sqlite_utils.Database) -> None:
    """Event-stream cursors per endpoint; when each item was last let through to be
    posted (``admitted_at``) or held back by the cap (``capped_at``), for a feed's
    ``max_per_hour``."""
    db.execute(
        """CREATE TABLE streams (
            endpoint TEXT PRIMARY KEY,
            cursor INTEGER NOT NULL,
            updated_at TEXT NOT NULL
        )"""
    )
    db.execute("ALTER TABLE items ADD COLUMN admitted_at TEXT")
    db.execute("ALTER TABLE items ADD COLUMN capped_at TEXT")
    db.execute("CREATE INDEX items_admitted ON items (feed, admitted_at)")


MIGRATIONS: tuple[Callable[[sqlite_utils.Database], None], ...] = (
    _v1,
    _v2,
    _v3,
    _v4,
    _v5,
    _v6,
)
SCHEMA_VERSION = len(MIGRATIONS)


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the schema up to date; return the version it started from."""
    db = sqlite_utils.Database(conn)
    start = conn.execute("PRAGMA user_version").fetchone()[0]
    if start > SCHEMA_VERSION:
        raise StateError(
            f"the state file has schema version {start}, newer than this feedbot "
            f"understands ({SCHEMA_VERSION}); upgrade feedbot"
        )
    for version in range(start, SCHEMA_VERSION):
        with conn:
            conn.execute("BEGIN IMMEDIATE")
            # another process may have migrated since we looked: look again under the lock
            if conn.execute("PRAGMA user_version").fetchone()[0] > version:
                continue
            MIGRATIONS[version](db)
            conn.execute(f"PRAGMA user_version = {version + 1}")
    return int(start)


def _private_file(path: Path) -> None:
    """The state file (it holds session tokens) and its ``-wal``/``-shm`` are 0600
    whatever the umask: the file is made 0600 before SQLite opens it, and SQLite gives
    its WAL and SHM the main file's mode. A folder feedbot creates is 0700."""
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.parent.chmod(0o700)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(fd)
    for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if name.exists() and name.stat().st_mode & 0o777 != 0o600:
            name.chmod(0o600)


def storage_error(path: Path | str, exc: sqlite3.Error) -> StateError:
    """A ``sqlite3`` error as one line saying what it means and what to do."""
    code = getattr(exc, "sqlite_errorname", "") or ""
    text = " ".join(str(exc).split())
    if code.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in text:
        return StateError(
            f"{path}: the state file is locked: another process holds it (waited 30s); "
            "is another feedbot running on it?"
        )
    if code.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or "malformed" in text:
        return StateError(
            f"{path}: the state file is corrupt ({text}); stop feedbot and restore it from "
            "a backup, or move it away to start afresh (everything would be posted again)"
        )
    if code.startswith("SQLITE_FULL") or "disk is full" in text:
        return StateError(
            f"{path}: the disk is full; nothing of this change was recorded: free space "
            "and run again"
        )
    return StateError(f"{path}: state file error: {text}")


# --- records handed to callers -------------------------------------------------------


@dataclass(frozen=True)
class Item:
    feed: str
    id: str
    url: str
    status: ItemStatus
    attempts: int
    last_error: str | None
    error_kind: ErrorKind | None
    article: Article
    first_seen: datetime
    #: why it is in its status, e.g. the filter that skipped it
    note: str | None = None


@dataclass(frozen=True)
class ThreadRow:
    id: int
    feed: str
    item: str
    account: str
    kind: ThreadKind
    status: ThreadStatus
    owner: str | None
    plan: Plan | None  # a thread's plan (post, repost, boost)
    posts: tuple[StrongRef, ...]
    error: str | None
    deletion: Deletion | None = None  # a deletion's plan


@dataclass(frozen=True)
class StreamRow:
    """An event stream's saved position: the cursor of the last batch applied."""

    endpoint: str
    cursor: int
    updated_at: datetime


#: what one decision step stores: new rows ``(article, status, note)`` and edits that
#: are not posted again ``(article, note)``
ItemRows = list[tuple[Article, ItemStatus, str | None]]
Edits = list[tuple[Article, str]]


@dataclass(frozen=True)
class FeedRow:
    name: str
    cursor: dict[str, Any]
    last_poll_at: datetime | None
    last_result: str | None
    last_error: str | None
    next_poll_at: datetime | None
    disabled: str | None


_T = TypeVar("_T")


def _translating(cls: type[_T]) -> type[_T]:
    """Every public method of ``cls`` raises ``StateError`` (via ``storage_error``), never
    ``sqlite3.Error``: the storage edge translates them all."""

    def wrap(method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def translated(self: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                return method(self, *args, **kwargs)
            except sqlite3.Error as exc:
                raise storage_error(self.path, exc) from exc

        return translated

    for name, value in list(vars(cls).items()):
        if not name.startswith("_") and inspect.isfunction(value):
            setattr(cls, name, wrap(value))
    return cls


@_translating
class State:
    """A state file. Open with ``State.open(path)`` or ``State.memory()`` for tests; as a
    context manager it closes every connection it opened on leaving."""

    def __init__(
        self,
        connect: Callable[[], sqlite3.Connection],
        *,
        shared: bool = False,
        clock: Clock = utcnow,
        path: Path | str = ":memory:",
    ) -> None:
        """``connect`` opens a connection; each thread gets its own unless ``shared``
        (an in-memory database only exists on one connection)."""
        self.path = path
        self._connect = connect
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []  # every thread's, for close()
        self._opened_lock = threading.Lock()
        self._shared = connect() if shared else None
        self.clock = clock
        self.owner = process_owner()
        migrate(self.conn)

    @property
    def conn(self) -> sqlite3.Connection:
        if self._shared is not None:
            return self._shared
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
            with self._opened_lock:
                self._opened.append(conn)
        return conn

    @classmethod
    def open(cls, path: Path | str, *, clock: Clock = utcnow) -> State:
        path = Path(path)

        def connect() -> sqlite3.Connection:
            # each connection is used by the one thread that opened it; close() may run
            # on another, after the workers are done
            conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA busy_timeout = 30000")
            return conn

        try:
            _private_file(path)
            return cls(connect, clock=clock, path=path)
        except sqlite3.Error as exc:
            raise storage_error(path, exc) from exc
        except OSError as exc:
            raise StateError(f"{path}: cannot open the state file: {exc}") from exc

    @classmethod
    def memory(cls, *, clock: Clock = utcnow) -> State:
        def connect() -> sqlite3.Connection:
            return sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)

        return cls(connect, shared=True, clock=clock)

    def close(self) -> None:
        """Close every thread's connection (the daemon's workers each opened one)."""
        with self._opened_lock:
            opened, self._opened = self._opened, []
        if self._shared is not None:
            opened.append(self._shared)
        for conn in opened:
            conn.close()

    def __enter__(self) -> State:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken up front so concurrent writers queue, not fail."""
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:  # SQLite may have rolled back already (disk full)
                conn.execute("ROLLBACK")
            raise

    def check(self) -> str | None:
        """None when ``PRAGMA quick_check`` finds the file sound, else what it found."""
        rows = self.conn.execute("PRAGMA quick_check").fetchall()
        found = "; ".join(str(r[0]) for r in rows)
        return None if found == "ok" else " ".join(found.split())[:300]

    # --- feeds -----------------------------------------------------------------------

    def feed(self, name: str) -> FeedRow:
        row = self.conn.execute(
            "SELECT name, cursor, last_poll_at, last_result, last_error, next_poll_at, disabled"
            " FROM feeds WHERE name = ?",
            (name,),
        ).fetchone()
        if row is None:
            return FeedRow(name, {}, None, None, None, None, None)
        return FeedRow(
            row[0], json.loads(row[1]), _when(row[2]), row[3], row[4], _when(row[5]), row[6]
        )

    def record_poll(
        self,
        name: str,
        *,
        result: str,
        cursor: dict[str, Any] | None = None,
        error: str | None = None,
        next_poll: datetime | None = None,
        disabled: str | None = None,
    ) -> None:
        """Remember how a poll went; the cursor only moves on success."""
        now = _iso(self.clock())
        with self._write() as conn:
            conn.execute("INSERT OR IGNORE INTO feeds (name) VALUES (?)", (name,))
            conn.execute(
                "UPDATE feeds SET last_poll_at = ?, last_result = ?, last_error = ?,"
                " next_poll_at = ?, disabled = coalesce(?, disabled) WHERE name = ?",
                (now, _masked(result), _masked(error), _iso(next_poll), disabled, name),
            )
            if cursor is not None:
                conn.execute(
                    "UPDATE feeds SET cursor = ? WHERE name = ?",
                    (json.dumps(cursor, sort_keys=True), name),
                )

    def has_history(self, name: str) -> bool:
        """True once the feed has been polled successfully (backfill applies before)."""
        row = self.conn.execute(
            "SELECT 1 FROM feeds WHERE name = ? AND last_error IS NULL AND last_poll_at IS NOT NULL"
            " UNION SELECT 1 FROM items WHERE feed = ? LIMIT 1",
            (name, name),
        ).fetchone()
        return row is not None

    # --- items -----------------------------------------------------------------------

    def known(self, feed: str, ids: list[str]) -> dict[str, tuple[str, ItemStatus]]:
        """``{id: (content_hash, status)}`` for the ids already stored."""
        out: dict[str, tuple[str, ItemStatus]] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.conn.execute(
                f"SELECT id, content_hash, status FROM items WHERE feed = ? AND id IN ({marks})",
                (feed, *chunk),
            )
            out.update({r[0]: (r[1], ItemStatus(r[2])) for r in rows})
        return out

    def add_items(self, rows: ItemRows, *, norm: Callable[[str], str]) -> None:
        """Insert or update items as ``(article, status, note)``; one transaction."""
        self.store(rows, [], norm=norm)

    def update_article(self, article: Article, *, norm: Callable[[str], str], note: str) -> None:
        """An edit that is not reposted: keep the new content, leave the status alone."""
        self.store([], [(article, note)], norm=norm)

    def store(
        self,
        rows: ItemRows,
        edits: Edits,
        *,
        norm: Callable[[str], str],
        stream: tuple[str, int] | None = None,
        capped: Set[tuple[str, str]] = frozenset(),
    ) -> None:
        """Store what a poll or a stream batch decided, in one transaction; with
        ``stream`` (endpoint, cursor) the stream's cursor moves in that same
        transaction, so a crash never loses a batch's items nor replays past them.
        ``capped`` are the (feed, id) of rows skipped for the feed's ``max_per_hour``."""
        with self._write() as conn:
            self._upsert_items(conn, rows, norm, capped)
            for article, note in edits:
                self._edit(conn, article, norm, note)
            if stream is not None:
                conn.execute(
                    "INSERT INTO streams (endpoint, cursor, updated_at) VALUES (?, ?, ?)"
                    " ON CONFLICT (endpoint) DO UPDATE SET cursor = excluded.cursor,"
                    " updated_at = excluded.updated_at",
                    (stream[0], stream[1], _iso(self.clock())),
                )

    def _upsert_items(
        self,
        conn: sqlite3.Connection,
        rows: ItemRows,
        norm: Callable[[str], str],
        capped: Set[tuple[str, str]],
    ) -> None:
        now = _iso(self.clock())
        for article, status, note in rows:
            conn.execute(
                f"""INSERT INTO items (feed, id, url, norm_url, content_hash, first_seen,
                       status, article, published, updated_at, note, admitted_at, capped_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (feed, id) DO UPDATE SET
                       url = excluded.url, norm_url = excluded.norm_url,
                       content_hash = excluded.content_hash, article = excluded.article,
                       published = excluded.published, updated_at = excluded.updated_at,
                       note = excluded.note,
                       admitted_at = coalesce(excluded.admitted_at, items.admitted_at),
                       capped_at = coalesce(excluded.capped_at, items.capped_at),
                       status = CASE WHEN items.status IN ('{ItemStatus.PLANNED}', {_GONE})
                                     THEN items.status ELSE excluded.status END,
                       attempts = CASE WHEN excluded.status = '{ItemStatus.NEW}' THEN 0
                                       ELSE items.attempts END""",
                (
                    article.feed,
                    article.id,
                    article.url,
                    norm(article.url),
                    article.content_hash(),
                    now,
                    status,
                    json.dumps(article.to_json(), ensure_ascii=False),
                    _iso(article.published or article.updated),
                    now,
                    note,
                    now if status == ItemStatus.NEW else None,
                    now if (article.feed, article.id) in capped else None,
                ),
            )

    def _edit(
        self, conn: sqlite3.Connection, article: Article, norm: Callable[[str], str], note: str
    ) -> None:
        conn.execute(
            "UPDATE items SET article = ?, content_hash = ?, url = ?, norm_url = ?,"
            " updated_at = ?, note = ? WHERE feed = ? AND id = ?",
            (
                json.dumps(article.to_json(), ensure_ascii=False),
                article.content_hash(),
                article.url,
                norm(article.url),
                _iso(self.clock()),
                note,
                article.feed,
                article.id,
            ),
        )

    def admitted_since(self, feed: str, since: datetime) -> int:
        """How many of the feed's items were let through to be posted since ``since``
        (``max_per_hour`` counts these, whatever became of them later)."""
        row = self.conn.execute(
            "SELECT count(*) FROM items WHERE feed = ? AND admitted_at >= ?",
            (feed, _iso(since)),
        ).fetchone()
        return int(row[0])

    def capped_since(self, feed: str, since: datetime) -> int:
        """How many of the feed's items ``max_per_hour`` held back since ``since``."""
        row = self.conn.execute(
            "SELECT count(*) FROM items WHERE feed = ? AND capped_at >= ?",
            (feed, _iso(since)),
        ).fetchone()
        return int(row[0])

    # --- streams -----------------------------------------------------------------------

    def stream_cursor(self, endpoint: str) -> int | None:
        """The cursor of the last batch applied from ``endpoint``, None before the first."""
        row = self.conn.execute(
            "SELECT cursor FROM streams WHERE endpoint = ?", (endpoint,)
        ).fetchone()
        return int(row[0]) if row else None

    def forget_stream(self, endpoint: str) -> None:
        """Drop a cursor the stream no longer honours (the next start is at the live tip)."""
        with self._write() as conn:
            conn.execute("DELETE FROM streams WHERE endpoint = ?", (endpoint,))

    def streams(self) -> list[StreamRow]:
        rows = self.conn.execute(
            "SELECT endpoint, cursor, updated_at FROM streams ORDER BY endpoint"
        )
        return [StreamRow(r[0], int(r[1]), datetime.fromisoformat(r[2])) for r in rows]

    def pending(self, feed: str, *, max_attempts: int, max_interrupted: int) -> list[Item]:
        """Items waiting to be posted, oldest first: new ones and transient failures
        that have used up neither their failed tries nor their interrupted ones."""
        rows = self.conn.execute(
            f"SELECT {_ITEM_COLUMNS} FROM items WHERE feed = ? AND (status = ?"
            " OR (status = ? AND error_kind = ? AND attempts < ? AND interrupted < ?))"
            " ORDER BY coalesce(published, first_seen), first_seen, id",
            (
                feed,
                ItemStatus.NEW,
                ItemStatus.FAILED,
                ErrorKind.TRANSIENT,
                max_attempts,
                max_interrupted,
            ),
        )
        return [_item(r) for r in rows]

    def item(self, feed: str, item_id: str) -> Item | None:
        """The item with exactly this id in this feed, if it was ever seen."""
        row = self.conn.execute(
            f"SELECT {_ITEM_COLUMNS} FROM items WHERE feed = ? AND id = ?", (feed, item_id)
        ).fetchone()
        return _item(row) if row else None

    def find_item(self, ref: str, *, feed: str | None = None, norm_url: str | None = None) -> Item:
        """An item by its id, its URL or its normalised URL (``norm_url``, the caller's
        normalisation of ``ref``); else ``UnknownItem``."""
        where = "(id = ? OR url = ? OR norm_url = ?)"
        args: list[Any] = [ref, ref, norm_url or ref]
        if feed is not None:
            where += " AND feed = ?"
            args.append(feed)
        rows = self.conn.execute(
            f"SELECT {_ITEM_COLUMNS} FROM items WHERE {where} ORDER BY first_seen DESC", args
        ).fetchall()
        if not rows:
            scope = f" in feed {feed!r}" if feed else ""
            raise UnknownItem(f"unknown item {ref!r}{scope}: it has not been seen by any poll")
        feeds = {r[0] for r in rows}
        if len(feeds) > 1:
            raise UnknownItem(
                f"item {ref!r} is in several feeds ({', '.join(sorted(feeds))});"
                " pick one with --feed"
            )
        return _item(rows[0])

    def item_of_post(self, actor: str, rkey: str) -> tuple[str, str] | None:
        """``(feed, item)`` of the latest thread holding the post ``rkey`` of ``actor``
        (a DID; a handle matches the record key alone, as only the PDS knows handles)."""

        def literal(text: str) -> str:
            return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")

        repo = literal(actor) if actor.startswith("did:") else "%"
        pattern = f"at://{repo}/app.bsky.feed.post/{literal(rkey)}"
        row = self.conn.execute(
            "SELECT t.feed, t.item FROM threads t, json_each(t.posts) p"
            " WHERE t.posts IS NOT NULL AND json_extract(p.value, '$.uri') LIKE ? ESCAPE '\\'"
            " ORDER BY t.id DESC LIMIT 1",
            (pattern,),
        ).fetchone()
        return (row[0], row[1]) if row else None

    def listing(
        self,
        *,
        feed: str | None = None,
        status: ItemStatus | None = None,
        limit: int | None = None,
    ) -> list[tuple[Item, tuple[StrongRef, ...]]]:
        """Items newest first, each with the posts of its latest posted thread (or none)."""
        where, args = [], []
        if feed is not None:
            where.append("feed = ?")
            args.append(feed)
        if status is not None:
            where.append("status = ?")
            args.append(status)
        sql = (
            f"SELECT {_ITEM_COLUMNS}, (SELECT t.posts FROM threads t WHERE t.feed = items.feed"
            f" AND t.item = items.id AND t.status = '{ThreadStatus.POSTED}'"
            f" AND t.kind != '{ThreadKind.BOOST}'"
            " ORDER BY t.id DESC LIMIT 1) FROM items"
        )
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY first_seen DESC, feed, id"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(str(limit))
        out = []
        for row in self.conn.execute(sql, args):
            posts = tuple(StrongRef(**p) for p in json.loads(row[-1])) if row[-1] else ()
            out.append((_item(row[:-1]), posts))
        return out

    # --- threads: claim → plan → posted ----------------------------------------------

    def claim(
        self, item: Item, account: str, *, norm_url: str, kind: ThreadKind = ThreadKind.POST
    ) -> Claim:
        """Take an item for posting: ``Claimed`` with the new thread's id, or ``Refused``.

        A ``post`` is refused when the item is not pending any more or when this account
        already has the same URL from another item (of any feed: an edit the feed posts
        again, ``edits: repost``, is the same item); any kind is refused while another
        thread of the item is in flight.
        """
        with self._write() as conn:
            if kind == ThreadKind.POST:
                refused = self._refuse_post(conn, item, account, norm_url)
                if refused is not None:
                    return refused
            elif kind != ThreadKind.DELETION and self._gone(conn, item.feed, item.id):
                return Refused("it was deleted at the source")
            try:
                cursor = conn.execute(
                    "INSERT INTO threads (feed, item, account, kind, status, norm_url, owner,"
                    " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        item.feed,
                        item.id,
                        account,
                        kind,
                        ThreadStatus.CLAIMED,
                        norm_url,
                        self.owner,
                        _iso(self.clock()),
                    ),
                )
            except sqlite3.IntegrityError:
                owner = conn.execute(
                    "SELECT owner FROM threads WHERE feed = ? AND item = ?"
                    f" AND status IN ({_IN_FLIGHT})",
                    (item.feed, item.id),
                ).fetchone()[0]
                if owner != self.owner and owner_alive(owner):
                    return Refused("another process is posting it right now")
                return Refused("an earlier attempt is waiting to be finished by the next run")
            if kind == ThreadKind.POST:
                conn.execute(
                    "UPDATE items SET attempts = attempts + 1 WHERE feed = ? AND id = ?",
                    (item.feed, item.id),
                )
            return Claimed(int(cursor.lastrowid or 0))

    def _refuse_post(
        self, conn: sqlite3.Connection, item: Item, account: str, norm_url: str
    ) -> Refused | None:
        """Why a ``post`` claim can't be taken (and the duplicate marked skipped), or None."""
        status = conn.execute(
            "SELECT status FROM items WHERE feed = ? AND id = ?", (item.feed, item.id)
        ).fetchone()
        if status is None or status[0] not in (ItemStatus.NEW, ItemStatus.FAILED):
            return Refused(f"item is {status[0] if status else 'gone'}")
        dup = conn.execute(
            "SELECT feed, item FROM threads WHERE account = ? AND norm_url = ?"
            " AND kind = ? AND status IN (?, ?, ?) AND NOT (feed = ? AND item = ?)",
            (
                account,
                norm_url,
                ThreadKind.POST,
                *ThreadStatus.in_flight(),
                ThreadStatus.POSTED,
                item.feed,
                item.id,
            ),
        ).fetchone()
        if dup is None:
            return None
        note = f"already posted on {account} as {dup[0]}/{dup[1]}"
        conn.execute(
            "UPDATE items SET status = ?, note = ? WHERE feed = ? AND id = ?",
            (ItemStatus.SKIPPED, note, item.feed, item.id),
        )
        return Refused(note)

    def _gone(self, conn: sqlite3.Connection, feed: str, item_id: str) -> bool:
        row = conn.execute(
            f"SELECT 1 FROM items WHERE feed = ? AND id = ? AND status IN ({_GONE})",
            (feed, item_id),
        ).fetchone()
        return row is not None

    def save_plan(self, thread_id: int, plan: Plan | Deletion) -> None:
        """Commit the plan (a thread's, or a deletion's) before anything is written, so a
        crash can be recovered."""
        with self._write() as conn:
            row = conn.execute(
                "SELECT feed, item, kind FROM threads WHERE id = ?", (thread_id,)
            ).fetchone()
            conn.execute(
                "UPDATE threads SET status = ?, plan = ? WHERE id = ?",
                (ThreadStatus.PLANNED, json.dumps(plan.to_json(), ensure_ascii=False), thread_id),
            )
            if row[2] == ThreadKind.POST:
                conn.execute(
                    f"UPDATE items SET status = ? WHERE feed = ? AND id = ?"
                    f" AND status NOT IN ({_GONE})",
                    (ItemStatus.PLANNED, row[0], row[1]),
                )

    def mark_posted(self, thread_id: int, posts: tuple[StrongRef, ...]) -> None:
        with self._write() as conn:
            row = conn.execute(
                "SELECT feed, item, kind FROM threads WHERE id = ?", (thread_id,)
            ).fetchone()
            conn.execute(
                "UPDATE threads SET status = ?, posts = ?, posted_at = ?, error = NULL"
                " WHERE id = ?",
                (
                    ThreadStatus.POSTED,
                    json.dumps([p.to_json() for p in posts]),
                    _iso(self.clock()),
                    thread_id,
                ),
            )
            # deleted at the source meanwhile: stays so, and its deletion finds this thread
            conn.execute(
                "UPDATE items SET status = CASE WHEN status IN"
                f" ({_GONE}) THEN status ELSE ? END, last_error = NULL, error_kind = NULL"
                " WHERE feed = ? AND id = ?",
                (ItemStatus.POSTED, row[0], row[1]),
            )

    def fail(
        self,
        thread_id: int,
        error: str,
        *,
        kind: ErrorKind,
        maybe_written: bool = False,
        charge: bool = True,
        interrupted: bool = False,
    ) -> None:
        """Give a claim back after an error.

        ``maybe_written`` says the write itself failed in a way that may have reached the
        server (a timeout): the plan then stays, for recovery to look up before retrying.
        The claim counted a try against the item; ``charge=False`` takes it back (the
        account, not the item, failed), ``interrupted`` moves it to the item's count of
        interrupted tries (a crash), which has its own bound.
        """
        with self._write() as conn:
            row = conn.execute(
                "SELECT feed, item, kind, status FROM threads WHERE id = ?", (thread_id,)
            ).fetchone()
            keep = row[3] == ThreadStatus.PLANNED and maybe_written
            conn.execute(
                "UPDATE threads SET status = ?, error = ? WHERE id = ?",
                (row[3] if keep else ThreadStatus.FAILED, redact.mask(error), thread_id),
            )
            if row[2] == ThreadKind.DELETION:
                # the item stays ``deleting``; its error says why, and bounds the retries
                conn.execute(
                    "UPDATE items SET last_error = ?, error_kind = ? WHERE feed = ? AND id = ?",
                    (redact.mask(error), kind, row[0], row[1]),
                )
            if row[2] == ThreadKind.POST:
                uncharge = int(interrupted or not charge)
                # an item deleted at the source meanwhile is its deletion's business
                conn.execute(
                    "UPDATE items SET status = ?, last_error = ?, error_kind = ?,"
                    " attempts = max(attempts - ?, 0), interrupted = interrupted + ?"
                    f" WHERE feed = ? AND id = ? AND status NOT IN ({_GONE})",
                    (
                        ItemStatus.PLANNED if keep else ItemStatus.FAILED,
                        redact.mask(error),
                        kind,
                        uncharge,
                        int(interrupted),
                        row[0],
                        row[1],
                    ),
                )

    # --- deleted at the source: deleting → deleted ------------------------------------

    def mark_gone(self, feed: str, item_id: str, *, delete: bool) -> ItemStatus | None:
        """The item's document was deleted at the source; its new status, or None for an
        item never seen. ``deleting`` when ``delete`` and a thread of it is (or may be
        about to be) on an account, else ``deleted``; one already gone stays as it is
        (a replayed delete)."""
        with self._write() as conn:
            row = conn.execute(
                "SELECT status FROM items WHERE feed = ? AND id = ?", (feed, item_id)
            ).fetchone()
            if row is None:
                return None
            if row[0] in ItemStatus.gone():
                return ItemStatus(row[0])
            live = self._live_threads(conn, feed, item_id)
            status = ItemStatus.DELETING if delete and live else ItemStatus.DELETED
            note = "deleted at the source"
            if live and not delete:
                note += "; its thread stays (deletions: ignore)"
            conn.execute(
                "UPDATE items SET status = ?, note = ?, updated_at = ? WHERE feed = ? AND id = ?",
                (status, note, _iso(self.clock()), feed, item_id),
            )
            return status

    def _live_threads(self, conn: sqlite3.Connection, feed: str, item_id: str) -> bool:
        """Whether a thread of the item is on an account, or in flight towards one."""
        row = conn.execute(
            f"SELECT 1 FROM threads WHERE feed = ? AND item = ? AND kind != ?"
            f" AND status IN ({_IN_FLIGHT}, ?) LIMIT 1",
            (feed, item_id, ThreadKind.DELETION, ThreadStatus.POSTED),
        ).fetchone()
        return row is not None

    def gone(self, feed: str, item_id: str) -> bool:
        """Whether the item was deleted at the source (``deleting`` or ``deleted``)."""
        return self._gone(self.conn, feed, item_id)

    def settle_gone(self, feed: str, item_id: str) -> bool:
        """``deleting`` becomes ``deleted`` once no thread of the item is on an account or
        in flight; True when it did just now."""
        with self._write() as conn:
            return self._settle(conn, feed, item_id)

    def _settle(self, conn: sqlite3.Connection, feed: str, item_id: str) -> bool:
        if self._live_threads(conn, feed, item_id):
            return False
        cursor = conn.execute(
            "UPDATE items SET status = ?, last_error = NULL, error_kind = NULL"
            " WHERE feed = ? AND id = ? AND status = ?",
            (ItemStatus.DELETED, feed, item_id, ItemStatus.DELETING),
        )
        return cursor.rowcount > 0

    def mark_deleted(self, thread_id: int) -> None:
        """A deletion is written: it and the threads it deleted are ``deleted``. An item
        deleted at the source is ``deleted`` once none of its threads is left; one whose
        threads were deleted by hand (``feedbot delete``) while its document still
        exists is ``skipped``: never posted again unless reposted by hand."""
        with self._write() as conn:
            feed, item_id, plan = conn.execute(
                "SELECT feed, item, plan FROM threads WHERE id = ?", (thread_id,)
            ).fetchone()
            deletion = Deletion.from_json(json.loads(plan))
            conn.execute(
                "UPDATE threads SET status = ?, posted_at = ?, error = NULL WHERE id = ?",
                (ThreadStatus.DELETED, _iso(self.clock()), thread_id),
            )
            marks = ",".join("?" * len(deletion.threads))
            conn.execute(
                f"UPDATE threads SET status = ? WHERE id IN ({marks}) AND status = ?",
                (ThreadStatus.DELETED, *deletion.threads, ThreadStatus.POSTED),
            )
            if self._gone(conn, feed, item_id):
                self._settle(conn, feed, item_id)
                return
            conn.execute(
                "UPDATE items SET status = ?, note = ?, last_error = NULL, error_kind = NULL"
                " WHERE feed = ? AND id = ?",
                (ItemStatus.SKIPPED, "its threads were deleted by hand", feed, item_id),
            )

    def pending_deletions(self, feed: str, *, max_attempts: int) -> list[Item]:
        """Items ``deleting``, oldest first, except those whose last deletion was refused
        (they wait for ``feedbot delete``) or that failed ``max_attempts`` times."""
        rows = self.conn.execute(
            f"SELECT {_ITEM_COLUMNS} FROM items WHERE feed = ? AND status = ?"
            " AND (error_kind IS NULL OR error_kind = ?)"
            " AND (SELECT count(*) FROM threads t WHERE t.feed = items.feed"
            " AND t.item = items.id AND t.kind = ? AND t.status = ?) < ?"
            " ORDER BY updated_at, id",
            (
                feed,
                ItemStatus.DELETING,
                ErrorKind.TRANSIENT,
                ThreadKind.DELETION,
                ThreadStatus.FAILED,
                max_attempts,
            ),
        )
        return [_item(r) for r in rows]

    def in_flight(self, *, feed: str | None = None) -> list[ThreadRow]:
        """Threads claimed or planned whose owner is gone: what a crash left behind."""
        sql = f"SELECT {_THREAD_COLUMNS} FROM threads WHERE status IN ({_IN_FLIGHT})"
        args: tuple[str, ...] = ()
        if feed is not None:
            sql += " AND feed = ?"
            args = (feed,)
        rows = [_thread(r) for r in self.conn.execute(sql + " ORDER BY id", args)]
        return [t for t in rows if t.owner == self.owner or not owner_alive(t.owner)]

    def adopt(self, thread_id: int) -> None:
        with self._write() as conn:
            conn.execute("UPDATE threads SET owner = ? WHERE id = ?", (self.owner, thread_id))

    def threads(self, feed: str, item_id: str) -> list[ThreadRow]:
        rows = self.conn.execute(
            f"SELECT {_THREAD_COLUMNS} FROM threads WHERE feed = ? AND item = ? ORDER BY id",
            (feed, item_id),
        )
        return [_thread(r) for r in rows]

    def writes(self, account: str, *, since: datetime) -> list[tuple[float, int, int]]:
        """``(epoch seconds, records created, records deleted)`` per thread or deletion an
        account wrote since then, for pacing that survives restarts. A thread's creates are
        its posts and its gates, and still count once it is deleted; a deletion counts
        every record it planned (some may have been gone already: erring high)."""
        rows = self.conn.execute(
            "SELECT posted_at, CASE WHEN kind = ? THEN 0 ELSE coalesce("
            "json_array_length(plan, '$.posts') + coalesce(json_array_length(plan, '$.gates'), 0),"
            " json_array_length(posts), 0) END,"
            " CASE WHEN kind = ? THEN coalesce(json_array_length(plan, '$.records'), 0)"
            " ELSE 0 END"
            " FROM threads WHERE account = ? AND status IN (?, ?) AND posted_at >= ?"
            " ORDER BY posted_at",
            (
                ThreadKind.DELETION,
                ThreadKind.DELETION,
                account,
                ThreadStatus.POSTED,
                ThreadStatus.DELETED,
                _iso(since),
            ),
        )
        return [(datetime.fromisoformat(r[0]).timestamp(), int(r[1]), int(r[2])) for r in rows]

    def record_pause(self, account: str, until: datetime, reason: str) -> None:
        """The account may not write before ``until`` (a rate limit, a spent budget)."""
        with self._write() as conn:
            conn.execute(
                "INSERT INTO pauses (account, until, reason) VALUES (?, ?, ?)"
                " ON CONFLICT (account) DO UPDATE SET until = excluded.until,"
                " reason = excluded.reason",
                (account, _iso(until), reason),
            )

    def pause(self, account: str) -> tuple[datetime, str] | None:
        """The account's last pause ``(until, reason)`` if it has not ended yet."""
        row = self.conn.execute(
            "SELECT until, reason FROM pauses WHERE account = ? AND until > ?",
            (account, _iso(self.clock())),
        ).fetchone()
        return (datetime.fromisoformat(row[0]), str(row[1])) if row else None

    # --- sessions (SessionStore) -----------------------------------------------------

    def load_session(self, account: str) -> str | None:
        row = self.conn.execute(
            "SELECT session FROM sessions WHERE account = ?", (account,)
        ).fetchone()
        return str(row[0]) if row else None

    def load_login(self, account: str) -> LoginGate | None:
        row = self.conn.execute("SELECT gate FROM logins WHERE account = ?", (account,)).fetchone()
        return LoginGate.from_json(json.loads(row[0])) if row else None

    def save_login(self, account: str, gate: LoginGate | None) -> None:
        with self._write() as conn:
            if gate is None:
                conn.execute("DELETE FROM logins WHERE account = ?", (account,))
                return
            masked = {"last_error": redact.mask(gate.last_error), "refused": _masked(gate.refused)}
            data = json.dumps({**gate.to_json(), **masked})
            conn.execute(
                "INSERT INTO logins (account, gate, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (account) DO UPDATE SET gate = excluded.gate,"
                " updated_at = excluded.updated_at",
                (account, data, _iso(self.clock())),
            )

    def save_session(self, account: str, session: str) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO sessions (account, session, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (account) DO UPDATE SET session = excluded.session,"
                " updated_at = excluded.updated_at",
                (account, session, _iso(self.clock())),
            )

    # --- backup ----------------------------------------------------------------------

    def backup(self, dest: Path | str) -> int:
        """Copy the state file to ``dest`` with SQLite's online backup API, consistent
        even while a daemon writes (WAL readers don't block writers); return its size.

        The copy is written beside ``dest`` and renamed into place, so a reader never
        sees half a backup; it is private to the owner because it holds sessions.
        """
        dest = Path(dest)
        partial = dest.with_name(dest.name + ".partial")
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            partial.unlink(missing_ok=True)
            os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            target = sqlite3.connect(partial)
            try:
                self.conn.backup(target)
                target.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
                check = target.execute("PRAGMA quick_check").fetchone()[0]
            finally:
                target.close()
            if check == "ok":
                os.replace(partial, dest)
                return dest.stat().st_size
        except (OSError, sqlite3.Error) as exc:
            _discard(partial)
            raise StateError(f"{dest}: cannot write the backup: {exc}") from exc
        _discard(partial)
        raise StateError(f"{dest}: the backup failed its integrity check: {check}")

    # --- reporting -------------------------------------------------------------------

    def counts(self, feed: str) -> dict[ItemStatus, int]:
        rows = self.conn.execute(
            "SELECT status, count(*) FROM items WHERE feed = ? GROUP BY status", (feed,)
        )
        return {ItemStatus(r[0]): r[1] for r in rows}

    def errors(self, feed: str, *, limit: int = 5) -> list[tuple[str, str, str]]:
        """Recent item errors as ``(item, kind, error)``."""
        rows = self.conn.execute(
            "SELECT id, coalesce(error_kind, ''), last_error FROM items WHERE feed = ?"
            " AND last_error IS NOT NULL AND status != ? ORDER BY updated_at DESC LIMIT ?",
            (feed, ItemStatus.POSTED, limit),
        )
        return [(r[0], r[1], r[2]) for r in rows]

    def given_up(
        self, feed: str, *, max_attempts: int, max_interrupted: int
    ) -> list[tuple[str, int, int]]:
        """Items no longer retried automatically, as ``(item, failed tries, interrupted
        tries)``: one of the two reached its bound; they wait for a ``repost``."""
        rows = self.conn.execute(
            "SELECT id, attempts, interrupted FROM items WHERE feed = ? AND status = ?"
            " AND (attempts >= ? OR interrupted >= ?) ORDER BY updated_at DESC",
            (feed, ItemStatus.FAILED, max_attempts, max_interrupted),
        )
        return [(str(r[0]), int(r[1]), int(r[2])) for r in rows]


_ITEM_COLUMNS = "feed, id, url, status, attempts, last_error, error_kind, article, first_seen, note"
_THREAD_COLUMNS = "id, feed, item, account, kind, status, owner, plan, posts, error"


def _discard(path: Path) -> None:
    with suppress(OSError):
        path.unlink(missing_ok=True)


def _item(row: tuple[Any, ...]) -> Item:
    return Item(
        feed=row[0],
        id=row[1],
        url=row[2],
        status=ItemStatus(row[3]),
        attempts=row[4],
        last_error=row[5],
        error_kind=ErrorKind(row[6]) if row[6] else None,
        article=Article.from_json(json.loads(row[7])),
        first_seen=datetime.fromisoformat(row[8]),
        note=row[9],
    )


def _thread(row: tuple[Any, ...]) -> ThreadRow:
    kind = ThreadKind(row[4])
    plan = json.loads(row[7]) if row[7] else None
    deletion = kind == ThreadKind.DELETION
    return ThreadRow(
        id=row[0],
        feed=row[1],
        item=row[2],
        account=row[3],
        kind=kind,
        status=ThreadStatus(row[5]),
        owner=row[6],
        plan=Plan.from_json(plan) if plan and not deletion else None,
        posts=tuple(StrongRef(**p) for p in json.loads(row[8])) if row[8] else (),
        error=row[9],
        deletion=Deletion.from_json(plan) if plan and deletion else None,
    )
