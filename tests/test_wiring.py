"""Wiring: what build_pipeline opens for a pipeline, the pipeline closes."""

from __future__ import annotations

from pathlib import Path

from bot.config import Config
from bot.publish.bluesky import BlueskyPublisher
from bot.sources.feed import FeedSource
from bot.state import State
from bot.wiring import build_pipeline


def test_leaving_a_pipeline_closes_its_http_client_and_publishers(tmp_path: Path) -> None:
    config = Config.model_validate(
        {
            "state": str(tmp_path / "s.db"),
            "accounts": {"me": {"type": "bluesky", "handle": "me.test", "app_password": "pw"}},
            "feeds": [
                {
                    "name": "f",
                    "account": "me",
                    "source": {"type": "feed", "url": "http://127.0.0.1:9/feed.xml"},
                }
            ],
        }
    )
    with State.open(config.state) as state, build_pipeline(config, state, env={}) as pipeline:
        source = pipeline.sources["f"]
        publisher = pipeline.publishers["me"]
        assert isinstance(source, FeedSource) and isinstance(publisher, BlueskyPublisher)
        assert not source.client.is_closed
    assert source.client.is_closed
    assert publisher._http.is_closed  # its own client for covers
