"""Metrics and health over HTTP: a real daemon serves /metrics and /healthz on 127.0.0.1."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from daemons import Daemon, config_text, free_port, write_records
from prometheus_client.parser import text_string_to_metric_families

from bot.config import load_config
from bot.daemon import Daemon as InProcessDaemon
from bot.errors import ConfigError
from bot.listener import Listener
from bot.metrics import Metrics
from bot.model import StrongRef
from bot.observe import PollResult
from bot.outcomes import Failed, Posted, Skipped


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def test_a_daemon_serves_metrics_that_move_after_a_pass_and_healthz(tmp_path: Path) -> None:
    write_records(tmp_path / "records", 4)
    port = free_port()
    listen = f"127.0.0.1:{port}"
    (tmp_path / "feeds.yaml").write_text(
        config_text({"notes": "records"}, interval="1s", metrics=listen)
    )
    daemon = Daemon(tmp_path, "--log-format", "json")
    try:
        daemon.wait_for(r'"event": "pass notes: 4 new, 4 posted, 0 failed"')
        first = _samples(httpx.get(f"http://{listen}/metrics", timeout=10).text)
        daemon.wait_for(r'"event": "pass notes: nothing new"', count=2)
        scraped = httpx.get(f"http://{listen}/metrics", timeout=10)
        health = httpx.get(f"http://{listen}/healthz", timeout=10)
        missing = httpx.get(f"http://{listen}/other", timeout=10)
    finally:
        assert daemon.stop() == 0
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain")
    families = list(text_string_to_metric_families(scraped.text))
    assert families and all(f.name.startswith("feedbot_") for f in families)
    now = _samples(scraped.text)
    polls_ok = ("feedbot_polls_total", (("feed", "notes"), ("result", "ok")))
    assert first[polls_ok] >= 1 and now[polls_ok] >= first[polls_ok] + 1  # counters move
    assert now[("feedbot_items_total", (("feed", "notes"), ("stage", "seen")))] >= 8
    assert now[("feedbot_items_total", (("feed", "notes"), ("stage", "new")))] == 4
    assert now[("feedbot_items_total", (("feed", "notes"), ("stage", "posted")))] == 4
    assert now[("feedbot_threads_posted_total", (("account", "preview"),))] == 4
    assert now[("feedbot_posts_written_total", (("account", "preview"),))] >= 8
    assert now[("feedbot_poll_duration_seconds_count", (("feed", "notes"),))] >= 2
    assert now[("feedbot_post_duration_seconds_count", (("account", "preview"),))] == 4
    last_ok = now[("feedbot_last_successful_poll_timestamp_seconds", (("feed", "notes"),))]
    assert abs(last_ok - datetime.now(UTC).timestamp()) < 120
    assert any(name == "feedbot_build_info" for name, _ in now)
    assert health.status_code == 200 and health.text.startswith("ok: last pass")
    assert missing.status_code == 404
    for line in daemon.lines:  # --log-format json: every line is one object
        record = json.loads(line)
        assert datetime.fromisoformat(record["time"]).tzinfo is not None
        assert set(record) >= {"time", "level", "logger", "event", "fields"}
    posted = [json.loads(line) for line in daemon.lines if '"event": "posted"' in line]
    assert len(posted) == 4 and posted[0]["fields"]["feed"] == "notes"


def test_healthz_says_503_once_the_scheduler_is_stopped_or_passes_are_late(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_records(tmp_path / "records", 1)
    listen = f"127.0.0.1:{free_port()}"
    (tmp_path / "feeds.yaml").write_text(
        config_text({"notes": "records"}, interval="1h", metrics=listen)
    )
    monkeypatch.chdir(tmp_path)
    config = load_config("feeds.yaml")
    daemon = InProcessDaemon(config, load=lambda: config)
    daemon.start()
    try:
        deadline = time.monotonic() + 60  # the first pass must be over, or it resets last_pass
        while daemon.last_pass == daemon.started and time.monotonic() < deadline:
            time.sleep(0.05)
        healthy = httpx.get(f"http://{listen}/healthz", timeout=10)
        daemon.started = daemon.last_pass = datetime.now(UTC) - timedelta(hours=3)
        late = httpx.get(f"http://{listen}/healthz", timeout=10)
        daemon.last_pass = datetime.now(UTC)
        daemon.scheduler.shutdown(wait=True)
        stopped = httpx.get(f"http://{listen}/healthz", timeout=10)
    finally:
        daemon.close()
    assert healthy.status_code == 200
    assert late.status_code == 503
    assert late.text.startswith("unhealthy: last pass 3h ago (limit 2h1m)")
    assert stopped.status_code == 503
    assert stopped.text == "unhealthy: the scheduler is stopped\n"


def test_a_listen_address_in_use_is_one_config_error(tmp_path: Path) -> None:
    metrics = Metrics()
    first = Listener("127.0.0.1:0", metrics.registry, lambda: (True, "fine"))
    taken = first.address
    try:
        with pytest.raises(ConfigError, match=rf"metrics.listen: cannot listen on {taken}"):
            Listener(taken, metrics.registry, lambda: (True, "fine"))
    finally:
        first.close()


def test_labels_are_feed_and_account_names_and_fixed_results() -> None:
    budgets: dict[str, object] = {}
    metrics = Metrics(budgets=lambda: budgets)  # type: ignore[arg-type, return-value]
    metrics.polled("f", PollResult.ERROR, None)
    metrics.items("f", seen=3, new=1, skipped=2)
    metrics.published("f", "acct", Failed("timeout", transient=True), seconds=0.5)
    metrics.published("f", "acct", Skipped("in flight"), seconds=0.0)
    metrics.published(
        "f", "acct", Posted((StrongRef("at://x", "c"), StrongRef("at://y", "d"))), seconds=1
    )
    metrics.paused("acct", 1_900_000_000.0)
    metrics.login("acct", ok=False)
    from prometheus_client import generate_latest

    samples = _samples(generate_latest(metrics.registry).decode())
    assert samples[("feedbot_polls_total", (("feed", "f"), ("result", "error")))] == 1
    assert ("feedbot_last_successful_poll_timestamp_seconds", (("feed", "f"),)) not in samples
    assert samples[("feedbot_items_total", (("feed", "f"), ("stage", "failed")))] == 1
    assert samples[("feedbot_posts_written_total", (("account", "acct"),))] == 2
    assert samples[("feedbot_items_total", (("feed", "f"), ("stage", "posted")))] == 1
    assert samples[("feedbot_rate_limit_pauses_total", (("account", "acct"),))] == 1
    paused = ("feedbot_rate_limit_paused_until_seconds", (("account", "acct"),))
    assert samples[paused] == 1_900_000_000.0
    assert samples[("feedbot_login_failures_total", (("account", "acct"),))] == 1
    labels = {label for _, pairs in samples for label, _ in pairs}
    assert labels <= {"feed", "account", "result", "stage", "window", "le", "version", "python"}


@pytest.mark.parametrize("listen", ["9464", "127.0.0.1:", "127.0.0.1:99999", ":9464"])
def test_a_bad_listen_address_is_one_line_naming_file_and_key(tmp_path: Path, listen: str) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(config_text({"notes": "records"}, metrics=listen))
    with pytest.raises(ConfigError) as bad:
        load_config(path)
    assert str(bad.value) == (
        f'{path}:3: metrics.listen: expected host:port, like "127.0.0.1:9464"'
    )
