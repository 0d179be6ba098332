"""Bench: what following the whole network costs, by stream and by polling.

    .venv/bin/python bench/stream_scale.py [--rate 1000] [--seconds 20] [--accounts 20]

1. Records real events: starts the local PDS (tests/pds.py), writes a network-like mix
   of records on it at speed (likes, posts, follows, reposts; 0.1% ``site.standard.document``)
   spread over ``--accounts`` repos, and lets the local Jetstream bridge
   (tests/jetstream_bridge.py) read them from the PDS's real firehose, converted to
   Jetstream frames. Nothing is made up but the records' text.
2. Replays those events through a second bridge at ``--rate`` events per second, new
   seqs and times, for ``--seconds``, to one consumer at a time in a child process: the
   SDK's ``JetstreamClient`` asking for documents only (a network-wide ``repo: "*"``
   feed: Jetstream filters by collection on the server) or for everything (what a
   consumer that filters by itself, as on the firehose, receives), with and without
   zstd. Bandwidth is the websocket payload bytes the bridge sent; CPU is the child's
   user+system time while it consumed (imports excluded), as a share of one core.
3. Polling: feedbot's ``AtprotoSource`` polls the same repos (nothing new: one
   ``listRecords`` per repo) with 16 threads for a few seconds; polls per second, and
   so how many repos one process can poll per interval.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

import jetstream_wire as wire  # noqa: E402
from jetstream import firehose_url  # noqa: E402
from jetstream_bridge import BridgeThread  # noqa: E402
from pds import Account, LocalPds, Network, install_devenv, node_binary  # noqa: E402

DOC = "site.standard.document"
WORDS = [
    "the",
    "a",
    "network",
    "post",
    "today",
    "new",
    "open",
    "source",
    "protocol",
    "release",
    "thread",
    "read",
    "write",
    "people",
    "bluesky",
    "atproto",
    "rust",
    "python",
    "web",
    "design",
    "morning",
    "coffee",
    "music",
    "photo",
    "city",
    "long",
    "notes",
]


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# --- 1. recording -------------------------------------------------------------------


def sentence(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high)))


def write_mix(pds: LocalPds, accounts: list[Account], events: int, rng: random.Random) -> int:
    """About ``events`` record creates, a network-like mix; returns the documents written."""
    now = "2026-12-01T12:00:00.000Z"
    seed = [
        pds.put_record(a, "app.bsky.feed.post", {"text": "hello", "createdAt": now})
        for a in accounts
    ]
    documents = 0
    written = len(seed)
    batch = 200
    while written < events:
        account = rng.choice(accounts)
        writes: list[dict[str, Any]] = []
        for _ in range(min(batch, events - written)):
            roll = rng.random()
            if roll < 0.001:
                collection = DOC
                value: dict[str, Any] = {
                    "site": "https://news.example.com",
                    "path": f"/{written}",
                    "title": sentence(rng, 4, 10),
                    "description": sentence(rng, 15, 30),
                    "textContent": sentence(rng, 400, 1200),
                    "tags": ["rust"],
                    "publishedAt": now,
                }
                documents += 1
            elif roll < 0.55:
                uri, cid = rng.choice(seed)
                collection = "app.bsky.feed.like"
                value = {"subject": {"uri": uri, "cid": cid}, "createdAt": now}
            elif roll < 0.80:
                collection = "app.bsky.feed.post"
                value = {"text": sentence(rng, 5, 40), "langs": ["en"], "createdAt": now}
            elif roll < 0.90:
                collection = "app.bsky.graph.follow"
                value = {"subject": rng.choice(accounts).did, "createdAt": now}
            else:
                uri, cid = rng.choice(seed)
                collection = "app.bsky.feed.repost"
                value = {"subject": {"uri": uri, "cid": cid}, "createdAt": now}
            writes.append(
                {
                    "$type": "com.atproto.repo.applyWrites#create",
                    "collection": collection,
                    "value": {"$type": collection, **value},
                }
            )
        pds.apply_writes(account, writes)
        written += len(writes)
    return documents


def record(pds: LocalPds, count: int) -> list[dict[str, Any]]:
    """The PDS's history as Jetstream commit payloads, through a bridge on its firehose."""
    with BridgeThread(firehose_url(pds), buffer=count * 2 + 10_000) as bridge:
        assert bridge.bridge is not None
        ring = list(bridge.bridge.ring)
    return [json.loads(e.frame)["payload"] for e in ring if e.kind == "commit"]


def firehose_frames(pds: LocalPds, accounts: list[Account], count: int) -> list[bytes]:
    """``count`` one-record commits, as a firehose consumer receives them (raw frames)."""
    import libipld
    from websockets.sync.client import connect

    now = "2026-12-01T12:00:00.000Z"
    url = f"{firehose_url(pds)}/xrpc/com.atproto.sync.subscribeRepos"
    frames: list[bytes] = []
    post = "app.bsky.feed.post"
    uri, cid = pds.put_record(accounts[0], post, {"text": "seed", "createdAt": now})
    like = {"subject": {"uri": uri, "cid": cid}, "createdAt": now}
    rng = random.Random(3)
    with connect(url, max_size=None, open_timeout=30) as ws:
        for n in range(count):  # half posts, half likes, one record per commit
            account = accounts[n % len(accounts)]
            if n % 2:
                pds.put_record(account, post, {"text": sentence(rng, 5, 40), "createdAt": now})
            else:
                pds.put_record(account, "app.bsky.feed.like", like)
        while len(frames) < count:
            raw = ws.recv(30)
            assert isinstance(raw, bytes)
            header, _ = libipld.decode_dag_cbor_multi(raw)
            if header.get("t") == "#commit":
                frames.append(raw)
    return frames


def firehose_decode_cpu(frames: list[bytes], rounds: int = 5) -> float:
    """CPU seconds per frame of the SDK's firehose decoding: frame, message model, CAR."""
    from atproto_core.car import CAR
    from atproto_firehose import parse_subscribe_repos_message
    from atproto_subscription.frames import Frame

    before = cpu_seconds()
    for _ in range(rounds):
        for raw in frames:
            message = parse_subscribe_repos_message(Frame.from_bytes(raw))
            blocks = CAR.from_bytes(message.blocks).blocks
            for op in message.ops:
                blocks.get(op.cid)
    return (cpu_seconds() - before) / (rounds * len(frames))


# --- 2. replay and consumers -----------------------------------------------------------


def replay(
    bridge: BridgeThread, payloads: list[dict[str, Any]], rate: float, seconds: float
) -> int:
    """Publish payloads (cycling) at ``rate`` per second for ``seconds``; returns how many."""
    assert bridge.bridge is not None
    target = bridge.bridge
    start = time.monotonic()
    sent = 0
    seq = target.ring[-1].seq + 1 if target.ring else 1

    async def publish(batch: list[wire.Event]) -> None:
        target.publish(batch)

    while (elapsed := time.monotonic() - start) < seconds:
        due = int(elapsed * rate) - sent
        batch: list[wire.Event] = []
        for _ in range(max(due, 0)):
            payload = dict(payloads[(sent + len(batch)) % len(payloads)])
            micros = time.time_ns() // 1000
            payload["seq"] = seq
            payload["time"] = payload["witnessedAt"] = wire.timestamp(micros)
            frame = wire.message_frame(payload)
            batch.append(
                wire.Event(seq, micros, "commit", payload["did"], payload["collection"], frame)
            )
            seq += 1
        if batch:
            bridge.call(publish(batch))
            sent += len(batch)
        time.sleep(0.01)
    return sent


def consume(url: str, consumer: str, collections: list[str], compress: bool) -> dict[str, Any]:
    """In the child: one consumer until stdin says stop; what it received and its CPU."""
    counts = {"messages": 0, "documents": 0}

    def count(collection: str | None) -> None:
        counts["messages"] += 1
        counts["documents"] += collection == DOC

    if consumer == "feedbot":
        from bot.streams import Batch, Subscription
        from bot.streams.jetstream import JetstreamStream

        wanted = Subscription(frozenset(collections), None)
        stream = JetstreamStream(url.removesuffix("/xrpc"), wanted, compress=compress)
        stop = threading.Event()

        def deliver(batch: Batch) -> None:
            for event in batch.events:
                count(event.collection)

        thread = threading.Thread(target=stream.run, args=(None, deliver, stop), daemon=True)
        finish: Callable[[], None] = stop.set
        compressed: Callable[[], bool] = lambda: bool(stream.compressed)  # noqa: E731
    else:
        from atproto_jetstream import JetstreamClient

        params = {"collections": collections} if collections else {}
        client = JetstreamClient(params=params, base_uri=url, compress=compress)
        thread = threading.Thread(
            target=client.start,
            args=(lambda message: count(getattr(message, "collection", None)),),
            daemon=True,
        )
        finish = client.stop
        compressed = lambda: bool(client.compressed)  # noqa: E731
    before = cpu_seconds()
    thread.start()
    print(json.dumps({"ready": True}), flush=True)
    sys.stdin.readline()
    finish()
    thread.join(10)
    return {**counts, "cpu": cpu_seconds() - before, "compressed": compressed()}


def feedbot_has_jetstream() -> bool:
    """Whether this tree has feedbot's own Jetstream transport yet."""
    import importlib.util

    return importlib.util.find_spec("bot.streams.jetstream") is not None


def run_consumer(
    url: str,
    consumer: str,
    collections: list[str],
    compress: bool,
    start_replay: Callable[[], int],
) -> dict[str, Any]:
    """One consumer in a child process while ``start_replay`` runs; what it reports."""
    args = [sys.executable, __file__, "--consume", url, "--consumer", consumer]
    args += ["--collections", ",".join(collections)]
    args += ["--compress"] if compress else []
    child = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdin is not None and child.stdout is not None
    json.loads(child.stdout.readline())  # imports done, connecting
    time.sleep(0.5)
    events = start_replay()
    time.sleep(0.5)  # the last frames in flight
    child.stdin.write("stop\n")
    child.stdin.flush()
    result: dict[str, Any] = json.loads(child.stdout.readline())
    child.wait(30)
    result["events"] = events
    return result


# --- 3. polling ------------------------------------------------------------------------


def poll_rate(pds: LocalPds, accounts: list[Account], seconds: float) -> tuple[float, float]:
    """(polls per second, CPU ms per poll) of feedbot's AtprotoSource, nothing new."""
    from bot.config import AtprotoSourceSettings
    from bot.http import make_client
    from bot.sources.atproto import AtprotoSource

    client = make_client()
    sources = []
    for account in accounts:
        settings = AtprotoSourceSettings(
            type="atproto", repo=account.did, plc_url=pds.plc_url, resolver_url=pds.pds_url
        )
        sources.append(AtprotoSource("bench", settings, client))
    cursors = [source.poll({}).cursor for source in sources]  # first polls: identities cached
    polls = 0
    deadline = time.monotonic() + seconds
    before_cpu, before = cpu_seconds(), time.monotonic()

    def poll(index: int) -> None:
        sources[index].poll(cursors[index])

    with ThreadPoolExecutor(16) as pool:
        while time.monotonic() < deadline:
            list(pool.map(poll, range(len(sources))))
            polls += len(sources)
    wall = time.monotonic() - before
    cpu = cpu_seconds() - before_cpu
    client.close()
    return polls / wall, cpu / polls * 1000


# --- the table -------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rate", type=float, default=1000.0, help="events per second")
    parser.add_argument("--seconds", type=float, default=20.0, help="per scenario")
    parser.add_argument("--accounts", type=int, default=20)
    parser.add_argument("--events", type=int, default=20_000, help="events to record")
    parser.add_argument("--consume", help=argparse.SUPPRESS)
    parser.add_argument("--collections", default="", help=argparse.SUPPRESS)
    parser.add_argument("--consumer", default="sdk", help=argparse.SUPPRESS)
    parser.add_argument("--compress", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.consume:
        collections = [c for c in args.collections.split(",") if c]
        print(json.dumps(consume(args.consume, args.consumer, collections, args.compress)))
        return 0

    if not node_binary().exists():
        install_devenv()
    network = Network(Path(tempfile.mkdtemp(prefix="feedbot-bench-")) / "network.log")
    try:
        urls = network.wait_ready()
        pds = LocalPds(urls["pds"], urls["plc"])
        rng = random.Random(16)
        accounts = [pds.create_account(f"net{n}") for n in range(args.accounts)]
        began = time.monotonic()
        documents = write_mix(pds, accounts, args.events, rng)
        payloads = record(pds, args.events)
        frames = firehose_frames(pds, accounts, 300)
        frame_cpu = firehose_decode_cpu(frames)
        frame_bytes = sum(map(len, frames)) / len(frames)
        print(
            f"recorded {len(payloads)} commit events ({documents} documents) from the local "
            f"PDS's firehose in {time.monotonic() - began:.0f} s",
            flush=True,
        )
        scenarios = [
            ("SDK JetstreamClient", "sdk", "documents only", [DOC]),
            ("SDK JetstreamClient", "sdk", "everything", []),
        ]
        if feedbot_has_jetstream():
            scenarios.append(("feedbot JetstreamStream", "feedbot", "documents only", [DOC]))
        rows = []
        for name, consumer, label, collections in scenarios:
            for compress in (False, True):
                with BridgeThread(None) as server:
                    assert server.bridge is not None
                    bridge = server.bridge
                    result = run_consumer(
                        bridge.url,
                        consumer,
                        collections,
                        compress,
                        partial(replay, server, payloads, args.rate, args.seconds),
                    )
                    rows.append((name, label, result, bridge.bytes_sent))
        polls, cpu_ms = poll_rate(pds, accounts, min(args.seconds, 10.0))
        load = os.getloadavg()[0]
    finally:
        network.stop()

    print()
    print(f"replay: {args.rate:.0f} events/s for {args.seconds:.0f} s per row; load {load:.1f}")
    print()
    print("| consumer | asks for | zstd | events/s received | bytes/s | CPU, one core |")
    print("|---|---|---|---|---|---|")
    for name, label, result, sent in rows:
        seconds = args.seconds
        print(
            f"| {name} | {label} | {'on' if result['compressed'] else 'off'} "
            f"| {result['messages'] / seconds:,.1f} | {sent / seconds:,.0f} "
            f"| {result['cpu'] / seconds:.1%} |"
        )
    print(
        f"| firehose, SDK client (decodes, then filters) | everything | n/a | {args.rate:,.0f} "
        f"| {frame_bytes * args.rate:,.0f} | {frame_cpu * args.rate:.1%} |"
    )
    print()
    print("(firehose row: 300 one-record commits recorded from the local PDS's firehose;")
    print(" bytes are their mean frame size at the replay rate, CPU the SDK's decoding of")
    print(" them, frame + message model + CAR, measured offline, at the same rate)")
    print()
    print("| polling (feedbot AtprotoSource, 16 threads, local PDS) | value |")
    print("|---|---|")
    print(f"| polls per second (one listRecords each) | {polls:,.0f} |")
    print(f"| feedbot CPU per poll | {cpu_ms:.2f} ms ({1000 / cpu_ms:,.0f} polls/s per core) |")
    for minutes in (5, 15, 60):
        print(f"| repos one process polls every {minutes} min | {polls * minutes * 60:,.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
