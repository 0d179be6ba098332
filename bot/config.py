"""The YAML configuration: loading, ``${ENV}`` substitution and strict validation.

Every problem becomes a ``ConfigError`` whose message is one line naming the file, the
line and the key path, e.g. ``config/feeds.yaml:14: feeds[2].interval: expected a
duration like "15m"``. Relative paths in the file are taken from the working directory.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

# the light half of reading the configuration; re-exported for callers of this module
from bot.configfile import DEFAULT_PATH as DEFAULT_PATH
from bot.configfile import DEFAULT_STATE, ENV_REF, config_path
from bot.configfile import ENV_VAR as ENV_VAR
from bot.configfile import format_duration as format_duration
from bot.configfile import parse_duration as parse_duration
from bot.errors import ConfigError
from bot.filters import ItemFilter, Pattern
from bot.model import Gate, ReplyRule
from bot.nsids import DOCUMENT_COLLECTIONS, STANDARD_DOCUMENT
from bot.templates import Template

#: the environment variable that lowers the minimum poll interval (the tests use "1s")
MIN_INTERVAL_VAR = "FEEDBOT_MIN_INTERVAL"
#: polling more often than this is unkind to the servers polled, and never needed
MIN_INTERVAL = timedelta(minutes=1)
#: YAML limits: aliases may not expand the document past MAX_YAML_NODES nodes (an
#: "alias bomb" of 9 aliases 9 levels deep is 387 million), nor nest past MAX_YAML_DEPTH
MAX_YAML_NODES = 10_000
MAX_YAML_DEPTH = 32

#: a well-formed BCP-47 tag (RFC 5646): language, extlang, script, region, variants,
#: extensions, private use; or private use alone
_BCP47 = re.compile(
    r"(?:[a-z]{2,3}(?:-[a-z]{3}){0,3}|[a-z]{4,8})(?:-[a-z]{4})?(?:-(?:[a-z]{2}|\d{3}))?"
    r"(?:-(?:[a-z\d]{5,8}|\d[a-z\d]{3}))*(?:-[a-wyz\d](?:-[a-z\d]{2,8})+)*"
    r"(?:-x(?:-[a-z\d]{1,8})+)?|x(?:-[a-z\d]{1,8})+",
    re.IGNORECASE,
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _not_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("expected a number, not true or false")
    return value


def _only_bool(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError("expected true or false, not a number")
    return value


def http_url(value: str) -> str:
    """An absolute http(s) URL with a host and no whitespace, else ``ValueError``."""
    value = value.strip()
    if not re.fullmatch(r"https?://[^\s/?#@]+(?:[/?#]\S*)?", value, re.IGNORECASE):
        raise ValueError("expected an http:// or https:// URL")
    return value


def plain_name(value: str) -> str:
    """A name shown in logs and status: not blank, no control characters."""
    if not value.strip():
        raise ValueError("must not be blank")
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    return value


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
#: booleans are not integers here, whatever Python thinks (``backfill: true``)
Int = Annotated[int, BeforeValidator(_not_bool)]
Bool = Annotated[bool, BeforeValidator(_only_bool)]
HttpUrl = Annotated[str, BeforeValidator(lambda v: http_url(v) if isinstance(v, str) else v)]


def stream_url(value: str) -> str:
    """An absolute ws(s):// or http(s):// URL with a host (an event stream's endpoint)."""
    value = value.strip()
    if not re.fullmatch(r"(?:wss?|https?)://[^\s/?#@]+(?:/\S*)?", value, re.IGNORECASE):
        raise ValueError("expected a wss://, ws://, https:// or http:// URL")
    return value.rstrip("/")


StreamUrl = Annotated[str, BeforeValidator(lambda v: stream_url(v) if isinstance(v, str) else v)]


def split_listen(listen: str) -> tuple[str, int]:
    """``"127.0.0.1:9464"`` or ``"[::1]:9464"`` → ``(host, port)``; port 0 takes any free one."""
    host, sep, port = listen.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ValueError('expected host:port, like "127.0.0.1:9464"')
    return host, int(port)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ContentUrls(Strict):
    """URLs found inside a source's content (covers, article pages, redirects, a PDS
    named by a DID document) never reach loopback or private addresses unless
    ``allow_private_addresses`` is true (``bot.netguard``)."""

    allow_private_addresses: bool = False


# --- accounts ------------------------------------------------------------------------


class PreviewAccount(Strict):
    """Shows threads on stdout instead of posting them."""

    type: Literal["preview"]


class BlueskyAccount(Strict):
    """A Bluesky account posting with an app password.

    Writes are paced in Bluesky's own unit, points (a create costs 3): a token bucket
    refilling at ``points_per_hour`` and holding at most ``burst_points``, plus a cap of
    ``points_per_day`` in any 24 hours. Bluesky allows 5000 points an hour and 35000 a
    day per account, so the bucket's worst hour (burst + hourly rate) must stay under 5000.
    """

    type: Literal["bluesky"]
    handle: str
    app_password: SecretStr
    pds: HttpUrl = "https://bsky.social"
    points_per_hour: Int = Field(4000, ge=3, le=5000)
    burst_points: Int = Field(300, ge=3, le=5000)
    points_per_day: Int = Field(30000, ge=3, le=35000)
    #: per request; covers are fetched with the same limit
    timeout: Duration = timedelta(seconds=20)
    #: put the self-label ``bot`` on the account's profile (Bluesky shows it as automated)
    bot_label: Bool = True

    @model_validator(mode="after")
    def _under_bluesky_limits(self) -> BlueskyAccount:
        if self.points_per_hour + self.burst_points > 5000:
            raise ValueError(
                "points_per_hour + burst_points must be at most 5000 (Bluesky's hourly limit)"
            )
        return self


Account = Annotated[PreviewAccount | BlueskyAccount, Field(discriminator="type")]


# --- sources -------------------------------------------------------------------------


class RecordsSourceSettings(ContentUrls):
    """AT Protocol records in local JSON files (the shape ``listRecords`` returns)."""

    type: Literal["records"]
    path: Path


#: the repo value that follows every repo on the network (a stream ``follow`` only)
ANY_REPO = "*"
#: Bluesky's public Jetstream instance (the SDK's default too)
DEFAULT_JETSTREAM = "wss://jetstream.us-east.bsky.network/xrpc"


class AtprotoSourceSettings(ContentUrls):
    """Long-form records read from a repo on the network, or from every repo.

    ``follow`` says how new records are noticed: ``poll`` lists the repo every
    ``interval``; ``jetstream`` and ``firehose`` follow an event stream (the daemon only;
    ``run --once`` still polls), with the interval poll kept as a backstop for one repo.
    ``repo: "*"`` follows the whole network and needs a stream (``firehose`` also needs
    ``service``: a relay, since no single PDS holds every repo).
    """

    type: Literal["atproto"]
    follow: Literal["poll", "jetstream", "firehose"] = "poll"
    #: the Jetstream instance for ``follow: jetstream``
    jetstream: StreamUrl = DEFAULT_JETSTREAM
    #: the relay or PDS for ``follow: firehose``; default: the repo's own PDS
    service: StreamUrl | None = None
    #: a handle, a DID, or "*" (every repo); after ``follow`` and ``service``, which its
    #: check reads
    repo: str
    collections: tuple[str, ...] = (STANDARD_DOCUMENT,)
    plc_url: HttpUrl = "https://plc.directory"
    #: used to resolve handles through com.atproto.identity.resolveHandle as a last resort
    resolver_url: HttpUrl | None = None
    #: records per listRecords request (the protocol allows at most 100)
    page_limit: Int = Field(100, ge=1, le=100)
    #: most records read per collection in one poll; bounds the first poll of a big repo
    max_records: Int = Field(1000, ge=1)
    #: how long a resolved handle, DID document or publication record is reused
    identity_ttl: Duration = timedelta(hours=1)

    @field_validator("collections")
    @classmethod
    def _known_collections(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("at least one collection")
        for name in value:
            if name not in DOCUMENT_COLLECTIONS:
                supported = ", ".join(DOCUMENT_COLLECTIONS)
                raise ValueError(f"unsupported collection {name!r} (supported: {supported})")
        return tuple(dict.fromkeys(value))

    @field_validator("repo")
    @classmethod
    def _handle_or_did(cls, value: str, info: ValidationInfo) -> str:
        value = value.strip().removeprefix("@")
        if value == ANY_REPO:
            follow = info.data.get("follow")
            if follow == "poll":
                raise ValueError('"*" needs follow: jetstream or firehose (it can\'t be polled)')
            if follow == "firehose" and info.data.get("service") is None:
                raise ValueError('"*" with follow: firehose needs service: (a relay)')
            return value
        if not re.fullmatch(r"did:[a-z]+:\S+|[A-Za-z0-9.-]+\.[A-Za-z][A-Za-z0-9-]*", value):
            raise ValueError('expected a handle (alice.example.com), a DID (did:plc:...) or "*"')
        return value

    @property
    def network_wide(self) -> bool:
        return self.repo == ANY_REPO


class FeedSourceSettings(ContentUrls):
    """An RSS, Atom or JSON Feed document over HTTP.

    ``timeout`` bounds a whole fetch (redirects and body included); ``max_bytes`` caps a
    body after gzip decoding, for the feed and for article pages; ``full_text`` fetches
    each new entry's page for its main text when the feed carries only excerpts.
    """

    type: Literal["feed"]
    url: HttpUrl
    full_text: Bool = False
    timeout: Duration = timedelta(seconds=20)
    max_bytes: Int = Field(5_000_000, ge=1024)
    max_redirects: Int = Field(5, ge=0, le=20)

    @field_validator("timeout")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("must be longer than 0s")
        return value


SourceSettings = Annotated[
    RecordsSourceSettings | AtprotoSourceSettings | FeedSourceSettings,
    Field(discriminator="type"),
]


# --- per-feed settings -----------------------------------------------------------------


class LlmSettings(Strict):
    """An OpenAI-compatible chat-completions endpoint."""

    base_url: HttpUrl
    model: str
    api_key_env: str | None = None  # the name of the variable holding the key
    timeout: Duration = timedelta(seconds=30)
    prompt_lang: str | None = None


class SummarySettings(Strict):
    max_posts: Int = Field(3, ge=2, le=25)
    sentences: Int | None = Field(None, ge=1)
    backend: Literal["extractive", "llm"] = "extractive"
    llm: LlmSettings | None = None
    keywords: Int = Field(0, ge=0, le=5)  # extra hashtags from keywords; off by default


def _parses(parse: Callable[[str], object]) -> AfterValidator:
    """Keep the text as written once ``parse`` accepts it (its errors are ValueErrors)."""

    def check(value: str) -> str:
        parse(value)
        return value

    return AfterValidator(check)


PatternText = Annotated[str, _parses(Pattern.parse)]


class FilterSettings(Strict):
    """Which new items are posted automatically; see bot/filters.py for the rules."""

    include: tuple[PatternText, ...] = ()
    exclude: tuple[PatternText, ...] = ()
    tags: tuple[str, ...] = ()
    langs: tuple[str, ...] = ()
    min_words: Int = Field(0, ge=0)

    @field_validator("langs")
    @classmethod
    def _language_tags(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for lang in value:
            if not _BCP47.fullmatch(lang):
                raise ValueError(f"{lang!r} is not a BCP-47 language tag (like en or pt-BR)")
        return value

    def build(self) -> ItemFilter:
        return _item_filter(self)


@cache
def _item_filter(settings: FilterSettings) -> ItemFilter:
    """Compiled once per settings: patterns are not recompiled on every poll."""
    return ItemFilter.build(
        include=settings.include,
        exclude=settings.exclude,
        tags=settings.tags,
        langs=settings.langs,
        min_words=settings.min_words,
    )


TemplateText = Annotated[str, _parses(Template.parse)]


class TemplateSettings(Strict):
    """The owner's wording of post 1 (``first``) and the link-back post (``last``)."""

    first: TemplateText | None = None
    last: TemplateText | None = None

    def parsed(self) -> tuple[Template | None, Template | None]:
        return _parsed_template(self.first), _parsed_template(self.last)


@cache
def _parsed_template(source: str | None) -> Template | None:
    return Template.parse(source) if source is not None else None


_REPLY_RULES = ("mentioned", "following", "followers")


def _reply_rules(value: Any) -> Any:
    """One clear message for every wrong ``replies`` (pydantic would give one per type)."""
    if value in ("everyone", "nobody"):
        return value
    if isinstance(value, list | tuple) and value and all(v in _REPLY_RULES for v in value):
        if len(set(value)) != len(value):
            raise ValueError("a rule is listed twice")
        return tuple(value)
    raise ValueError('expected "everyone", "nobody" or a list of ' + ", ".join(_REPLY_RULES))


Replies = Annotated[
    Literal["everyone", "nobody"] | tuple[ReplyRule, ...], BeforeValidator(_reply_rules)
]


class FeedDefaults(Strict):
    """Settings shared by feeds; each feed may override any of them.

    ``replies`` and ``quotes`` decide who may reply to and quote the threads (Bluesky's
    threadgate and postgate records).
    """

    account: str | None = None
    interval: Duration = timedelta(minutes=15)
    backfill: Int = Field(3, ge=0)
    max_age: Duration | None = None
    edits: Literal["ignore", "repost"] = "ignore"
    #: at most this many items a rolling hour are posted; the rest are skipped, not queued
    max_per_hour: Int | None = Field(None, ge=1)
    #: when a followed document is deleted at the source: leave its thread, or delete it
    deletions: Literal["ignore", "delete"] = "ignore"
    hashtags: tuple[str, ...] = ()
    langs: tuple[str, ...] = ()
    enabled: Bool = True
    summary: SummarySettings = SummarySettings()
    replies: Replies = "everyone"
    quotes: Bool = True
    filter: FilterSettings = FilterSettings()
    template: TemplateSettings = TemplateSettings()

    @property
    def gate(self) -> Gate:
        if self.replies == "everyone":
            return Gate(None, self.quotes)
        if self.replies == "nobody":
            return Gate((), self.quotes)
        return Gate(self.replies, self.quotes)

    @field_validator("langs")
    @classmethod
    def _at_most_three(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(value) > 3:
            raise ValueError("at most 3 languages")
        for lang in value:
            if not _BCP47.fullmatch(lang):
                raise ValueError(f"{lang!r} is not a BCP-47 language tag (like en or pt-BR)")
        return value

    @field_validator("interval")
    @classmethod
    def _not_too_often(cls, value: timedelta, info: ValidationInfo) -> timedelta:
        least = (info.context or {}).get("min_interval", MIN_INTERVAL)
        if value < least:
            raise ValueError(f"must be at least {format_duration(least)}")
        return value


class FeedSettings(FeedDefaults):
    name: Annotated[str, AfterValidator(plain_name)]
    source: SourceSettings
    account: str  # required once defaults are merged in


class MetricsSettings(Strict):
    """The daemon's HTTP listener for ``/metrics`` and ``/healthz``; off unless set."""

    listen: str

    @field_validator("listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        split_listen(value.strip())
        return value.strip()


class Config(Strict):
    state: Path = DEFAULT_STATE
    metrics: MetricsSettings | None = None
    defaults: FeedDefaults = FeedDefaults()
    accounts: dict[str, Account] = {}
    feeds: tuple[FeedSettings, ...] = ()

    def feed(self, name: str) -> FeedSettings:
        for feed in self.feeds:
            if feed.name == name:
                return feed
        raise ConfigError(f"unknown feed {name!r} (known: {', '.join(self.feed_names())})")

    def feed_names(self) -> list[str]:
        return [f.name for f in self.feeds]


# --- loading -------------------------------------------------------------------------

Loc = tuple[str | int, ...]


class _Located:
    """YAML data plus the line of every key, so errors can point at the file."""

    def __init__(self, source: str, env: dict[str, str]) -> None:
        self.source = source
        self.env = env
        self.lines: dict[Loc, int] = {}
        self.nodes = 0  # built so far, aliases counted each time they are expanded

    def build(self, node: yaml.Node, loc: Loc) -> Any:
        self.lines.setdefault(loc, node.start_mark.line + 1)
        self.nodes += 1
        if self.nodes > MAX_YAML_NODES:
            raise self.error(
                loc, f"more than {MAX_YAML_NODES} values once aliases are expanded", node
            )
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    raise self.error(loc, "merge keys (<<) are not supported", key_node)
                if not isinstance(key_node, yaml.ScalarNode):
                    raise self.error(loc, "a key must be a plain value", key_node)
                key = self.scalar(key_node, loc)
                if key in out:
                    raise self.error((*loc, key), "duplicate key", key_node)
                self.lines[(*loc, key)] = key_node.start_mark.line + 1
                out[key] = self.build(value_node, (*loc, key))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*loc, i)) for i, item in enumerate(node.value)]
        value = self.scalar(node, loc)
        if isinstance(value, str) and "${" in value:
            value = self.substitute(value, loc, node)
        return value

    def scalar(self, node: yaml.Node, loc: Loc) -> Any:
        """A scalar's value with the safe loader's types; a tag it does not know, or a
        key that is not hashable, is a ``ConfigError`` at the node's line."""
        try:
            value = yaml.safe_load(yaml.serialize(node))
        except yaml.YAMLError as exc:
            problem = getattr(exc, "problem", None) or "not a plain value"
            raise self.error(loc, str(problem), node) from exc
        if isinstance(value, float) and not math.isfinite(value):
            raise self.error(loc, "infinity and NaN are not allowed here", node)
        return value

    def substitute(self, text: str, loc: Loc, node: yaml.Node) -> str:
        def repl(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            if name in self.env:
                return self.env[name]
            if default is not None:
                return default
            raise self.error(loc, f"environment variable {name} is not set", node)

        return ENV_REF.sub(repl, text)

    def error(self, loc: Loc, message: str, node: yaml.Node | None = None) -> ConfigError:
        line = node.start_mark.line + 1 if node is not None else self.line(loc)
        where = f"{self.source}:{line}" if line else self.source
        path = format_loc(loc)
        return ConfigError(f"{where}: {path}: {message}" if path else f"{where}: {message}")

    def line(self, loc: Loc) -> int | None:
        for end in range(len(loc), -1, -1):
            if loc[:end] in self.lines:
                return self.lines[loc[:end]]
        return None


def format_loc(loc: Loc) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _data_loc(data: Any, loc: tuple[Any, ...]) -> Loc:
    """Drop the parts of a pydantic error location that are not keys of the data
    (the tags of discriminated unions, validator names)."""
    out: list[str | int] = []
    for part in loc:
        if (isinstance(data, dict) and part in data) or (
            isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data)
        ):
            data = data[part]
        elif isinstance(data, dict) and isinstance(part, str) and part not in data:
            # a missing key, or a union tag: keep real key names, drop tags
            if part in ("records", "atproto", "feed", "preview", "bluesky") and "type" in data:
                continue
            out.append(part)
            data = None
            continue
        else:
            continue
        out.append(part)
    return tuple(out)


def _message(error: Any) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "missing required key"
    message = str(error["msg"])
    return message.removeprefix("Value error, ")


def _merge_defaults(raw: dict[str, Any]) -> dict[str, Any]:
    defaults = raw.get("defaults") or {}
    feeds = raw.get("feeds")
    if not isinstance(defaults, dict) or not isinstance(feeds, list):
        return raw
    merged = []
    for feed in feeds:
        if isinstance(feed, dict):
            combined = {**defaults, **feed}
            for section in ("summary", "filter", "template"):
                if isinstance(defaults.get(section), dict) and isinstance(feed.get(section), dict):
                    combined[section] = {**defaults[section], **feed[section]}
            merged.append(combined)
        else:
            merged.append(feed)
    return {**raw, "feeds": merged}


def load_config(path: Path | str | None = None, env: dict[str, str] | None = None) -> Config:
    """Read and validate the configuration; raise ``ConfigError`` with a one-line message."""
    env = dict(os.environ) if env is None else env
    path = config_path(path, env)
    try:
        data_bytes = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the configuration: {exc.strerror}") from exc
    try:
        text = data_bytes.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad_line = data_bytes.count(b"\n", 0, exc.start) + 1
        raise ConfigError(
            f"{path}:{bad_line}: not UTF-8 text (byte 0x{data_bytes[exc.start]:02x})"
        ) from exc
    located = _Located(str(path), env)
    try:
        _check_shape(str(path), text)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{path}{line}: invalid YAML: {problem}") from exc
    raw = located.build(node, ()) if node is not None else {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}:1: the top level must be a mapping")
    data = _merge_defaults(raw)
    least = MIN_INTERVAL
    if env.get(MIN_INTERVAL_VAR):
        try:
            least = parse_duration(env[MIN_INTERVAL_VAR])
        except ValueError as exc:
            raise ConfigError(f"{MIN_INTERVAL_VAR}: {exc}") from None
    try:
        config = Config.model_validate(data, context={"min_interval": least})
    except ValidationError as exc:
        # an unknown key usually explains a missing one next to it (a typo): say it first
        first = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")[0]
        loc = _data_loc(data, first["loc"])
        raise located.error(loc, _message(first)) from exc
    _check_references(config, located)
    return config


def _check_shape(source: str, text: str) -> None:
    """Refuse, before anything recursive reads the YAML, nesting deeper than
    ``MAX_YAML_DEPTH`` and tags other than the standard ones (``!!str``…); the event
    parser is a loop, so this costs no stack whatever the depth."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        tag = getattr(event, "tag", None)
        line = event.start_mark.line + 1 if event.start_mark else 0
        if tag is not None and tag != "!" and not tag.startswith("tag:yaml.org,2002:"):
            raise ConfigError(f"{source}:{line}: unsupported YAML tag {tag}")
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_YAML_DEPTH:
                raise ConfigError(f"{source}:{line}: nested deeper than {MAX_YAML_DEPTH} levels")
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _check_references(config: Config, located: _Located) -> None:
    for name in config.accounts:
        try:
            plain_name(str(name))
        except ValueError as exc:
            raise located.error(("accounts", name), f"account name {exc}") from None
    names: set[str] = set()
    for i, feed in enumerate(config.feeds):
        if feed.name in names:
            raise located.error(("feeds", i, "name"), f"duplicate feed name {feed.name!r}")
        names.add(feed.name)
        if feed.account not in config.accounts:
            known = ", ".join(sorted(config.accounts)) or "none"
            raise located.error(
                ("feeds", i, "account"), f"unknown account {feed.account!r} (known: {known})"
            )
        if feed.summary.backend == "llm" and feed.summary.llm is None:
            raise located.error(("feeds", i, "summary", "llm"), "backend llm needs an llm section")


def offline_problems(config: Config, env: Mapping[str, str]) -> list[str]:
    """What ``check-config`` can find wrong without the network, beyond validation: one
    line per problem, naming the key."""
    problems = []
    for i, feed in enumerate(config.feeds):
        source = feed.source
        if isinstance(source, RecordsSourceSettings) and not source.path.exists():
            problems.append(f"feeds[{i}].source.path: {source.path} does not exist")
        key = feed.summary.llm.api_key_env if feed.summary.llm else None
        if feed.summary.backend == "llm" and key and not env.get(key):
            problems.append(f"feeds[{i}].summary.llm.api_key_env: {key} is not set")
    if config.state.exists() and not config.state.is_file():
        problems.append(f"state: {config.state} is not a file")
    return problems
