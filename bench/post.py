"""Bench: post 50 new three-post threads from a cold start to the local PDS.

    .venv/bin/python bench/post.py [--threads 50] [--cover-size 1600x1000]

Starts the local network through the test harness (installing it on first use), then
for each scenario (without and with a cover) makes a fresh publisher with an empty
session store — a cold start: it logs in — and publishes N threads through
prepare → write, as the pipeline does. Prints a table: wall time of the posting,
requests per thread, peak RSS of this process (the PDS is a separate process).
Targets: 50 threads in ≤ 4 s, ≤ 100 MB peak RSS, one applyWrites per thread
(plus one uploadBlob with a cover).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from httpserver import LocalServer, Response  # noqa: E402
from pds import LocalPds, Network, install_devenv, node_binary  # noqa: E402

from bot.config import BlueskyAccount  # noqa: E402
from bot.model import Facet, LinkCard, Post, Target, Thread  # noqa: E402
from bot.publish.bluesky import BlueskyPublisher  # noqa: E402


class Sessions:
    def __init__(self) -> None:
        self.data: dict[str, str] = {}

    def load_session(self, account: str) -> str | None:
        return self.data.get(account)

    def save_session(self, account: str, session: str) -> None:
        self.data[account] = session


class Counting(httpx.BaseTransport):
    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.calls: Counter[str] = Counter()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.calls[request.url.path.removeprefix("/xrpc/")] += 1
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def cover_jpeg(width: int, height: int) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (width, height), (30, 90, 160))
    draw = ImageDraw.Draw(image)
    for x in range(0, width, 40):
        draw.line((x, 0, width - x, height), fill=(240, 200, 40), width=3)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def thread(i: int, cover_url: str | None) -> Thread:
    url = f"https://example.com/posts/{i}"
    first = f"Document {i}: a long read about lakes and ice #science"
    tag = len(first[: first.index("#science")].encode())
    last = f"Read it all: {url}"
    link = len(last[: last.index(url)].encode())
    return Thread(
        posts=(
            Post(
                first,
                facets=(Facet(tag, tag + len(b"#science"), "tag", "science"),),
                card=LinkCard(url, f"Document {i}", "About lakes and ice.", cover_url),
            ),
            Post("The ice formed three weeks later than usual and stayed thinner all winter."),
            Post(last, facets=(Facet(link, link + len(url.encode()), "link", url),)),
        ),
        langs=("en",),
    )


def run(account: dict[str, str], pds_url: str, covers: str | None, n: int) -> dict[str, float]:
    """One scenario in this (fresh) process: a cold publisher, n threads."""
    settings = BlueskyAccount(
        type="bluesky",
        handle=account["handle"],
        app_password=account["password"],
        pds=pds_url,
        # the default burst (300 points) would pace these 450 points; we measure speed
        points_per_hour=4000,
        burst_points=1000,
    )
    transport = Counting()
    now = datetime.now(UTC)
    prepare = write = 0.0
    cpu = time.process_time()
    started = time.perf_counter()
    publisher = BlueskyPublisher("bench", settings, Sessions(), transport=transport)
    for i in range(n):
        cover = f"{covers}/cover/{i}.jpg" if covers else None
        target = Target("bench", f"doc-{i}", f"https://example.com/posts/{i}")
        t0 = time.perf_counter()
        plan = publisher.prepare(thread(i, cover), target, now=now + timedelta(seconds=i))
        t1 = time.perf_counter()
        publisher.write(plan)
        prepare += t1 - t0
        write += time.perf_counter() - t1
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu
    publisher.close()
    return {
        "wall": wall,
        "cpu": cpu,
        "prepare": prepare,
        "write": write,
        "writes": transport.calls["com.atproto.repo.applyWrites"] / n,
        "blobs": transport.calls["com.atproto.repo.uploadBlob"] / n,
        "logins": transport.calls["com.atproto.server.createSession"],
        "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def count_posts(pds: LocalPds, did: str) -> int:
    total, cursor = 0, None
    while True:
        params: dict[str, object] = {"repo": did, "collection": "app.bsky.feed.post", "limit": 100}
        if cursor:
            params["cursor"] = cursor
        page = pds.query("com.atproto.repo.listRecords", **params)
        total += len(page["records"])
        cursor = page.get("cursor")
        if not cursor or not page["records"]:
            return total


def scenario(pds: LocalPds, covers: str | None, n: int) -> dict[str, float]:
    """Runs ``run`` in a child process, so each scenario starts cold and its RSS is its own
    (the PDS and the cover server live in other processes, as they would in production)."""
    account = pds.create_account("bench")
    job = {
        "account": {"handle": account.handle, "password": account.password},
        "pds": pds.pds_url,
        "covers": covers,
        "n": n,
    }
    out = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps(job)],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    result["posts"] = count_posts(pds, account.did)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--threads", type=int, default=50)
    parser.add_argument("--cover-size", default="1600x1000")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        job = json.loads(args.child)
        print(json.dumps(run(job["account"], job["pds"], job["covers"], job["n"])))
        return 0
    width, height = (int(v) for v in args.cover_size.split("x"))

    if not node_binary().exists():
        install_devenv()
    log = Path(tempfile.mkdtemp(prefix="feedbot-bench-")) / "network.log"
    network = Network(log)
    covers = LocalServer().start()
    image = cover_jpeg(width, height)
    covers.routes.update(
        {
            f"/cover/{i}.jpg": Response(200, image, {"Content-Type": "image/jpeg"})
            for i in range(args.threads)
        }
    )
    try:
        urls = network.wait_ready()
        load = os.getloadavg()[0]
        pds = LocalPds(urls["pds"], urls["plc"])
        rows = [
            ("no cover", scenario(pds, None, args.threads)),
            (
                f"cover {width}x{height} {len(image) // 1024}KB",
                scenario(pds, covers.url, args.threads),
            ),
        ]
        pds.close()
    finally:
        covers.stop()
        network.stop()

    print(
        f"\n{args.threads} three-post threads per scenario; each scenario a fresh process "
        "(cold start: login included)"
    )
    print(
        f"load average {load:.1f} on {os.cpu_count()} CPUs; wall time includes the PDS's "
        "work, cpu s is this client's alone\n"
    )
    header = (
        f"{'scenario':<26} {'wall s':>6} {'cpu s':>5} {'prepare s':>9} {'write s':>7} {'thr/s':>5} "
        f"{'applyWrites/thr':>15} {'uploadBlob/thr':>14} {'logins':>6} {'posts':>5} "
        f"{'peak RSS MB':>11}"
    )
    print(header)
    print("-" * len(header))
    for name, r in rows:
        print(
            f"{name:<26} {r['wall']:>6.2f} {r['cpu']:>5.2f} "
            f"{r['prepare']:>9.2f} {r['write']:>7.2f} "
            f"{args.threads / r['wall']:>5.1f} {r['writes']:>15.2f} {r['blobs']:>14.2f} "
            f"{r['logins']:>6.0f} {r['posts']:>5.0f} {r['rss']:>11.1f}"
        )
    ok = all(r["wall"] <= 4.0 and r["rss"] <= 100 and r["writes"] == 1 for _, r in rows)
    print(f"\ntargets (<= 4 s, <= 100 MB, 1 applyWrites per thread): {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
