"""Poll 1,000 local feeds with FeedSource and compare with a bare httpx loop (the floor).

    .venv/bin/python bench/poll.py [--feeds 1000] [--workers 16] [--entries 20]

A small asyncio HTTP server runs in its own process on 127.0.0.1 (so it is not the
bottleneck and its memory is not counted) and serves ``/feed/<i>``: RSS 2.0 with
``--entries`` items of about 1 KB of HTML each, an ETag, and a 304 for a matching
If-None-Match. ``/_gen/<g>`` switches every feed to generation ``g``: one new item on
top, the oldest one dropped, as when a blog publishes a post.

Each measurement runs in a fresh process (peak RSS is per row) and does, untimed,
whatever earlier passes the scenario needs, then times one pass over all feeds:

- ``first``      empty cursors: 200s, every item is new (a cold start)
- ``changed``    after a first pass, generation bumped: 200s, 1 new item of ``--entries``
- ``unchanged``  after a first pass: 304s

Both clients use a thread pool of ``--workers`` sharing one httpx.Client; the floor
sends the same conditional requests and reads the same bodies, and does nothing else.
Everything is bounded: a fixed number of requests per pass, and a timeout per run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PARAGRAPH = (
    "<p>The county engineers walked the levee on {day} and measured <em>{n}</em> places "
    "where the water had come through. Their report, which we read in full, says the "
    "repairs will take until autumn and that the <a href='https://example.org/r/{n}'>budget"
    "</a> covers about half of them.</p>"
)


# --- the server ------------------------------------------------------------------------


def feed_body(i: int, gen: int, entries: int) -> bytes:
    items = []
    for k in range(gen + entries - 1, gen - 1, -1):
        html = "".join(
            PARAGRAPH.format(day=f"day {k}", n=(i * 7 + k * 3 + j) % 97) for j in range(3)
        )
        items.append(
            f"<item><title>Levee report {k} for town {i}</title>"
            f"<link>https://town{i}.example/posts/{k}</link><guid>town{i}-{k}</guid>"
            f"<pubDate>Mon, 02 Mar 2026 {k % 24:02d}:00:00 GMT</pubDate>"
            f"<category>levee</category><category>town {i}</category>"
            f"<description>Levee report number {k}.</description>"
            f"<content:encoded><![CDATA[{html}]]></content:encoded></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
        f"<title>Town {i} news</title><link>https://town{i}.example/</link>"
        f"<description>News from town {i}</description><language>en</language>"
        + "".join(items)
        + "</channel></rss>"
    ).encode()


class _Http(asyncio.Protocol):
    """HTTP/1.1 keep-alive GETs only; just enough for the bench's own clients."""

    state: dict[str, Any]

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
            self.answer(head)

    def answer(self, head: bytes) -> None:
        lines = head.decode("latin-1").split("\r\n")
        path = lines[0].split(" ")[1]
        etag_sent = ""
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "if-none-match":
                etag_sent = value.strip()
        state = self.state
        if path.startswith("/_gen/"):
            state["gen"] = int(path.rsplit("/", 1)[1])
            state["bodies"] = {}
            self.send(200, b"ok", {})
        elif path.startswith("/feed/"):
            i = int(path.rsplit("/", 1)[1])
            etag = f'"{state["gen"]}-{i}"'
            if etag_sent == etag:
                self.send(304, b"", {"ETag": etag})
            else:
                body = state["bodies"].get(i)
                if body is None:
                    body = state["bodies"][i] = feed_body(i, state["gen"], state["entries"])
                self.send(200, body, {"ETag": etag, "Content-Type": "application/rss+xml"})
        else:
            self.send(404, b"not found", {})

    def send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        reason = {200: "OK", 304: "Not Modified", 404: "Not Found"}[status]
        head = f"HTTP/1.1 {status} {reason}\r\nContent-Length: {len(body)}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.transport.write(head.encode() + b"\r\n" + body)


def serve(entries: int, lifetime: float) -> None:
    """Run the server until ``lifetime`` seconds pass (it always stops by itself)."""

    async def main() -> None:
        _Http.state = {"gen": 0, "bodies": {}, "entries": entries}
        loop = asyncio.get_running_loop()
        server = await loop.create_server(_Http, "127.0.0.1", 0, backlog=1024)
        print(server.sockets[0].getsockname()[1], flush=True)
        await asyncio.sleep(lifetime)
        server.close()

    asyncio.run(main())


# --- the clients ---------------------------------------------------------------------


def run(mode: str, scenario: str, port: int, feeds: int, workers: int) -> dict[str, Any]:
    import httpx

    from bot import config
    from bot.http import make_client
    from bot.sources.concurrent import poll_each
    from bot.sources.feed import FeedSource

    errors: list[BaseException] = []

    def report_error(exc: BaseException) -> None:
        """Count it; the first one's full traceback goes to stderr (a failure seen once
        in testing, [Errno 9] from httpx under load, is worth a traceback)."""
        if not errors:
            traceback.print_exception(exc.__cause__ or exc, file=sys.stderr)
        errors.append(exc)

    base = f"http://127.0.0.1:{port}"
    limits = httpx.Limits(max_connections=workers, max_keepalive_connections=workers)
    client = make_client(limits=limits)
    client.get(f"{base}/_gen/0")
    urls = [f"{base}/feed/{i}" for i in range(feeds)]
    requests = 0

    if mode == "source":
        sources = {
            url: FeedSource(url, config.FeedSourceSettings(type="feed", url=url), client)
            for url in urls
        }
        cursors: dict[str, dict[str, Any]] = {url: {} for url in urls}

        def one_pass() -> int:
            articles = 0
            for name, result in poll_each(sources, cursors, workers):
                if isinstance(result, Exception):
                    report_error(result)
                    continue
                cursors[name] = result.cursor
                articles += len(result.articles)
            return articles

        do_pass: Callable[[], int] = one_pass
    else:
        etags: dict[str, str] = {}

        def fetch(url: str) -> int:
            headers = {"If-None-Match": etags[url]} if url in etags else {}
            try:
                response = client.get(url, headers=headers)
            except httpx.HTTPError as exc:
                report_error(exc)
                return 0
            if response.status_code not in (200, 304):
                raise SystemExit(f"bench: HTTP {response.status_code} for {url}")
            if "etag" in response.headers:
                etags[url] = response.headers["etag"]
            return len(response.content)

        def bare_pass() -> int:
            with ThreadPoolExecutor(workers) as pool:
                futures = [pool.submit(fetch, url) for url in urls]
                for future in as_completed(futures):
                    future.result()
            return 0

        do_pass = bare_pass

    if scenario in ("changed", "unchanged"):
        do_pass()
    if scenario == "changed":
        client.get(f"{base}/_gen/1")
    start, cpu_start = time.perf_counter(), time.process_time()
    articles = do_pass()
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    requests = len(urls)
    client.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {
        "wall": wall,
        "cpu": cpu,
        "rps": requests / wall,
        "rss_mb": peak,
        "articles": articles,
        "errors": len(errors),
    }


# --- the driver ------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--entries", type=int, default=20)
    parser.add_argument("--scenarios", default="first,changed,unchanged")
    parser.add_argument("--repeat", type=int, default=3, help="runs per row; the median is shown")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--run", nargs=3, metavar=("MODE", "SCENARIO", "PORT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if not 1 <= args.feeds <= 5000 or not 1 <= args.workers <= 64:
        parser.error("--feeds must be 1..5000 and --workers 1..64 (load stays bounded)")

    if args.serve:
        serve(args.entries, lifetime=900)
        return
    if args.run:
        mode, scenario, port = args.run
        print(json.dumps(run(mode, scenario, int(port), args.feeds, args.workers)))
        return

    me = [sys.executable, os.path.abspath(__file__)]
    common = ["--feeds", str(args.feeds), "--workers", str(args.workers),
              "--entries", str(args.entries)]  # fmt: skip
    server = subprocess.Popen([*me, "--serve", *common], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        port = server.stdout.readline().strip()
        print(
            f"{args.feeds} feeds x {args.entries} items, {args.workers} workers, "
            f"python {sys.version.split()[0]}, {os.cpu_count()} cores, "
            f"median of {args.repeat} runs per row, floor and FeedSource taking turns\n"
        )
        print(f"{'scenario':<10} {'client':<12} {'wall s':>8} {'CPU s':>6} {'req/s':>8}"
              f" {'peak RSS MB':>12} {'articles':>9} {'errors':>7} {'x floor':>8}"
              f" {'(range)':>12}")  # fmt: skip
        for scenario in args.scenarios.split(","):
            # floor and source take turns, so that a slow spell of a shared machine
            # lands on both; "x floor" is the median of each turn's ratio
            runs: dict[str, list[dict[str, Any]]] = {"floor": [], "source": []}
            for _ in range(max(args.repeat, 1)):
                for mode in ("floor", "source"):
                    out = subprocess.run(
                        [*me, "--run", mode, scenario, port, *common],
                        capture_output=True, text=True, timeout=600, check=False,
                    )  # fmt: skip
                    if out.returncode != 0:
                        raise SystemExit(f"bench: {mode} {scenario} failed:\n{out.stderr[-2000:]}")
                    if out.stderr.strip():
                        print(out.stderr[-3000:], file=sys.stderr)
                    runs[mode].append(json.loads(out.stdout.strip().splitlines()[-1]))
            ratios = sorted(
                s["wall"] / f["wall"] for f, s in zip(runs["floor"], runs["source"], strict=True)
            )
            for mode, label in (("floor", "bare httpx"), ("source", "FeedSource")):
                r = sorted(runs[mode], key=lambda r: r["wall"])[len(runs[mode]) // 2]
                ratio = ratios[len(ratios) // 2] if mode == "source" else 1.0
                spread = f"{ratios[0]:.2f}-{ratios[-1]:.2f}" if mode == "source" else ""
                print(
                    f"{scenario:<10} {label:<12} {r['wall']:>8.2f} {r['cpu']:>6.2f} "
                    f"{r['rps']:>8.0f} {r['rss_mb']:>12.0f} {r['articles']:>9} {r['errors']:>7} "
                    f"{ratio:>8.2f} {spread:>12}"
                )
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
