"""The ``records`` source: AT Protocol records kept as local JSON files.

Each file holds one record or a list of them, in the shape ``listRecords`` returns
(``{"uri", "cid"?, "value"}``), or a whole ``listRecords`` response. Publications in
the same folder resolve documents' ``at://`` sites. Useful for demos, tests and
archives; it needs no network.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from bot.errors import RecordError, SourceError
from bot.model import Poll
from bot.sources.documents import (
    DOCUMENT,
    PUBLICATION,
    Publication,
    document_site,
    document_to_article,
    publication_from_record,
)

log = logging.getLogger(__name__)


def _collection(uri: str) -> str:
    parts = uri.removeprefix("at://").split("/")
    return parts[1] if len(parts) >= 3 else ""


class RecordsSource:
    def __init__(self, feed: str, path: Path) -> None:
        self.feed = feed
        self.path = path

    def _files(self) -> list[Path]:
        if self.path.is_dir():
            return sorted(self.path.glob("*.json"))
        if self.path.is_file():
            return [self.path]
        raise SourceError(f"feed {self.feed}: {self.path} does not exist")

    def _records(self, problems: list[str]) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        for file in self._files():
            try:
                data = json.loads(file.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                problems.append(f"{file}: not readable JSON: {exc}")
                continue
            if isinstance(data, dict) and isinstance(data.get("records"), list):
                data = data["records"]
            for entry in data if isinstance(data, list) else [data]:
                if (
                    isinstance(entry, dict)
                    and isinstance(entry.get("uri"), str)
                    and entry["uri"].startswith("at://")
                    and isinstance(entry.get("value"), dict)
                ):
                    records.append(entry)
                else:
                    problems.append(f"{file}: an entry without an at:// uri and a value object")
        return records

    def poll(self, cursor: dict[str, Any]) -> Poll:
        problems: list[str] = []
        records = self._records(problems)
        publications: dict[str, Publication] = {}
        for entry in records:
            if _collection(entry["uri"]) == PUBLICATION:
                try:
                    pub = publication_from_record(entry["uri"], entry.get("cid"), entry["value"])
                except RecordError as exc:
                    problems.append(str(exc))
                    continue
                publications[pub.uri] = pub
        articles = []
        for entry in records:
            if _collection(entry["uri"]) != DOCUMENT:
                continue
            value = entry["value"]
            site = document_site(value)
            try:
                articles.append(
                    document_to_article(
                        self.feed,
                        entry["uri"],
                        entry.get("cid"),
                        value,
                        publication=publications.get(site) if site else None,
                    )
                )
            except RecordError as exc:
                problems.append(str(exc))
        for problem in problems:
            log.warning("skipped feed=%s reason=%s", self.feed, problem)
        return Poll(articles=tuple(articles), problems=tuple(problems))
