from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.urls import TRACKING_PARAMS, is_tracking_param, normalize_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTP://Example.COM/Path", "https://example.com/Path"),
        ("https://www.example.com/a/", "https://example.com/a"),
        ("http://example.com:80/a", "https://example.com/a"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("https://example.com/a#comments", "https://example.com/a"),
        ("https://example.com", "https://example.com/"),
        ("https://example.com/", "https://example.com/"),
        ("https://example.com/?utm_source=x", "https://example.com/"),
        (
            "https://example.com/p?b=2&utm_medium=rss&a=1&fbclid=XYZ&UTM_Campaign=c",
            "https://example.com/p?b=2&a=1",
        ),
        (
            "https://example.com/p?gclid=1&mc_cid=2&mc_eid=3&ref=hn&id=7",
            "https://example.com/p?id=7",
        ),
        ("https://example.com/p?q=a+b&q=c%20d", "https://example.com/p?q=a+b&q=c%20d"),
        ("https://example.com/a%2fb", "https://example.com/a%2Fb"),
        ("https://user@WWW.Example.com./x", "https://user@example.com/x"),
        ("http://[::1]:8080/feed/", "https://[::1]:8080/feed"),
        ("  https://example.com/a  ", "https://example.com/a"),
    ],
)
def test_normalize_url_spells_one_page_one_way(url: str, expected: str) -> None:
    assert normalize_url(url) == expected


def test_http_and_https_and_www_variants_share_one_key() -> None:
    variants = [
        "http://example.com/post/1",
        "https://example.com/post/1/",
        "https://www.example.com/post/1?utm_source=feed#top",
        "HTTPS://WWW.EXAMPLE.COM:443/post/1",
    ]
    assert {normalize_url(v) for v in variants} == {"https://example.com/post/1"}


def test_query_parameters_that_select_content_are_kept_in_order() -> None:
    assert normalize_url("https://example.com/?p=42&page=2") == "https://example.com/?p=42&page=2"
    assert normalize_url("https://example.com/?page=2&p=42") == "https://example.com/?page=2&p=42"


def test_non_http_urls_come_back_unchanged() -> None:
    for url in ("at://did:plc:abc/site.standard.document/3k", "mailto:a@b.c", "tag:x,2026:1"):
        assert normalize_url(url) == url


# --- properties ---------------------------------------------------------------------------

_label = st.from_regex(r"[a-zA-Z0-9]([a-zA-Z0-9-]{0,8}[a-zA-Z0-9])?", fullmatch=True)
_host = st.builds(
    lambda www, labels, tld: www + ".".join(labels) + "." + tld,
    st.sampled_from(["", "www.", "WWW."]),
    st.lists(_label, min_size=1, max_size=3),
    st.sampled_from(["com", "org", "example", "XN--P1AI"]),
)
_segment = st.text(
    alphabet=st.characters(codec="ascii", categories=["L", "N"], include_characters="-._~%"),
    max_size=8,
)
_tracking_name = st.one_of(
    st.sampled_from(sorted(TRACKING_PARAMS)).map(lambda n: n.upper() if len(n) % 2 else n),
    st.builds(lambda s: "utm_" + s, st.from_regex(r"[a-z]{1,8}", fullmatch=True)),
)
_plain_name = st.from_regex(r"[a-z]{1,6}", fullmatch=True).filter(
    lambda n: not is_tracking_param(n)
)
_value = st.from_regex(r"[A-Za-z0-9%+.-]{0,6}", fullmatch=True)
_param = st.tuples(st.one_of(_tracking_name, _plain_name), _value)


@st.composite
def urls(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["http", "https", "HTTP", "Https"]))
    host = draw(_host)
    port = draw(st.sampled_from(["", ":80", ":443", ":8080", ":0443"]))
    path = "/" + "/".join(draw(st.lists(_segment, max_size=4)))
    path += draw(st.sampled_from(["", "/", "//"]))
    params = draw(st.lists(_param, max_size=6))
    query = "&".join(f"{k}={v}" for k, v in params)
    fragment = draw(st.sampled_from(["", "#", "#top", "#a?utm_source=x"]))
    return f"{scheme}://{host}{port}{path}" + (f"?{query}" if params else "") + fragment


@given(urls())
def test_normalize_url_is_idempotent(url: str) -> None:
    once = normalize_url(url)
    assert normalize_url(once) == once


@given(urls())
def test_tracking_params_never_survive(url: str) -> None:
    query = urlsplit(normalize_url(url)).query
    names = [pair.partition("=")[0] for pair in query.split("&") if pair]
    assert not [n for n in names if is_tracking_param(n)]


@given(urls())
def test_result_is_https_lowercase_host_without_www_or_fragment(url: str) -> None:
    parts = urlsplit(normalize_url(url))
    assert parts.scheme == "https"
    assert parts.hostname == (parts.hostname or "").lower()
    assert not (parts.hostname or "").startswith("www.")
    assert parts.fragment == "" and "#" not in normalize_url(url)
    assert parts.port not in (80, 443)


@given(st.text(max_size=60))
def test_any_text_is_handled_without_crashing_and_idempotently(text: str) -> None:
    once = normalize_url(text)
    assert normalize_url(once) == once
