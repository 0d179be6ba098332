"""The one place HTTP clients are made, so every request names the bot and has timeouts,
and the one reader of bounded bodies (a byte cap and a deadline for the whole request)."""

from __future__ import annotations

import time
import urllib.request
import zlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any

import httpx

from bot import __version__
from bot.netguard import GuardedTransport, Resolver, system_resolve

USER_AGENT = f"feedbot/{__version__} (+https://github.com/feedbot/feedbot)"
DEFAULT_TIMEOUT = httpx.Timeout(20.0, connect=10.0)


#: httpx's own default pool size, for the transports ``make_client`` builds itself
DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)
#: ``make_client`` arguments after which the client still sends every request through
#: the one transport it holds, untouched (auth, hooks, mounts or proxies would not)
_DIRECT_SAFE = frozenset({"headers", "timeout", "follow_redirects", "limits", "transport"})


class Client(httpx.Client):
    """An ``httpx.Client`` that knows the transport all its requests go through, when
    one does: ``open_get`` hands a request straight to it, skipping the client's auth,
    redirect, hook and cookie layers (about a fifth of a poll's HTTP cost)."""

    def __init__(self, *, direct: httpx.BaseTransport | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.direct = direct


def make_client(
    *, allow_private: bool = True, resolve: Resolver = system_resolve, **kwargs: Any
) -> Client:
    """An ``httpx.Client`` with feedbot's User-Agent and timeouts; kwargs override.

    ``allow_private=False`` gives a client for URLs found inside content: it connects
    only to public addresses (``bot.netguard``), on every redirect hop too. Proxies in
    the environment (``HTTPS_PROXY``, …) are honoured as httpx honours them. No client
    keeps cookies: feedbot needs none, and a server setting thousands must not grow it.
    """
    # only encodings ``read_bounded`` decodes with a bound on each step
    headers = {
        "User-Agent": USER_AGENT,
        "Accept-Encoding": "gzip, deflate",
        **kwargs.pop("headers", {}),
    }
    kwargs.setdefault("timeout", DEFAULT_TIMEOUT)
    kwargs.setdefault("follow_redirects", False)
    if not allow_private and kwargs.get("transport") is None:
        kwargs["transport"] = GuardedTransport(resolve, kwargs.get("limits", DEFAULT_LIMITS))
    direct: httpx.BaseTransport | None = None
    if kwargs.keys() <= _DIRECT_SAFE:
        if kwargs.get("transport") is None and not urllib.request.getproxies():
            # what httpx would build; with a proxy configured httpx mounts its own
            kwargs["transport"] = httpx.HTTPTransport(limits=kwargs.get("limits", DEFAULT_LIMITS))
        direct = kwargs.get("transport")  # a given transport takes every request in httpx too
    no_cookies = CookieJar(DefaultCookiePolicy(allowed_domains=()))
    return Client(headers=headers, direct=direct, cookies=no_cookies, **kwargs)


@dataclass(frozen=True)
class Bounded:
    """A response whose body was read within its byte cap and deadline."""

    status: int
    reason: str
    url: str
    headers: dict[str, str]  # names in lower case
    body: bytes


Fail = Callable[[str], Exception]


class Deadline:
    """One deadline for a whole request: each read gets only the time that is left."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._end = clock() + seconds

    def left(self) -> float:
        return self._end - self._clock()

    def timeout(self) -> httpx.Timeout:
        return httpx.Timeout(max(self.left(), 0.001))

    def passed(self) -> bool:
        return self.left() <= 0


def read_bounded(
    response: httpx.Response, *, url: str, limit: int, deadline: Deadline, fail: Fail
) -> bytes:
    """The decoded body, or ``fail(reason)`` raised once it passes ``limit`` bytes (after
    gzip decoding, so a bomb stops at the cap) or the deadline passes between reads."""
    too_big = f"response from {url} exceeds max_bytes={limit}; aborted"
    length = response.headers.get("content-length", "")
    identity = response.headers.get("content-encoding", "identity") == "identity"
    if identity and length.isdigit() and int(length) > limit:
        raise fail(too_big)
    chunks: list[bytes] = []
    total = 0
    for chunk in _decoded(response, limit, fail):
        total += len(chunk)
        if total > limit:
            raise fail(too_big)
        if deadline.passed():
            raise fail(f"timed out after {deadline.seconds:g}s reading {url}")
        chunks.append(chunk)
    return b"".join(chunks)


def _decoded(response: httpx.Response, limit: int, fail: Fail) -> Iterator[bytes]:
    """The body's bytes after content decoding, never more than ``limit + 1`` at a time:
    gzip and deflate are decoded here with a bound on each step's output, so a bomb
    (1 GB of zeros in 1 MB) costs a chunk's worth of memory, not the whole expansion."""
    encoding = response.headers.get("content-encoding", "").strip().lower()
    if encoding in ("", "identity"):
        yield from response.iter_raw()
        return
    if encoding not in ("gzip", "x-gzip", "deflate"):
        yield from response.iter_bytes()  # httpx decodes the rest (br, zstd) as it reads
        return
    decoder = zlib.decompressobj(zlib.MAX_WBITS | 32)  # a gzip or zlib header
    try:
        for raw in response.iter_raw():
            data = raw
            while data and not decoder.eof:
                yield decoder.decompress(data, limit + 1)
                data = decoder.unconsumed_tail
        yield decoder.flush()
    except zlib.error as exc:
        raise fail(f"cannot decode the {encoding} body: {exc}") from exc


@contextmanager
def open_get(
    client: httpx.Client, url: httpx.URL, headers: Mapping[str, str], deadline: Deadline
) -> Iterator[httpx.Response]:
    """A streamed GET of an already-parsed URL: ``client.stream("GET", …)`` without what
    a poll does not need: parsing the URL again, and the cookie jar (a cookie one feed's
    server sets is never sent to the others). The client's headers come first,
    then ``headers``. The request goes through the client's transport, and so
    ``bot.netguard``; straight to it when the client is ``make_client``'s."""
    merged = client.headers.copy()
    merged.update(headers)
    request = httpx.Request(
        "GET", url, headers=merged, extensions={"timeout": deadline.timeout().as_dict()}
    )
    direct = client.direct if isinstance(client, Client) else None
    if direct is None:
        response = client.send(request, stream=True)
    elif client.is_closed:
        raise RuntimeError("Cannot send a request, as the client has been closed.")
    else:
        response = direct.handle_request(request)
        response.request = request
    try:
        yield response
    finally:
        response.close()


@contextmanager
def translated_errors(url: str, deadline: Deadline, fail: Fail) -> Iterator[None]:
    """httpx's errors while fetching ``url`` as ``fail(one line)``."""
    try:
        yield
    except httpx.TimeoutException as exc:
        raise fail(f"timed out after {deadline.seconds:g}s fetching {url}") from exc
    except httpx.HTTPError as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise fail(f"cannot fetch {url}: {reason}") from exc


def request_bounded(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    max_bytes: int,
    seconds: float,
    fail: Fail,
    read_status: Callable[[int], bool] = lambda status: status == 200,
    **kwargs: Any,
) -> Bounded:
    """One request with a byte cap and a whole-request deadline (redirects, as the client
    follows them, included); the body is read only when ``read_status`` says so. Every
    failure, HTTP errors included, is raised as ``fail(one-line reason)``."""
    deadline = Deadline(seconds)
    with (
        translated_errors(url, deadline, fail),
        client.stream(method, url, timeout=deadline.timeout(), **kwargs) as response,
    ):
        body = b""
        if read_status(response.status_code):
            body = read_bounded(response, url=url, limit=max_bytes, deadline=deadline, fail=fail)
        return Bounded(
            status=response.status_code,
            reason=response.reason_phrase,
            url=str(response.url),
            headers=dict(response.headers.items()),
            body=body,
        )
