"""The SQLite schema, as append-only sqlite-utils migrations.

Downstream tools read this file while the daemon runs, so the schema is a
public interface (README documents every column). Never edit a migration
that has shipped: add a new one below it. Migrations run at start-up, each
in its own transaction, so an upgrade is ``stop, install, start``::

    >>> from sqlite_utils import Database
    >>> db = Database(memory=True)
    >>> MIGRATIONS.apply(db)
    >>> MIGRATIONS.apply(db)      # idempotent: applied ones are skipped
    >>> "declared_language" in db["articles"].columns_dict
    True
"""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlite_utils import Database, Migrations

MIGRATIONS = Migrations("newsdedup")


@MIGRATIONS(name="0001_initial")
def _initial(db: Database) -> None:
    db.executescript(_V1)
    db.table("articles").enable_fts(["title", "text"], fts_version="FTS5", create_triggers=True,
                              tokenize="unicode61 remove_diacritics 2")


_V1 = """
CREATE TABLE articles (
    id INTEGER PRIMARY KEY,
    url TEXT UNIQUE NOT NULL,
    source TEXT NOT NULL,
    title TEXT,
    author TEXT,
    published TEXT,
    language TEXT,
    text TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    fetched_at TEXT NOT NULL,
    updated_at TEXT,
    feed_updated TEXT,
    sitename TEXT,
    word_count INTEGER NOT NULL DEFAULT 0,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX articles_content_hash ON articles(content_hash);
CREATE INDEX articles_source ON articles(source);
CREATE INDEX articles_fetched_at ON articles(fetched_at);

CREATE TABLE duplicates (
    id INTEGER PRIMARY KEY,
    url TEXT UNIQUE NOT NULL,
    article_id INTEGER NOT NULL REFERENCES articles(id),
    similarity REAL NOT NULL,
    method TEXT NOT NULL CHECK (method IN ('url', 'exact', 'near')),
    title TEXT,
    text TEXT,
    source TEXT NOT NULL,
    language TEXT,
    fetched_at TEXT NOT NULL,
    decided_at TEXT NOT NULL
);
CREATE INDEX duplicates_article_id ON duplicates(article_id);

CREATE TABLE article_versions (
    id INTEGER PRIMARY KEY,
    article_id INTEGER NOT NULL REFERENCES articles(id),
    version INTEGER NOT NULL,
    title TEXT,
    text TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    fetched_at TEXT NOT NULL,
    replaced_at TEXT NOT NULL
);
CREATE INDEX article_versions_article_id ON article_versions(article_id);

CREATE TABLE url_aliases (
    url TEXT PRIMARY KEY,
    article_id INTEGER NOT NULL REFERENCES articles(id),
    first_seen TEXT NOT NULL
);
CREATE INDEX url_aliases_article_id ON url_aliases(article_id);

CREATE TABLE signatures (
    article_id INTEGER PRIMARY KEY REFERENCES articles(id),
    language TEXT,
    n_shingles INTEGER NOT NULL,
    minhash BLOB NOT NULL,
    bands BLOB NOT NULL
);

CREATE TABLE pages (
    url TEXT PRIMARY KEY,
    final_url TEXT NOT NULL,
    source TEXT NOT NULL,
    article_id INTEGER REFERENCES articles(id),
    duplicate_id INTEGER REFERENCES duplicates(id),
    charset TEXT,
    html BLOB NOT NULL,
    fetched_at TEXT NOT NULL,
    feed_updated TEXT
);

CREATE TABLE removals (
    id INTEGER PRIMARY KEY,
    article_id INTEGER NOT NULL REFERENCES articles(id),
    position INTEGER NOT NULL,
    rule TEXT NOT NULL,
    text TEXT NOT NULL
);
CREATE INDEX removals_article_id ON removals(article_id);

CREATE TABLE skipped (
    url TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    reason TEXT NOT NULL,
    feed_updated TEXT,
    at TEXT NOT NULL
);

CREATE TABLE sources (
    name TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    url TEXT NOT NULL,
    etag TEXT,
    last_modified TEXT,
    last_status INTEGER,
    last_error TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    last_attempt_at TEXT,
    last_success_at TEXT,
    next_attempt_at TEXT
);

CREATE TABLE cycles (
    id INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    sources TEXT NOT NULL,
    summary TEXT
);

CREATE TABLE fetch_log (
    id INTEGER PRIMARY KEY,
    cycle_id INTEGER REFERENCES cycles(id),
    url TEXT NOT NULL,
    source TEXT,
    outcome TEXT NOT NULL,
    reason TEXT,
    at TEXT NOT NULL
);
CREATE INDEX fetch_log_cycle_id ON fetch_log(cycle_id);
"""


@MIGRATIONS(name="0002_site_learning")
def _site_learning(db: Database) -> None:
    """Per-site template learning: which paragraphs recur across a site's records."""
    db.executescript("""
CREATE TABLE site_paragraphs (
    site TEXT NOT NULL,
    key TEXT NOT NULL,
    pages INTEGER NOT NULL,
    sample TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    PRIMARY KEY (site, key)
) WITHOUT ROWID;
ALTER TABLE articles ADD COLUMN site TEXT;
CREATE INDEX articles_site ON articles(site);
""")
    for article_id, url in db.execute("SELECT id, url FROM articles").fetchall():
        db.execute("UPDATE articles SET site = ? WHERE id = ?", (urlsplit(url).netloc, article_id))


@MIGRATIONS(name="0003_reviews")
def _reviews(db: Database) -> None:
    """Editors' corrections (``review split`` / ``review merge``), kept forever.

    Ids are not foreign keys: a merge deletes the record it folds away, and
    the history must outlive it. Statement by statement (not ``executescript``,
    which would commit early) so the migration stays one transaction.
    """
    for statement in _REVIEWS:
        db.execute(statement)


_REVIEWS = (
    """CREATE TABLE reviews (
    id INTEGER PRIMARY KEY,
    action TEXT NOT NULL CHECK (action IN ('split', 'merge')),
    article_id INTEGER NOT NULL,
    target_id INTEGER NOT NULL,
    duplicate_id INTEGER,
    url TEXT NOT NULL,
    method TEXT,
    similarity REAL,
    note TEXT,
    at TEXT NOT NULL
)""",
    "CREATE INDEX reviews_url ON reviews(url)",
    "CREATE INDEX reviews_article_id ON reviews(article_id)",
    "CREATE INDEX reviews_target_id ON reviews(target_id)",
)


@MIGRATIONS(name="0004_duplicates_review_method", transactional=False)
def _review_method(db: Database) -> None:
    """Allow ``duplicates.method = 'review'`` (an editor's merge).

    SQLite cannot alter a CHECK constraint, so the table is rebuilt (create,
    copy, drop, rename). ``pages`` references ``duplicates``: dropping the old
    table with foreign keys on would fail even when every id comes back, and
    ``PRAGMA foreign_keys`` is ignored inside a transaction, hence
    ``transactional=False`` and our own transaction. Idempotent: a crash after
    the commit and before sqlite-utils records the migration only re-checks.
    """
    from ingest.errors import StoreError

    create = _table_sql(db, "duplicates")
    if _REVIEW_CHECK in create:
        return
    if _OLD_CHECK not in create:
        raise StoreError(f"duplicates has an unexpected method constraint: {create}")
    if db.conn.in_transaction:
        raise StoreError("0004_duplicates_review_method must run outside a transaction")
    foreign_keys = bool(db.execute("PRAGMA foreign_keys").fetchone()[0])
    db.execute("PRAGMA foreign_keys=OFF")
    try:
        with db.atomic():
            _rebuild_duplicates(db, create.replace(_OLD_CHECK, _REVIEW_CHECK))
    finally:
        if foreign_keys:
            db.execute("PRAGMA foreign_keys=ON")


_OLD_CHECK = "CHECK (method IN ('url', 'exact', 'near'))"
_REVIEW_CHECK = "CHECK (method IN ('url', 'exact', 'near', 'review'))"


def _table_sql(db: Database, name: str) -> str:
    row = db.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
                     (name,)).fetchone()
    return str(row[0])


def _rebuild_duplicates(db: Database, create: str) -> None:
    indexes = [sql for (sql,) in db.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'duplicates' "
        "AND sql IS NOT NULL")]
    db.execute(create.replace("CREATE TABLE duplicates", "CREATE TABLE duplicates_new", 1))
    db.execute("INSERT INTO duplicates_new SELECT * FROM duplicates")
    db.execute("DROP TABLE duplicates")
    db.execute("ALTER TABLE duplicates_new RENAME TO duplicates")
    for sql in indexes:
        db.execute(sql)
    if db.execute("PRAGMA foreign_key_check").fetchall():
        from ingest.errors import StoreError

        raise StoreError("rebuilding duplicates broke a foreign key; rolled back")


@MIGRATIONS(name="0005_url_keys")
def _url_keys(db: Database) -> None:
    """Identity keys: one page under www./m. hosts, http/https or AMP paths."""
    from ingest.urls import identity_key

    db.execute("CREATE TABLE url_keys (key TEXT PRIMARY KEY, "
               "article_id INTEGER NOT NULL REFERENCES articles(id))")
    rows = db.execute("SELECT url, article_id FROM url_aliases ORDER BY rowid").fetchall()
    db.conn.executemany("INSERT OR IGNORE INTO url_keys VALUES (?, ?)",
                        ((identity_key(url), article_id) for url, article_id in rows))


@MIGRATIONS(name="0006_site_template_index")
def _site_template_index(db: Database) -> None:
    """``site_template`` reads (site, pages >= n): without this it scans the site's keys."""
    db.execute("CREATE INDEX site_paragraphs_template ON site_paragraphs(site, pages)")


@MIGRATIONS(name="0007_site_template_partial_index")
def _site_template_partial_index(db: Database) -> None:
    """Index only paragraphs seen on two records or more (``clean.template_min_pages``
    is at least 2): nearly every paragraph is seen once, and re-indexing each one's
    count on every upsert was most of the per-site learning's write cost."""
    db.execute("DROP INDEX site_paragraphs_template")
    db.execute("CREATE INDEX site_paragraphs_recurring ON site_paragraphs(site, pages) "
               "WHERE pages >= 2")


@MIGRATIONS(name="0008_paragraph_sightings")
def _paragraph_sightings(db: Database) -> None:
    """First sightings of paragraphs as 8-byte hashes; ``site_paragraphs`` keeps only
    paragraphs seen on two records or more. Nearly every paragraph is seen once, and
    writing its full text twice (key and sample) was most of the learning's cost."""
    from store.learning import key_hash

    db.execute("CREATE TABLE site_paragraph_sightings (site TEXT NOT NULL, "
               "hash INTEGER NOT NULL, first_seen TEXT NOT NULL, "
               "PRIMARY KEY (site, hash)) WITHOUT ROWID")
    rows = db.execute("SELECT site, key, first_seen FROM site_paragraphs").fetchall()
    db.conn.executemany("INSERT OR IGNORE INTO site_paragraph_sightings VALUES (?, ?, ?)",
                        ((site, key_hash(key), first) for site, key, first in rows))
    db.execute("DELETE FROM site_paragraphs WHERE pages < 2")


@MIGRATIONS(name="0009_identified_language")
def _identified_language(db: Database) -> None:
    """``language`` becomes the language identified from the clean text; what the page,
    its HTTP header or its feed declared moves to ``declared_language`` (a hint, often
    wrong), with the identifier's ``language_confidence``. ``pages.language_hint`` keeps
    the claim made outside the page so ``reprocess`` decides as the crawl did. Rows
    stored before this migration get the new columns as NULL until ``reprocess``."""
    for table in ("articles", "duplicates"):
        db.execute(f"ALTER TABLE {table} ADD COLUMN declared_language TEXT")
        db.execute(f"ALTER TABLE {table} ADD COLUMN language_confidence REAL")
    db.execute("ALTER TABLE pages ADD COLUMN language_hint TEXT")


@MIGRATIONS(name="0010_cluster")
def _cluster(db: Database) -> None:
    """Coordination of several processes on one store (issue 14): who visits which source
    (``source_leases``), who fetches which URL (``url_claims``), which workers run
    (``workers``) and which worker ran each cycle (``cycles.worker_id``). Lease times
    are Unix seconds (REAL): they are compared, never shown as dates."""
    for statement in _CLUSTER:
        db.execute(statement)


_CLUSTER = (
    "CREATE TABLE source_leases (name TEXT PRIMARY KEY, worker_id TEXT NOT NULL, "
    "leased_at REAL NOT NULL, expires_at REAL NOT NULL, visited_at REAL)",
    "CREATE TABLE url_claims (url TEXT PRIMARY KEY, worker_id TEXT NOT NULL, "
    "expires_at REAL NOT NULL)",
    "CREATE INDEX url_claims_worker_id ON url_claims(worker_id)",
    "CREATE INDEX url_claims_expires_at ON url_claims(expires_at)",
    "CREATE TABLE workers (worker_id TEXT PRIMARY KEY, host TEXT, pid INTEGER, "
    "started_at TEXT NOT NULL, last_seen_at TEXT NOT NULL, cycles INTEGER NOT NULL DEFAULT 0, "
    "pages INTEGER NOT NULL DEFAULT 0, busy_seconds REAL NOT NULL DEFAULT 0)",
    "ALTER TABLE cycles ADD COLUMN worker_id TEXT",
)


@MIGRATIONS(name="0011_reprocess_cache")
def _reprocess_cache(db: Database) -> None:
    """Pages extracted ahead of a ``reprocess`` (``reprocess --prepare --pages A:B``, on
    several machines at once), keyed by URL and by the rules that extracted them
    (``rules``: a digest of the code and settings); the replay takes what matches and
    empties the table when it commits."""
    db.execute("CREATE TABLE reprocess_cache (url TEXT PRIMARY KEY, rules TEXT NOT NULL, "
               "value BLOB NOT NULL)")


@MIGRATIONS(name="0012_editors")
def _editors(db: Database) -> None:
    """The review app (``newsdedup serve``): its editors (passwords as argon2 hashes;
    disabled, never deleted, so the history keeps their names), the editor of each
    review, and the decisions an editor confirmed (``decision_marks``: "reviewed", so
    two editors do not redo each other's work). Duplicates are listed newest first."""
    for statement in _EDITORS:
        db.execute(statement)


_EDITORS = (
    "CREATE TABLE editors (name TEXT PRIMARY KEY, password_hash TEXT NOT NULL, "
    "created_at TEXT NOT NULL, disabled_at TEXT)",
    "ALTER TABLE reviews ADD COLUMN editor TEXT",
    "CREATE TABLE decision_marks (duplicate_id INTEGER PRIMARY KEY, editor TEXT NOT NULL, "
    "at TEXT NOT NULL)",
    "CREATE INDEX duplicates_decided_at ON duplicates(decided_at, id)",
)


@MIGRATIONS(name="0013_revisits")
def _revisits(db: Database) -> None:
    """Issue 16: a record's ``access`` (``free``, ``paywalled``, ``unknown``); each
    source's adaptive interval and why (``ingest.pipeline.cadence``); and the re-check
    schedule of records, fetched again with conditional GETs to catch corrections
    that no feed announces (``ingest.pipeline.recheck``). Records stored before this
    migration are not re-checked (their schedule would be long past)."""
    for statement in REVISITS:
        db.execute(statement)


REVISITS = (
    "ALTER TABLE articles ADD COLUMN access TEXT NOT NULL DEFAULT 'unknown'",
    "ALTER TABLE sources ADD COLUMN interval_seconds REAL",
    "ALTER TABLE sources ADD COLUMN new_per_hour REAL",
    "ALTER TABLE sources ADD COLUMN interval_reason TEXT",
    "ALTER TABLE sources ADD COLUMN cadence_at TEXT",
    "ALTER TABLE sources ADD COLUMN next_visit_at TEXT",
    "CREATE TABLE rechecks (article_id INTEGER PRIMARY KEY, "
    "url TEXT NOT NULL, source TEXT NOT NULL, first_seen TEXT NOT NULL, "
    "step INTEGER NOT NULL DEFAULT 0, due_at TEXT, checked_at TEXT, etag TEXT, "
    "last_modified TEXT, fetched INTEGER NOT NULL DEFAULT 0)",
    "CREATE INDEX rechecks_due ON rechecks(source, due_at)",
)
"""The statements of migration ``0013_revisits`` (PostgreSQL's ``0004_revisits`` runs
them with its own types)."""
