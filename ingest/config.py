"""Load and validate ``config.toml`` into frozen settings.

Validation happens here, once, at construction: every later stage can trust
its settings. A bad value raises :class:`~ingest.errors.ConfigError` naming
the key, the value and the fix, and ``service.py`` turns that into exit 2::

    >>> load_config_text('[fetch]\\nconcurrency = 0')
    Traceback (most recent call last):
    ...
    ingest.errors.ConfigError: fetch.concurrency = 0: must be an integer >= 1 ...

Unknown keys are errors too: a typo (``intervall_minutes``) must not be
silently ignored for months.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args
from urllib.parse import urlsplit

from ingest.errors import ConfigError
from ingest.langtags import IDENTIFIED_CODES
from ingest.types import SourceKind

_KINDS: tuple[str, ...] = get_args(SourceKind)


@dataclass(frozen=True, slots=True)
class StoreSettings:
    path: str = "news.db"
    url: str = ""  # "postgresql://user@host/db": the shared PostgreSQL store instead of `path`
    pool_size: int = 4


@dataclass(frozen=True, slots=True)
class ReviewSettings:
    host: str = "127.0.0.1"
    port: int = 8080
    secret_key_file: str = "review-secret.key"  # created with a random key when absent
    session_hours: float = 12.0
    secure_cookies: bool = False  # true behind HTTPS: the session cookie gets `Secure`
    login_attempts: int = 5  # failed sign-ins per account (x4 per address) per 15 minutes


@dataclass(frozen=True, slots=True)
class ClusterSettings:
    worker_id: str = ""  # "": host-pid; `run --worker-id` overrides
    lease_seconds: float = 300.0  # a dead worker's sources and URLs are free again after this


@dataclass(frozen=True, slots=True)
class ScheduleSettings:
    interval_minutes: float = 30.0
    jitter_seconds: float = 30.0
    adaptive: bool = True  # each source's interval follows how many new links it brings
    min_interval_minutes: float = 5.0
    max_interval_minutes: float = 360.0


@dataclass(frozen=True, slots=True)
class RecheckSettings:
    """Records fetched again after first sight, to catch silent corrections."""

    after_hours: tuple[float, ...] = (1.0, 6.0, 24.0, 72.0)
    per_cycle: int = 50  # conditional GETs of stored records per cycle, at most


@dataclass(frozen=True, slots=True)
class FetchSettings:
    user_agent: str = "newsdedup/0.1 (+https://example.org/newsdedup)"
    timeout_seconds: float = 20.0
    max_page_bytes: int = 5_000_000
    concurrency: int = 8
    per_host_concurrency: int = 2
    per_host_delay_seconds: float = 1.0
    max_redirects: int = 5
    respect_robots_txt: bool = True
    allow_private_addresses: bool = False


@dataclass(frozen=True, slots=True)
class TopicSettings:
    all_of: tuple[tuple[str, ...], ...] = ()
    languages: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DedupSettings:
    threshold: float = 0.8
    containment: float = 0.9
    num_perm: int = 128
    shingle_size: int = 5


@dataclass(frozen=True, slots=True)
class ExtractSettings:
    timeout_seconds: float = 30.0
    workers: int = 0  # 0: one per CPU core


@dataclass(frozen=True, slots=True)
class CleanSettings:
    template_min_pages: int = 3  # records of one site sharing a paragraph make it template


@dataclass(frozen=True, slots=True)
class MetricsSettings:
    port: int = 0  # 0: no endpoint; else /metrics and /healthz on 127.0.0.1:port


@dataclass(frozen=True, slots=True)
class SourceSettings:
    name: str
    kind: SourceKind
    url: str
    interval_minutes: float | None = None


@dataclass(frozen=True, slots=True)
class Config:
    store: StoreSettings
    schedule: ScheduleSettings
    fetch: FetchSettings
    topic: TopicSettings
    dedup: DedupSettings
    extract: ExtractSettings
    sources: tuple[SourceSettings, ...]
    clean: CleanSettings = CleanSettings()
    metrics: MetricsSettings = MetricsSettings()
    cluster: ClusterSettings = ClusterSettings()
    review: ReviewSettings = ReviewSettings()
    recheck: RecheckSettings = RecheckSettings()
    base_dir: Path = Path(".")

    @property
    def db_path(self) -> Path:
        path = Path(self.store.path)
        return path if path.is_absolute() else self.base_dir / path

    @property
    def secret_key_path(self) -> Path:
        path = Path(self.review.secret_key_file)
        return path if path.is_absolute() else self.base_dir / path

    @property
    def store_target(self) -> str | Path:
        """What :func:`store.backends.open_store` opens: the PostgreSQL URL, else the
        SQLite file."""
        return self.store.url or self.db_path


def load_config(path: str | Path) -> Config:
    """Read and validate a TOML file; relative store paths are resolved beside it."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError("--config", str(path), f"cannot read the file ({exc.strerror})") from exc
    return load_config_text(text, base_dir=path.parent)


def load_config_text(text: str, *, base_dir: Path = Path(".")) -> Config:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("(file)", "", f"not valid TOML: {exc}") from exc
    _reject_unknown("", raw, {"store", "schedule", "fetch", "topic", "dedup", "extract",
                              "clean", "metrics", "cluster", "review", "recheck", "sources"})
    return Config(
        store=_store(_table(raw, "store")),
        schedule=_schedule(_table(raw, "schedule")),
        fetch=_fetch(_table(raw, "fetch")),
        topic=_topic(_table(raw, "topic")),
        dedup=_dedup(_table(raw, "dedup")),
        extract=_extract(_table(raw, "extract")),
        sources=_sources(raw.get("sources", [])),
        clean=_clean(_table(raw, "clean")),
        metrics=_metrics(_table(raw, "metrics")),
        cluster=_cluster(_table(raw, "cluster")),
        review=_review(_table(raw, "review")),
        recheck=_recheck(_table(raw, "recheck")),
        base_dir=base_dir,
    )


def _table(raw: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = raw.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(name, value, f"must be a table: write [{name}] on its own line")
    return value


def _reject_unknown(prefix: str, table: Mapping[str, Any], known: set[str]) -> None:
    for key in table:
        if key not in known:
            name = f"{prefix}.{key}" if prefix else key
            known_keys = ", ".join(sorted(known))
            raise ConfigError(name, table[key], f"unknown key; known keys: {known_keys}")


def _number(table: Mapping[str, Any], prefix: str, key: str, default: float, low: float,
            high: float = float("inf"), *, integer: bool = False) -> Any:
    value = table.get(key, default)
    kind = "an integer" if integer else "a number"
    ok_type = isinstance(value, int) if integer else isinstance(value, int | float)
    if isinstance(value, bool) or not ok_type or not low <= value <= high:
        upper = "" if high == float("inf") else f" and <= {high:g}"
        raise ConfigError(f"{prefix}.{key}", value,
                          f"must be {kind} >= {low:g}{upper}; the default is {default!r}")
    return value


def _boolean(table: Mapping[str, Any], prefix: str, key: str, default: bool) -> bool:
    value = table.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f"{prefix}.{key}", value, "must be true or false (no quotes)")
    return value


def _string(table: Mapping[str, Any], prefix: str, key: str, default: str) -> str:
    value = table.get(key, default)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{prefix}.{key}", value, "must be a non-empty string in quotes")
    return value


def _store(t: Mapping[str, Any]) -> StoreSettings:
    _reject_unknown("store", t, {"path", "url", "pool_size"})
    d = StoreSettings()
    url = t.get("url", "")
    if url != "" and (not isinstance(url, str)
                      or not url.startswith(("postgresql://", "postgres://"))):
        raise ConfigError("store.url", url, 'must be a PostgreSQL URL such as '
                          '"postgresql://newsdedup@db.example:5432/news" (a password is '
                          "better kept in ~/.pgpass or PGPASSWORD), or left out for SQLite")
    if url and "path" in t:
        raise ConfigError("store.path", t["path"], "set either store.path (SQLite) or "
                          "store.url (PostgreSQL), not both")
    return StoreSettings(path=_string(t, "store", "path", d.path), url=url,
                         pool_size=_number(t, "store", "pool_size", d.pool_size, 2, 64,
                                           integer=True))


def _review(t: Mapping[str, Any]) -> ReviewSettings:
    _reject_unknown("review", t, {"host", "port", "secret_key_file", "session_hours",
                                  "secure_cookies", "login_attempts"})
    d = ReviewSettings()
    return ReviewSettings(
        host=_string(t, "review", "host", d.host),
        port=_number(t, "review", "port", d.port, 1, 65535, integer=True),
        secret_key_file=_string(t, "review", "secret_key_file", d.secret_key_file),
        session_hours=_number(t, "review", "session_hours", d.session_hours, 0.05, 24 * 30),
        secure_cookies=_boolean(t, "review", "secure_cookies", d.secure_cookies),
        login_attempts=_number(t, "review", "login_attempts", d.login_attempts, 1, 100,
                               integer=True))


def _cluster(t: Mapping[str, Any]) -> ClusterSettings:
    _reject_unknown("cluster", t, {"worker_id", "lease_seconds"})
    d = ClusterSettings()
    worker = t.get("worker_id", d.worker_id)
    if worker != "" and (not isinstance(worker, str) or not worker.strip()):
        raise ConfigError("cluster.worker_id", worker,
                          'must be a non-empty string such as "crawler-2", or left out')
    return ClusterSettings(
        worker_id=worker,
        lease_seconds=_number(t, "cluster", "lease_seconds", d.lease_seconds, 2.0))


def _schedule(t: Mapping[str, Any]) -> ScheduleSettings:
    _reject_unknown("schedule", t, set(ScheduleSettings.__dataclass_fields__))
    d = ScheduleSettings()
    low = _number(t, "schedule", "min_interval_minutes", d.min_interval_minutes, 1.0)
    high = _number(t, "schedule", "max_interval_minutes", d.max_interval_minutes, 1.0)
    if high < low:
        raise ConfigError("schedule.max_interval_minutes", high,
                          f"must be >= schedule.min_interval_minutes ({low:g})")
    return ScheduleSettings(
        interval_minutes=_number(t, "schedule", "interval_minutes", d.interval_minutes, 0.1),
        jitter_seconds=_number(t, "schedule", "jitter_seconds", d.jitter_seconds, 0),
        adaptive=_boolean(t, "schedule", "adaptive", d.adaptive),
        min_interval_minutes=low, max_interval_minutes=high)


def _recheck(t: Mapping[str, Any]) -> RecheckSettings:
    _reject_unknown("recheck", t, set(RecheckSettings.__dataclass_fields__))
    d = RecheckSettings()
    steps = t.get("after_hours", list(d.after_hours))
    if (not isinstance(steps, list) or len(steps) > 20
            or any(isinstance(h, bool) or not isinstance(h, int | float) or h <= 0
                   for h in steps) or steps != sorted(steps)):
        raise ConfigError("recheck.after_hours", steps,
                          "must be a list of up to 20 increasing numbers of hours > 0, "
                          "such as [1, 6, 24, 72]; [] turns re-checks off")
    return RecheckSettings(after_hours=tuple(float(h) for h in steps),
                           per_cycle=_number(t, "recheck", "per_cycle", d.per_cycle, 0,
                                             integer=True))


def _fetch(t: Mapping[str, Any]) -> FetchSettings:
    d = FetchSettings()
    _reject_unknown("fetch", t, set(FetchSettings.__dataclass_fields__))
    return FetchSettings(
        user_agent=_string(t, "fetch", "user_agent", d.user_agent),
        timeout_seconds=_number(t, "fetch", "timeout_seconds", d.timeout_seconds, 0.1, 3600),
        max_page_bytes=_number(t, "fetch", "max_page_bytes", d.max_page_bytes, 1024, integer=True),
        concurrency=_number(t, "fetch", "concurrency", d.concurrency, 1, 256, integer=True),
        per_host_concurrency=_number(t, "fetch", "per_host_concurrency", d.per_host_concurrency,
                                     1, 64, integer=True),
        per_host_delay_seconds=_number(t, "fetch", "per_host_delay_seconds",
                                       d.per_host_delay_seconds, 0, 3600),
        max_redirects=_number(t, "fetch", "max_redirects", d.max_redirects, 0, 30, integer=True),
        respect_robots_txt=_boolean(t, "fetch", "respect_robots_txt", d.respect_robots_txt),
        allow_private_addresses=_boolean(t, "fetch", "allow_private_addresses",
                                         d.allow_private_addresses),
    )


def _topic(t: Mapping[str, Any]) -> TopicSettings:
    _reject_unknown("topic", t, {"all_of", "languages"})
    languages = t.get("languages", [])
    if not isinstance(languages, list) or not all(
            isinstance(code, str) and code.strip().lower() in IDENTIFIED_CODES
            for code in languages):
        raise ConfigError("topic.languages", languages,
                          'must be a list of codes the language identifier answers (ISO 639-1 '
                          'where there is one), e.g. ["fr", "en"]; [] keeps all')
    groups = t.get("all_of", [])
    fix = 'must be a list of lists of terms, e.g. [["musk"], ["altman", "openai"]]; [] keeps all'
    if not isinstance(groups, list) or not all(
        isinstance(g, list) and g and all(isinstance(w, str) and w.strip() for w in g)
        for g in groups
    ):
        raise ConfigError("topic.all_of", groups, fix)
    return TopicSettings(all_of=tuple(tuple(w.strip() for w in g) for g in groups),
                         languages=tuple(code.strip().lower() for code in languages))


def _dedup(t: Mapping[str, Any]) -> DedupSettings:
    d = DedupSettings()
    _reject_unknown("dedup", t, set(DedupSettings.__dataclass_fields__))
    return DedupSettings(
        threshold=_number(t, "dedup", "threshold", d.threshold, 0.5, 1.0),
        containment=_number(t, "dedup", "containment", d.containment, 0.5, 1.0),
        num_perm=_number(t, "dedup", "num_perm", d.num_perm, 16, 1024, integer=True),
        shingle_size=_number(t, "dedup", "shingle_size", d.shingle_size, 1, 12, integer=True),
    )


def _extract(t: Mapping[str, Any]) -> ExtractSettings:
    d = ExtractSettings()
    _reject_unknown("extract", t, set(ExtractSettings.__dataclass_fields__))
    return ExtractSettings(
        timeout_seconds=_number(t, "extract", "timeout_seconds", d.timeout_seconds, 1, 3600),
        workers=_number(t, "extract", "workers", d.workers, 0, 64, integer=True),
    )


def _clean(t: Mapping[str, Any]) -> CleanSettings:
    _reject_unknown("clean", t, {"template_min_pages"})
    return CleanSettings(template_min_pages=_number(
        t, "clean", "template_min_pages", CleanSettings().template_min_pages, 2, 1000,
        integer=True))


def _metrics(t: Mapping[str, Any]) -> MetricsSettings:
    _reject_unknown("metrics", t, {"port"})
    return MetricsSettings(port=_number(t, "metrics", "port", 0, 0, 65535, integer=True))


def _sources(raw: Any) -> tuple[SourceSettings, ...]:
    if not isinstance(raw, list):
        raise ConfigError("sources", raw, "write each source as a [[sources]] table")
    sources = tuple(_source(i, s) for i, s in enumerate(raw))
    names = [s.name for s in sources]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise ConfigError(f"sources[{i}].name", name, "source names must be unique")
    return sources


def _source(i: int, s: Any) -> SourceSettings:
    prefix = f"sources[{i}]"
    if not isinstance(s, dict):
        raise ConfigError(prefix, s, "write each source as a [[sources]] table")
    _reject_unknown(prefix, s, {"name", "kind", "url", "interval_minutes"})
    kind = s.get("kind", "feed")
    if kind not in _KINDS:
        raise ConfigError(f"{prefix}.kind", kind, f"must be one of {', '.join(_KINDS)}")
    url = _string(s, prefix, "url", "")
    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
        raise ConfigError(f"{prefix}.url", url, "must be an absolute http:// or https:// URL")
    interval = s.get("interval_minutes")
    if interval is not None:
        interval = _number(s, prefix, "interval_minutes", 30.0, 0.1)
    return SourceSettings(name=_string(s, prefix, "name", ""), kind=kind, url=url,
                          interval_minutes=interval)
