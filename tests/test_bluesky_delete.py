"""``BlueskyPublisher.delete`` against a fake XRPC endpoint on 127.0.0.1 that, like the
PDS, fails a whole ``applyWrites`` with HTTP 500 when it deletes a record that is not
there: the publisher looks first, looks again before a retry, and spends 1 point a
delete."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from bluesky_fakes import FakeXrpc, MemorySessions, error, plan, settings
from httpserver import LocalServer, Request, Response

from bot.deletions import Written, plan_deletions
from bot.model import Deletion
from bot.publish.bluesky import BlueskyPublisher

APPLY = "com.atproto.repo.applyWrites"
RKEYS = ("3kaaaaaaaaa22", "3kaaaaaaaab22", "3kaaaaaaaac22")


@pytest.fixture
def fake(http_server: LocalServer) -> FakeXrpc:
    return FakeXrpc(http_server)


@pytest.fixture
def publisher(fake: FakeXrpc) -> Iterator[BlueskyPublisher]:
    pub = BlueskyPublisher(
        "me", settings(fake.server.url, timeout=0.5), MemorySessions(), sleep=lambda _: None
    )
    yield pub
    pub.close()


def written(publisher: BlueskyPublisher) -> Deletion:
    thread = plan(*RKEYS)
    publisher.write(thread)
    [deletion] = plan_deletions("feed", "item", [Written(1, "me", thread)])
    return deletion


def deleted_rkeys(request: Request) -> list[str]:
    return [w["rkey"] for w in json.loads(request.body)["writes"]]


def test_one_commit_deletes_every_record_and_costs_a_point_each(
    fake: FakeXrpc, publisher: BlueskyPublisher
) -> None:
    deletion = written(publisher)
    before = publisher.budget.points_left()[1]
    assert publisher.delete(deletion) == 3
    assert fake.records == {}
    assert fake.hits(APPLY) == 2  # the thread, then its deletion
    assert before - publisher.budget.points_left()[1] == 3
    assert publisher.delete(deletion) == 0  # again (a recovery): looks, deletes nothing
    assert fake.hits(APPLY) == 2


def test_a_record_gone_already_is_left_out_of_the_commit(
    fake: FakeXrpc, publisher: BlueskyPublisher
) -> None:
    deletion = written(publisher)
    del fake.records[RKEYS[1]]  # deleted by hand in an app
    sent: list[list[str]] = []

    def spy(request: Request) -> Response | None:
        sent.append(deleted_rkeys(request))
        return None

    fake.script.append(spy)
    assert publisher.delete(deletion) == 2
    assert sent == [[RKEYS[0], RKEYS[2]]] and fake.records == {}


def test_a_retry_looks_again_and_never_names_a_record_that_is_gone(
    fake: FakeXrpc, publisher: BlueskyPublisher
) -> None:
    deletion = written(publisher)
    sent: list[list[str]] = []

    def vanish_then_fail(request: Request) -> Response:
        sent.append(deleted_rkeys(request))
        del fake.records[RKEYS[0]]  # someone deletes one while our commit fails
        return error(503, "Unavailable")

    def landed_but_lost(request: Request) -> Response:
        sent.append(deleted_rkeys(request))
        fake.commit(request)
        return error(502, "BadGateway")  # the commit landed, the answer did not

    fake.script += [vanish_then_fail, landed_but_lost]
    assert publisher.delete(deletion) == 3
    assert sent == [list(RKEYS), list(RKEYS[1:])]
    assert fake.records == {} and fake.hits(APPLY) == 3  # no third commit: it looked
