"""Test-only bot entry: one publishing pass over one item, with the real ``State`` and the
real ``BlueskyPublisher``, that can SIGKILL itself at the two dangerous moments.

    python tests/crash_entry.py STATE PDS HANDLE PASSWORD ITEM --kill {none,before-write,...}

The pass does what ``Pipeline.publish_pending`` does: recover what a crash left (look with
``find`` before writing), then claim → prepare → save the plan → write → mark posted.
It is driven directly rather than through ``bot.pipeline`` because the composer that the
pipeline imports is not on main yet; the publisher and the state file are the real ones.
Prints one JSON line: {"recovered": n, "posted": [uris]}.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.config import BlueskyAccount
from bot.model import Article, Facet, LinkCard, Post, PostedRef, Thread
from bot.publish import Plan, Target
from bot.publish.bluesky import BlueskyPublisher
from bot.state import State

FEED = "crash"
ACCOUNT = "bot"


class KillingPublisher:
    """The real publisher, except that this process dies around ``write`` when asked."""

    posts_for_real = True

    def __init__(self, inner: BlueskyPublisher, kill: str) -> None:
        self.inner = inner
        self.kill = kill

    def prepare(self, thread: Thread, target: Target, *, now: datetime) -> Plan:
        return self.inner.prepare(thread, target, now=now)

    def find(self, plan: Plan) -> tuple[PostedRef, ...] | None:
        return self.inner.find(plan)

    def write(self, plan: Plan) -> tuple[PostedRef, ...]:
        if self.kill == "before-write":
            os.kill(os.getpid(), signal.SIGKILL)  # the plan is saved, nothing written
        refs = self.inner.write(plan)
        if self.kill == "after-write":
            os.kill(os.getpid(), signal.SIGKILL)  # written, the state doesn't know
        return refs

    def boost(self, root: PostedRef, *, now: datetime) -> PostedRef:
        return self.inner.boost(root, now=now)


def thread_for(article: Article) -> Thread:
    last = f"Read it: {article.url}"
    start = len(b"Read it: ")
    return Thread(
        posts=(
            Post(article.title, card=LinkCard(article.url, article.title, article.description)),
            Post(article.text),
            Post(
                last, facets=(Facet(start, start + len(article.url.encode()), "link", article.url),)
            ),
        ),
        langs=("en",),
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    for name in ("state", "pds", "handle", "password", "item"):
        parser.add_argument(name)
    parser.add_argument("--kill", choices=("none", "before-write", "after-write"), default="none")
    args = parser.parse_args()

    state = State.open(args.state)
    settings = BlueskyAccount(
        type="bluesky", handle=args.handle, app_password=args.password, pds=args.pds
    )
    inner = BlueskyPublisher(ACCOUNT, settings, state)  # the state file keeps the session
    publisher = KillingPublisher(inner, args.kill)

    recovered = 0
    for row in state.in_flight(feed=FEED):
        state.adopt(row.id)
        if row.plan is None:
            state.fail(row.id, "interrupted before planning", kind="transient")
            continue
        found = publisher.find(row.plan)
        state.mark_posted(row.id, found if found is not None else publisher.write(row.plan))
        recovered += 1

    url = f"https://example.com/{args.item}"
    article = Article(FEED, args.item, url, f"Title {args.item}", text="A summary sentence.")
    if not state.known(FEED, [args.item]):
        state.add_items([(article, "new", None)], norm=str)
    posted: list[str] = []
    for item in state.pending(FEED, max_attempts=8):
        claim = state.claim(item, ACCOUNT, norm_url=item.url)
        if isinstance(claim, str):
            continue
        plan = publisher.prepare(
            thread_for(item.article), Target(FEED, item.id, item.url), now=datetime.now(UTC)
        )
        state.save_plan(claim, plan)
        refs = publisher.write(plan)
        state.mark_posted(claim, refs)
        posted += [r.uri for r in refs]
    inner.close()
    print(json.dumps({"recovered": recovered, "posted": posted}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
