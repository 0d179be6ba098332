"""One spelling per page, so the same article reached through two sources is seen once.

``normalize_url`` is a dedup key, not a URL to send readers to: it throws away what
does not change the page (scheme, ``www.``, default ports, fragments, tracking
parameters, a trailing slash) and keeps everything else byte for byte, in order.
It is idempotent: ``normalize_url(normalize_url(u)) == normalize_url(u)``.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_plus

#: query parameters that only say how a reader arrived, never which page they get
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "gclsrc",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "twclid",
        "ttclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "ref",
        "ref_src",
        "ref_url",
        "_hsenc",
        "_hsmi",
        "__hstc",
        "__hssc",
        "__hsfp",
        "hsctatracking",
        "mkt_tok",
        "oly_anon_id",
        "oly_enc_id",
        "vero_id",
        "vero_conv",
        "ck_subscriber_id",
        "s_cid",
        "_ga",
        "_gl",
        "spm",
        "cmpid",
    }
)
_TRACKING_PREFIXES = ("utm_", "pk_", "mtm_")

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_DEFAULT_PORTS = {"80", "443"}
_PERCENT = re.compile(r"%[0-9a-fA-F]{2}")


def is_tracking_param(name: str) -> bool:
    """True for ``utm_*``-style and click-id parameters (names compared decoded, lowercased)."""
    key = unquote_plus(name).strip().lower()
    return key in TRACKING_PARAMS or key.startswith(_TRACKING_PREFIXES)


def normalize_url(url: str) -> str:
    """The dedup key of ``url``; anything that is not an http(s) URL comes back stripped."""
    url = url.strip()
    match = _SCHEME.match(url)
    if match is None or match.group(1).lower() not in ("http", "https"):
        return url
    rest = url[match.end() :]
    if not rest.startswith("//"):
        return url
    rest = rest[2:]
    rest, _, _fragment = rest.partition("#")
    rest, has_query, query = rest.partition("?")
    slash = rest.find("/")
    netloc, path = (rest, "") if slash < 0 else (rest[:slash], rest[slash:])

    userinfo, at, hostport = netloc.rpartition("@")
    host, port = _split_port(hostport)
    host = host.lower().rstrip(".")
    while host.startswith("www."):
        host = host[4:]
    if port in _DEFAULT_PORTS or port == "":
        port = ""
    netloc = (userinfo + at if at else "") + host + (f":{port}" if port else "")

    path = _PERCENT.sub(lambda m: m.group(0).upper(), path).rstrip("/") or "/"
    kept = (
        [
            pair
            for pair in query.split("&")
            if pair and not is_tracking_param(pair.partition("=")[0])
        ]
        if has_query
        else []
    )
    query = "&".join(kept)
    return f"https://{netloc}{path}" + (f"?{query}" if query else "")


def _split_port(hostport: str) -> tuple[str, str]:
    """Split ``host:port``, leaving IPv6 literals (``[::1]``) whole."""
    if hostport.startswith("["):
        end = hostport.find("]")
        if end >= 0:
            rest = hostport[end + 1 :]
            if rest.startswith(":") and rest[1:].isdigit():
                return hostport[: end + 1], rest[1:].lstrip("0") or "0"
            return hostport, ""
        return hostport, ""
    host, colon, port = hostport.rpartition(":")
    if colon and port.isdigit():
        return host, port.lstrip("0") or "0"
    if colon and port == "":
        return host, ""
    return hostport, ""
