"""Bench: from a document's ``createRecord`` to its thread's ``applyWrites``, by follow mode.

    .venv/bin/python bench/latency.py [--docs 50] [--modes poll,jetstream,firehose]

On the local network: the PDS (tests/pds.py) and the local Jetstream bridge over its
firehose (tests/jetstream_bridge.py). For each mode a fresh author and bot account, a
config with one atproto feed (``follow: poll`` at the shortest interval the config
allows, 1m; ``follow: jetstream`` through the bridge; ``follow: firehose`` on the
author's own PDS) and the real daemon (``feedbot run``) in a child process. After one
warm-up document has been posted (the stream is live), ``--docs`` documents are written
one at a time (every ``--gap`` seconds; for poll, at random moments over two intervals),
and each one's latency is the time from just before its ``createRecord`` to the commit
time the PDS stamps on the bot's ``applyWrites`` (read from the PDS's firehose), both on
this machine's clock. Prints p50, p95 and the max per mode. Target: the stream modes'
p50 under 2 s and p95 under 5 s.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from jetstream import JetstreamProcess, firehose_url  # noqa: E402
from pds import Account, LocalPds, Network, install_devenv, node_binary  # noqa: E402

DOC = "site.standard.document"
POST = "app.bsky.feed.post"
SITE = "https://author.example"
WARM_UP = 90.0  # seconds for the warm-up document's thread (a poll waits one interval)


class Landings:
    """The PDS's firehose, watched for the bot's threads: link card URL → commit time."""

    def __init__(self, pds: LocalPds, bot: Account) -> None:
        from atproto_firehose import FirehoseSubscribeReposClient

        self.bot = bot
        self.landed: dict[str, float] = {}
        self.changed = threading.Condition()
        self.client = FirehoseSubscribeReposClient(base_uri=firehose_url(pds) + "/xrpc")
        self.thread = threading.Thread(target=self.client.start, args=(self._on,), daemon=True)
        self.thread.start()

    def _on(self, frame: Any) -> None:
        import libipld

        if frame.header.t != "#commit" or frame.body.get("repo") != self.bot.did:
            return
        stamp = datetime.fromisoformat(frame.body["time"]).timestamp()
        _, blocks = libipld.decode_car(frame.body["blocks"])
        for op in frame.body.get("ops") or ():
            record = blocks.get(op.get("cid")) if op["action"] == "create" else None
            if not isinstance(record, dict) or record.get("$type") != POST:
                continue
            uri = ((record.get("embed") or {}).get("external") or {}).get("uri")
            if isinstance(uri, str):
                with self.changed:
                    self.landed.setdefault(uri, stamp)
                    self.changed.notify_all()

    def wait(self, url: str, timeout: float) -> float | None:
        deadline = time.monotonic() + timeout
        with self.changed:
            while url not in self.landed:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self.changed.wait(remaining)
            return self.landed[url]

    def stop(self) -> None:
        self.client.stop()
        self.thread.join(5)


def config(folder: Path, pds: LocalPds, bot: Account, author: Account, source: str) -> Path:
    path = folder / "feeds.yaml"
    path.write_text(
        f"""state: {folder / "feedbot.db"}
accounts:
  bot:
    type: bluesky
    handle: {bot.handle}
    app_password: ${{BENCH_APP_PASSWORD}}
    pds: {pds.pds_url}
    burst_points: 1000
feeds:
  - name: latency
    account: bot
    interval: 1m
    backfill: 0
    summary: {{max_posts: 2}}
    source:
      type: atproto
      repo: {author.did}
      plc_url: {pds.plc_url}
      allow_private_addresses: true
{source}
""",
        encoding="utf-8",
    )
    return path


def document(n: int, title: str) -> dict[str, Any]:
    text = " ".join(f"Sentence {i} of {title} says one plain thing." for i in range(30))
    return {
        "site": SITE,
        "path": f"/{n}",
        "title": title,
        "publishedAt": datetime.now().astimezone().isoformat(timespec="milliseconds"),
        "textContent": text,
    }


def measure(
    pds: LocalPds, mode: str, source: str, docs: int, gap: float, spread: float | None
) -> list[float]:
    author, bot = pds.create_account(f"{mode}a"), pds.create_account(f"{mode}b")
    folder = Path(tempfile.mkdtemp(prefix=f"feedbot-latency-{mode}-"))
    landings = Landings(pds, bot)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "FEEDBOT_CONFIG": str(config(folder, pds, bot, author, source)),
        "BENCH_APP_PASSWORD": bot.password,
    }
    log = (folder / "daemon.log").open("wb")
    daemon = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"], cwd=folder, env=env, stderr=log, stdout=log
    )
    latencies: list[float] = []
    try:
        time.sleep(3)
        pds.put_record(author, DOC, document(0, "Warm up"))
        if landings.wait(f"{SITE}/0", WARM_UP) is None:
            raise RuntimeError(f"{mode}: the warm-up thread never landed; see {folder}")
        rng = random.Random(7)
        moments = sorted(rng.uniform(0, spread) for _ in range(docs)) if spread else None
        began = time.monotonic()
        written: list[tuple[str, float]] = []
        for n in range(1, docs + 1):
            if moments is not None:
                time.sleep(max(0.0, began + moments[n - 1] - time.monotonic()))
            before = time.time()
            pds.put_record(author, DOC, document(n, f"Document {n} by {mode}"))
            written.append((f"{SITE}/{n}", before))
            if moments is None:
                time.sleep(gap)
        for url, before in written:
            landed = landings.wait(url, 120.0)
            if landed is None:
                raise RuntimeError(f"{mode}: {url} never landed; see {folder}")
            latencies.append(landed - before)
    finally:
        daemon.terminate()
        daemon.wait(30)
        log.close()
        landings.stop()
    return latencies


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--docs", type=int, default=50)
    parser.add_argument("--gap", type=float, default=1.0, help="seconds between documents")
    parser.add_argument("--modes", default="poll,jetstream,firehose")
    args = parser.parse_args()
    if not node_binary().exists():
        install_devenv()
    folder = Path(tempfile.mkdtemp(prefix="feedbot-latency-"))
    network = Network(folder / "network.log")
    rows = []
    try:
        urls = network.wait_ready()
        pds = LocalPds(urls["pds"], urls["plc"])
        bridge = JetstreamProcess(firehose_url(pds), folder / "bridge.log")
        bridge.start()
        try:
            for mode in args.modes.split(","):
                if mode == "poll":
                    source, spread = "", 120.0
                elif mode == "jetstream":
                    source, spread = f"      follow: jetstream\n      jetstream: {bridge.url}", None
                else:
                    source, spread = "      follow: firehose", None
                latencies = measure(pds, mode, source, args.docs, args.gap, spread)
                rows.append((mode, latencies))
                print(f"{mode}: {len(latencies)} documents measured", flush=True)
        finally:
            bridge.kill()
        load = os.getloadavg()[0]
    finally:
        network.stop()
    print()
    print(f"{args.docs} documents per mode; load {load:.1f}")
    print()
    print("| follow | p50 | p95 | max | mean |")
    print("|---|---|---|---|---|")
    for mode, values in rows:
        print(
            f"| {mode} | {percentile(values, 0.5):.2f} s | {percentile(values, 0.95):.2f} s "
            f"| {max(values):.2f} s | {statistics.fmean(values):.2f} s |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
