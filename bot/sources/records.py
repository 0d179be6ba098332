"""The ``records`` source: AT Protocol records kept as local JSON files.

Each file holds one record or a list of them, in the shape ``listRecords`` returns
(``{"uri", "cid"?, "value"}``), or a whole ``listRecords`` response. Publications in
the same folder resolve documents' ``at://`` sites. Records are parsed exactly as the
``atproto`` source parses them from the network; covers can't be fetched (no PDS).
Useful for demos, tests and archives; it needs no network.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from bot.errors import NotPublic, RecordError, SourceError
from bot.model import Poll
from bot.nsids import PUBLICATION_COLLECTIONS
from bot.sources import atproto_records as records
from bot.untrusted import parse_json

log = logging.getLogger(__name__)


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

    def _entries(self, problems: list[str]) -> list[tuple[records.AtUri, dict[str, Any]]]:
        entries = []
        for file in self._files():
            try:
                data = parse_json(file.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:  # UnicodeDecodeError and JSON's are ValueError
                problems.append(f"{file}: not readable JSON: {exc}")
                continue
            if isinstance(data, dict) and isinstance(data.get("records"), list):
                data = data["records"]
            for entry in data if isinstance(data, list) else [data]:
                try:
                    if not isinstance(entry, dict) or not isinstance(entry.get("value"), dict):
                        raise RecordError("no value object")
                    entries.append((records.AtUri.parse(entry.get("uri")), entry))
                except RecordError as exc:
                    problems.append(f"{file}: an entry was skipped: {exc}")
        return entries

    def poll(self, cursor: dict[str, Any]) -> Poll:
        problems: list[str] = []
        entries = self._entries(problems)
        publications: dict[str, records.Publication] = {}
        for at, entry in entries:
            if at.collection in PUBLICATION_COLLECTIONS:
                try:
                    pub = records.publication(entry["uri"], entry.get("cid"), entry["value"])
                except RecordError as exc:
                    problems.append(f"{entry['uri']}: {exc}")
                    continue
                publications[pub.uri] = pub

        def lookup(uri: str) -> records.Publication:
            if uri not in publications:
                raise RecordError(f"its publication {uri} could not be found")
            return publications[uri]

        articles = []
        for at, entry in entries:
            if at.collection in PUBLICATION_COLLECTIONS:
                continue
            repo = records.Repo(did=at.did, pds=None)
            try:
                articles.append(
                    records.article(
                        self.feed, repo, entry["uri"], entry.get("cid"), entry["value"], lookup
                    )
                )
            except NotPublic:
                continue
            except RecordError as exc:
                problems.append(f"{entry['uri']}: {exc}")
        for problem in problems:
            log.warning("skipped feed=%s reason=%s", self.feed, problem)
        return Poll(articles=tuple(articles), problems=tuple(problems))
