from __future__ import annotations

from pathlib import Path

import pytest

from ingest.config import load_config, load_config_text
from ingest.errors import ConfigError

SHIPPED = Path(__file__).resolve().parent.parent / "config.toml"


def test_shipped_config_is_valid_and_covers_both_languages() -> None:
    config = load_config(SHIPPED)
    assert len(config.sources) >= 6
    urls = " ".join(s.url for s in config.sources)
    assert "sourcelang:english" in urls and "sourcelang:french" in urls  # GDELT, both languages
    assert config.topic.all_of[0] == ("musk",)
    assert config.topic.languages == ("fr", "en")


def test_defaults_when_tables_are_absent() -> None:
    config = load_config_text("")
    assert config.fetch.concurrency == 8
    assert config.dedup.threshold == 0.8
    assert config.sources == ()


def test_a_postgresql_url_replaces_the_sqlite_path() -> None:
    config = load_config_text("[store]\nurl = 'postgresql://news@db.example/news'\n"
                              "[cluster]\nworker_id = 'crawler-2'\nlease_seconds = 60")
    assert config.store_target == "postgresql://news@db.example/news"
    assert (config.cluster.worker_id, config.cluster.lease_seconds) == ("crawler-2", 60)
    assert load_config_text("").store_target == Path("news.db")


def test_relative_store_path_is_resolved_beside_the_file(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[store]\npath = "data/x.db"\n')
    assert load_config(path).db_path == tmp_path / "data" / "x.db"


@pytest.mark.parametrize(("text", "key"), [
    ("[fetch]\nconcurrency = 0", "fetch.concurrency"),
    ("[fetch]\nconcurrency = true", "fetch.concurrency"),
    ("[fetch]\nrespect_robots_txt = 'yes'", "fetch.respect_robots_txt"),
    ("[fetch]\nconcurency = 3", "fetch.concurency"),
    ("[dedup]\nthreshold = 1.5", "dedup.threshold"),
    ("[store]\nurl = 'mysql://db/news'", "store.url"),
    ("[store]\nurl = 5", "store.url"),
    ("[store]\npath = 'x.db'\nurl = 'postgresql://db/news'", "store.path"),
    ("[store]\npool_size = 1", "store.pool_size"),
    ("[cluster]\nlease_seconds = 1", "cluster.lease_seconds"),
    ("[cluster]\nworker_id = ' '", "cluster.worker_id"),
    ("[cluster]\nleases = 3", "cluster.leases"),
    ("[topic]\nall_of = ['musk']", "topic.all_of"),
    ("[topic]\nall_of = [[]]", "topic.all_of"),
    ("[topic]\nlanguages = 'fr'", "topic.languages"),
    ("[topic]\nlanguages = ['fr-FR']", "topic.languages"),
    ("[topic]\nlanguages = ['french']", "topic.languages"),
    ("[topic]\nlanguages = ['eng']", "topic.languages"),  # ISO 639-2: never identified
    ("[schedule]\ninterval_minutes = -1", "schedule.interval_minutes"),
    ("[[sources]]\nname = 'a'\nkind = 'rss'\nurl = 'https://a.example/f'", "sources[0].kind"),
    ("[[sources]]\nname = 'a'\nurl = 'ftp://a.example/f'", "sources[0].url"),
    ("[[sources]]\nname = 'a'\nurl = 'https://a.example/f'\nevery = 3", "sources[0].every"),
    ("[[sources]]\nname = 'a'\nurl = 'https://a/f'\n[[sources]]\nname = 'a'\nurl = 'https://b/f'",
     "sources[1].name"),
    ("surprise = 1", "surprise"),
    ("[store]\npath = ''", "store.path"),
])
def test_bad_values_name_the_key_the_value_and_the_fix(text: str, key: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config_text(text)
    assert info.value.key == key
    message = str(info.value)
    assert message.startswith(f"{key} = ")
    assert len(info.value.fix) > 10


def test_invalid_toml_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config_text("[fetch\n")


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "absent.toml")
