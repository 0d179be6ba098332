from __future__ import annotations

from datetime import timedelta

from builders import T0, article

from bot.decide import Policy, decide
from bot.outcomes import ItemStatus

POLICY = Policy(backfill=2, max_age=None, edits="ignore")


def actions(decisions: list) -> dict[str, str]:  # type: ignore[type-arg]
    return {d.article.id: d.action for d in decisions}


def test_first_poll_publishes_only_the_backfill_newest_and_records_the_rest_as_seen() -> None:
    items = [article(n) for n in (5, 1, 3, 2, 4)]  # item-1 is the newest
    got = actions(decide(items, {}, first_poll=True, policy=POLICY, now=T0))
    assert got == {
        "item-1": "publish",
        "item-2": "publish",
        "item-3": "seen",
        "item-4": "seen",
        "item-5": "seen",
    }


def test_backfill_zero_publishes_nothing_on_the_first_poll() -> None:
    items = [article(n) for n in range(1, 4)]
    policy = Policy(backfill=0, max_age=None, edits="ignore")
    got = actions(decide(items, {}, first_poll=True, policy=policy, now=T0))
    assert set(got.values()) == {"seen"}


def test_later_polls_publish_every_new_item() -> None:
    items = [article(n) for n in range(1, 6)]
    got = actions(decide(items, {}, first_poll=False, policy=POLICY, now=T0))
    assert set(got.values()) == {"publish"}


def test_a_known_item_with_the_same_content_is_unchanged() -> None:
    a = article(1)
    known = {a.id: (a.content_hash(), ItemStatus.POSTED)}
    got = decide([a], known, first_poll=False, policy=POLICY, now=T0)
    assert actions(got) == {"item-1": "unchanged"}


def test_an_edited_item_is_not_posted_again_by_default() -> None:
    old, new = article(1), article(1, text="Rewritten entirely.")
    known = {old.id: (old.content_hash(), ItemStatus.POSTED)}
    assert actions(decide([new], known, first_poll=False, policy=POLICY, now=T0)) == {
        "item-1": "edited"
    }


def test_an_edited_item_is_posted_again_when_the_policy_says_so() -> None:
    old, new = article(1), article(1, text="Rewritten entirely.")
    known = {old.id: (old.content_hash(), ItemStatus.POSTED)}
    policy = Policy(backfill=2, max_age=None, edits="repost")
    assert actions(decide([new], known, first_poll=False, policy=policy, now=T0)) == {
        "item-1": "publish"
    }


def test_only_volatile_fields_changing_is_not_an_edit() -> None:
    old = article(1)
    new = article(1, published=T0, updated=T0)
    known = {old.id: (old.content_hash(), ItemStatus.POSTED)}
    assert actions(decide([new], known, first_poll=False, policy=POLICY, now=T0)) == {
        "item-1": "unchanged"
    }


def test_items_older_than_max_age_are_never_published_automatically() -> None:
    items = [article(1, days_ago=1), article(2, days_ago=40)]
    policy = Policy(backfill=5, max_age=timedelta(days=30), edits="ignore")
    assert actions(decide(items, {}, first_poll=False, policy=policy, now=T0)) == {
        "item-1": "publish",
        "item-2": "too-old",
    }


def test_an_entry_listed_twice_is_decided_once() -> None:
    a = article(1)
    assert len(decide([a, a], {}, first_poll=False, policy=POLICY, now=T0)) == 1


def test_undated_items_count_as_oldest_for_backfill() -> None:
    items = [article(1, published=None), article(2), article(3)]
    got = actions(decide(items, {}, first_poll=True, policy=POLICY, now=T0))
    assert got["item-1"] == "seen"


def test_an_item_with_only_an_updated_date_is_dated_by_it() -> None:
    old = article(1, published=None, updated=T0 - timedelta(days=90))
    new = article(2, published=None, updated=T0 - timedelta(days=1))
    policy = Policy(backfill=1, max_age=timedelta(days=30), edits="ignore")
    got = actions(decide([old, new], {}, first_poll=True, policy=policy, now=T0))
    assert got == {"item-1": "too-old", "item-2": "publish"}


def test_an_item_without_a_link_cannot_be_posted() -> None:
    got = actions(decide([article(1, url="")], {}, first_poll=False, policy=POLICY, now=T0))
    assert got == {"item-1": "no-link"}


def test_max_per_hour_skips_what_is_over_the_cap_counting_the_last_hours_items() -> None:
    items = [article(n) for n in range(1, 6)]
    policy = Policy(backfill=2, max_age=None, edits="ignore", max_per_hour=3, admitted=1)
    decisions = decide(items, {}, first_poll=False, policy=policy, now=T0)
    got = actions(decisions)
    # the newest two fill the hour's room; the other three are skipped with the reason
    assert got == {
        "item-1": "publish",
        "item-2": "publish",
        "item-3": "capped",
        "item-4": "capped",
        "item-5": "capped",
    }
    notes = {d.note for d in decisions if d.action == "capped"}
    assert notes == {"over max_per_hour (3 in the last hour)"}


def test_max_per_hour_already_used_up_lets_nothing_through() -> None:
    policy = Policy(backfill=2, max_age=None, edits="ignore", max_per_hour=2, admitted=2)
    got = actions(decide([article(1)], {}, first_poll=False, policy=policy, now=T0))
    assert got == {"item-1": "capped"}
