from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.errors import SourceError
from bot.model import StrongRef
from bot.sources.records import RecordsSource

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "config" / "samples"
SEEDS = ROOT / "tests" / "data" / "seeds"  # copies of the shared seed documents
PUB = "at://did:plc:x/site.standard.publication/3pub"


def doc(rkey: str, **value: object) -> dict[str, object]:
    base: dict[str, object] = {
        "$type": "site.standard.document",
        "site": "https://blog.example",
        "title": f"Post {rkey}",
        "publishedAt": "2026-01-02T03:04:05Z",
        "textContent": "Some text.",
    }
    base.update(value)
    return {"uri": f"at://did:plc:x/site.standard.document/{rkey}", "cid": "bafyx", "value": base}


def poll(tmp_path: Path, *entries: object) -> tuple:  # type: ignore[type-arg]
    (tmp_path / "records.json").write_text(json.dumps(list(entries)))
    result = RecordsSource("f", tmp_path).poll({})
    return result.articles, result.problems


def test_the_samples_hold_eight_documents_with_canonical_urls() -> None:
    result = RecordsSource("samples", SAMPLES).poll({})
    assert result.problems == ()
    assert len(result.articles) == 8
    urls = {a.url for a in result.articles}
    assert "https://vlast.kz/english/69541-kazakhstan-and-russia-renew-friendship-vows.html" in urls
    assert "https://eurasia-notes.example/ru/baikal-led" in urls


def test_the_seed_record_ships_unchanged() -> None:
    seed = json.loads((SEEDS / "standard-site-document.json").read_text())
    shipped = json.loads((SAMPLES / "vlast-kazakhstan-russia.json").read_text())
    assert shipped["value"] == seed
    assert shipped["uri"].startswith(
        "at://did:plc:av64nrsc7sczp26nmabnikse/site.standard.document/"
    )


def test_the_scraped_article_ships_with_its_noise() -> None:
    scraped = (SEEDS / "scraped-article.txt").read_text()
    shipped = json.loads((SAMPLES / "scraped-putin-kazakhstan.json").read_text())
    assert shipped["value"]["textContent"] == scraped


def test_an_at_uri_site_resolves_through_its_publication(tmp_path: Path) -> None:
    publication = {
        "uri": PUB,
        "cid": "bafypub",
        "value": {"url": "https://pub.example/", "name": "Pub"},
    }
    articles, problems = poll(tmp_path, publication, doc("3a", site=PUB, path="/hello"))
    assert problems == ()
    [a] = articles
    assert a.url == "https://pub.example/hello"
    assert a.site_name == "Pub"
    assert a.refs == (
        StrongRef("at://did:plc:x/site.standard.document/3a", "bafyx"),
        StrongRef(PUB, "bafypub"),
    )


def test_a_malformed_record_is_skipped_with_its_at_uri_and_the_rest_go_on(tmp_path: Path) -> None:
    articles, problems = poll(
        tmp_path,
        doc("3a"),
        doc("3b", title=""),
        doc("3c", publishedAt="yesterday"),
        doc("3d", site="ftp://nope"),
        doc("3e", site=PUB),  # its publication is nowhere
        doc("3f"),
    )
    assert [a.id.rsplit("/", 1)[1] for a in articles] == ["3a", "3f"]
    assert problems == (
        "at://did:plc:x/site.standard.document/3b: empty title",
        "at://did:plc:x/site.standard.document/3c: publishedAt is not an RFC 3339 date-time:"
        " 'yesterday'",
        "at://did:plc:x/site.standard.document/3d: site is neither an at:// publication nor an"
        " https URL: 'ftp://nope'",
        f"at://did:plc:x/site.standard.document/3e: its publication {PUB} could not be found",
    )


def test_text_falls_back_to_description_then_content(tmp_path: Path) -> None:
    no_text = doc("3a", textContent="", description="The description.")
    markdown = doc(
        "3b",
        textContent=None,
        content={"$type": "x.md", "markdown": "# Head\n\n**Bold** [link](https://x)"},
    )
    articles, _ = poll(tmp_path, no_text, markdown)
    assert [a.text for a in articles] == ["The description.", "Head\n\nBold link"]


def test_the_bsky_post_ref_becomes_the_quote() -> None:
    result = RecordsSource("samples", SAMPLES / "vlast-kazakhstan-russia.json").poll({})
    [a] = result.articles
    assert a.quote is not None and a.quote.uri.endswith("/app.bsky.feed.post/3mmvxdvqc3qj2")
    assert a.tags == ("Vlast English",)


def test_a_missing_path_fails_the_whole_feed(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="does not exist"):
        RecordsSource("f", tmp_path / "nope").poll({})


def test_records_without_a_cid_get_no_associated_refs(tmp_path: Path) -> None:
    entry = doc("3a")
    del entry["cid"]
    [a], _ = poll(tmp_path, entry)
    assert a.refs == ()


def test_a_file_that_is_not_json_is_reported_not_fatal(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("{nope")
    (tmp_path / "b.json").write_text(json.dumps(doc("3b")))
    result = RecordsSource("f", tmp_path).poll({})
    assert len(result.articles) == 1
    assert result.problems[0].startswith(f"{tmp_path / 'a.json'}: not readable JSON")


def test_self_labels_travel_with_the_article_and_malformed_ones_refuse_it(
    tmp_path: Path,
) -> None:
    labels = {
        "$type": "com.atproto.label.defs#selfLabels",
        "values": [{"val": "graphic-media"}, {"val": "nudity"}, {"val": "graphic-media"}],
    }
    articles, problems = poll(
        tmp_path,
        doc("3a", labels=labels),
        doc("3b", labels={"values": [{"val": 3}]}),
        doc("3c", labels=["porn"]),
        doc("3d"),
    )
    assert [(a.id.rsplit("/", 1)[1], a.labels) for a in articles] == [
        ("3a", ("graphic-media", "nudity")),
        ("3d", ()),
    ]
    assert [p.split(": ", 1)[1] for p in problems] == [
        "labels has a value that is not a short string",
        "labels is not a selfLabels object of at most 10 values",
    ]
