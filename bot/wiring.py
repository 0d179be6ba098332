"""Building a ``Pipeline`` from a ``Config``: which source, summarizer and publisher each
feed gets. The CLI and the daemon both start here."""

from __future__ import annotations

import sys
import threading
from collections.abc import Mapping
from contextlib import ExitStack
from datetime import timedelta
from typing import TextIO

import httpx

from bot.clock import Clock, utcnow
from bot.config import (
    BlueskyAccount,
    Config,
    FeedSettings,
    FeedSourceSettings,
    RecordsSourceSettings,
)
from bot.follow import StreamKind, StreamSpec
from bot.http import make_client
from bot.observe import NO_OBSERVER, Observer
from bot.pipeline import Pipeline
from bot.progress import NO_PROGRESS, Progress
from bot.publish import Publisher
from bot.publish.preview import PreviewPublisher
from bot.sources import Source
from bot.sources.records import RecordsSource
from bot.state import State
from bot.streams import Stream
from bot.summarize import Summarizer, make_summarizer


def make_source(
    feed: FeedSettings,
    client: httpx.Client,
    guarded: httpx.Client | None = None,
    progress: Progress = NO_PROGRESS,
) -> Source:
    """``client`` asks what the config names; ``guarded`` (refusing private addresses)
    fetches URLs found in content, unless the source has ``allow_private_addresses``."""
    settings = feed.source
    content = client if guarded is None or settings.allow_private_addresses else guarded
    if isinstance(settings, RecordsSourceSettings):
        return RecordsSource(feed.name, settings.path)
    if isinstance(settings, FeedSourceSettings):
        from bot.sources.feed import FeedSource

        return FeedSource(feed.name, settings, client, content_client=content)
    from bot.sources.atproto import AtprotoSource

    return AtprotoSource(feed.name, settings, client, content_client=content, progress=progress)


def private_ok_feeds(config: Config) -> frozenset[str]:
    """Feeds whose owner allowed their content's URLs to reach private addresses."""
    return frozenset(f.name for f in config.feeds if f.source.allow_private_addresses)


def make_publishers(
    config: Config,
    state: State,
    *,
    dry_run: bool,
    as_json: bool,
    out: TextIO,
    clock: Clock = utcnow,
    closing: ExitStack | None = None,
    observer: Observer = NO_OBSERVER,
    keep: Mapping[str, Publisher] | None = None,
) -> dict[str, Publisher]:
    """One publisher per account; Bluesky ones are closed by ``closing`` when given.
    Those in ``keep`` (a reload's unchanged accounts) are reused with their session and
    write budget, and stay closed by whoever opened them."""
    preview = PreviewPublisher(out, as_json=as_json)
    publishers: dict[str, Publisher] = {}
    for name, account in config.accounts.items():
        if dry_run or not isinstance(account, BlueskyAccount):
            publishers[name] = preview
        elif keep is not None and name in keep:
            publishers[name] = keep[name]
        else:
            from bot.publish.bluesky import BlueskyPublisher
            from bot.publish.pacing import points

            since = clock() - timedelta(days=1)
            history = [(when, points(c, d)) for when, c, d in state.writes(name, since=since)]
            publisher = BlueskyPublisher(
                name,
                account,
                state,
                clock=lambda: clock().timestamp(),
                history=history,
                observer=observer,
                private_ok=private_ok_feeds(config),
            )
            publishers[name] = closing.enter_context(publisher) if closing else publisher
    return publishers


def build_pipeline(
    config: Config,
    state: State,
    *,
    dry_run: bool = False,
    as_json: bool = False,
    out: TextIO | None = None,
    env: Mapping[str, str] | None = None,
    stop: threading.Event | None = None,
    clock: Clock = utcnow,
    observer: Observer = NO_OBSERVER,
    keep: Mapping[str, Publisher] | None = None,
    progress: Progress = NO_PROGRESS,
) -> Pipeline:
    """The pipeline for ``config``; use it as a context manager so that the HTTP client
    and the publishers it opened are closed."""
    import os

    env = dict(os.environ) if env is None else env
    with ExitStack() as closing:  # closed here only if building fails half-way
        client = closing.enter_context(make_client())
        guarded = closing.enter_context(make_client(allow_private=False))
        sources = {f.name: make_source(f, client, guarded, progress) for f in config.feeds}
        secrets = secrets_of(config, env)
        summarizers: dict[str, Summarizer] = {
            f.name: make_summarizer(f.summary, env, secrets) for f in config.feeds
        }
        publishers = make_publishers(
            config,
            state,
            dry_run=dry_run,
            as_json=as_json,
            out=out or sys.stdout,
            clock=clock,
            closing=closing,
            observer=observer,
            keep=keep,
        )
        return Pipeline(
            config,
            state,
            sources=sources,
            publishers=publishers,
            summarizers=summarizers,
            dry_run=dry_run,
            clock=clock,
            stop=stop,
            closing=closing.pop_all(),
            observer=observer,
            progress=progress,
        )


def secrets_of(config: Config, env: Mapping[str, str]) -> list[str]:
    """Every secret the config holds or names, for the log filter."""
    out = [
        a.app_password.get_secret_value()
        for a in config.accounts.values()
        if isinstance(a, BlueskyAccount)
    ]
    for feed in config.feeds:
        llm = feed.summary.llm
        if llm is not None and llm.api_key_env and env.get(llm.api_key_env):
            out.append(env[llm.api_key_env])
    return out


def make_stream(spec: StreamSpec) -> Stream:
    """The transport for ``spec``: Jetstream (an endpoint the config names) or the
    firehose (whose endpoint may come from a DID document: guarded unless allowed)."""
    if spec.kind == StreamKind.JETSTREAM:
        from bot.streams.jetstream import JetstreamStream

        return JetstreamStream(spec.url, spec.subscription)
    from bot.streams.firehose import FirehoseStream

    return FirehoseStream(spec.url, spec.subscription, public_only=not spec.allow_private)
