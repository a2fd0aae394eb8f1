"""The PostgreSQL store at scale: bulk load, near-duplicate query latency, decide-and-insert.

Run from the repository root (a million records: about 3 minutes on 2 cores, 6 GB of disk)::

    .venv/bin/python bench/pg_scale.py [--records 1000000] [--queries 2000] [--pages 500]
        [--json FILE] [--keep] [--shared-buffers 2GB] [--unsafe] [--dir DIR]

What it does and measures:

1. **Cluster.** A throwaway PostgreSQL cluster (``initdb`` in a temp dir, a free
   loopback port, run as the ``postgres`` user when we are root, as
   ``tests/pgcluster.py`` does) with the server's *default durability*: ``fsync``,
   ``full_page_writes`` and ``synchronous_commit`` on, so commit costs are real
   (``--unsafe`` turns them off, as the test cluster does). Non-default settings
   are printed: ``shared_buffers`` (``--shared-buffers``), ``maintenance_work_mem``,
   ``max_wal_size``/``checkpoint_timeout`` (the load does not checkpoint midway;
   an explicit ``CHECKPOINT`` ends it) and ``pg_stat_statements``. The cluster is
   stopped at exit, and removed unless ``--keep``.
2. **Load.** :meth:`PgStore.open` creates the schema; N records are loaded with
   ``COPY``: ``articles`` (a short text: its ``search`` tsvector is computed on
   insert, as always), ``url_aliases`` and ``url_keys`` (one row each per record,
   as ``add_article`` writes), ``signatures`` (random MinHash values, bands
   computed from them with :func:`band_keys` as the product does) and ``lsh_bands``
   (one row per band, keys as :func:`store.pg.learning.lsh_keys` makes them),
   the last two in ``COPY BINARY`` built with numpy. Not loaded: ``pages``,
   ``duplicates``, ``removals`` (the reads measured here touch ``pages`` only
   through ``duplicates``). For speed, the loaded tables' indexes and constraints
   (and the foreign keys referencing them) are dropped first and re-created after
   with their own definitions, read from the catalog (checked identical after),
   and each table is loaded with ``TRUNCATE`` + ``COPY FREEZE`` in one
   transaction; then ``VACUUM ANALYZE`` (visibility map: index-only scans) and a
   ``CHECKPOINT``. Load time per step, and table and index sizes.
3. **Near-duplicate query.** ``StoredIndex(settings, store.band_matches).find(fp)``
   as the pipeline asks it: hits (a stored record with 10 of its 128 MinHash values
   changed) and misses (new random values), median/p90/p99; then
   ``band_matches`` alone, and the product's SQL beside alternatives on a plain
   connection (prepared / not prepared, without the join to ``articles``, band
   ids only, an empty round trip), interleaved query by query, and an
   ``EXPLAIN (ANALYZE, BUFFERS)`` of a hit and of a miss.
4. **Decide and insert.** The real single writer (:class:`Recorder` of
   ``ingest/pipeline/record.py``, with :class:`StoredIndex`) commits ``--pages``
   new pages (random texts, fingerprinted beforehand as the workers do), then as
   many near-duplicates of them (3 words changed, on other sites): per page
   the whole ``Recorder.commit`` (the decision's transaction, its advisory locks,
   reads, ``find``, writes, ``COMMIT``), split into taking the locks (entering
   ``store.decision``: ``BEGIN`` and the two lock statements), ``find``, the rest
   of the body, and ``COMMIT``. Twice: with ``synchronous_commit`` on (default),
   then off for the writer's session. Also a one-row commit's latency, and the
   statements the server ran per page (``pg_stat_statements``).

Targets: a near-duplicate query's median under 2 ms at a million records.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import itertools
import json
import os
import pwd
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
from psycopg import sql as pgsql

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from ingest.config import DedupSettings  # noqa: E402
from ingest.dedup.minhash import band_keys, lsh_layout  # noqa: E402
from ingest.dedup.stored import StoredIndex  # noqa: E402
from ingest.pipeline.plan import PageResult  # noqa: E402
from ingest.pipeline.process import processed_page  # noqa: E402
from ingest.pipeline.record import Recorder  # noqa: E402
from ingest.pipeline.topic import TopicFilter  # noqa: E402
from ingest.types import (  # noqa: E402
    CleanedArticle,
    DedupDecision,
    DiscoveredLink,
    FetchedPage,
    Fingerprint,
    PageTask,
    Paragraph,
    StageCounters,
)
from ingest.urls import identity_key  # noqa: E402
from pgcluster import pg_bin  # noqa: E402
from store.pg import db as pgdb  # noqa: E402
from store.pg.db import PgStore  # noqa: E402
from store.pg.learning import BAND_MIX, lsh_keys  # noqa: E402

SETTINGS = DedupSettings()
LAYOUT = lsh_layout(SETTINGS)
P, B = SETTINGS.num_perm, LAYOUT.bands
CHUNK = 16_384
SITES = 1000
LANGS = ("en", "fr")  # by id parity, as signature_copy
WORDS = ("court", "minister", "vote", "market", "storm", "league", "budget", "trial",
         "council", "energy", "strike", "border", "summit", "museum", "harbour", "election")
LOADED = ("articles", "url_aliases", "url_keys", "signatures", "lsh_bands")
SERVER_USER = "postgres"


# -- the cluster ------------------------------------------------------------------------------


def _as_server_user(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", SERVER_USER, "--", *cmd] if os.geteuid() == 0 else cmd


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_settings(shared_buffers: str, unsafe: bool) -> dict[str, str]:
    settings = {"shared_buffers": shared_buffers, "maintenance_work_mem": "1GB",
                "max_wal_size": "32GB", "checkpoint_timeout": "30min",
                "effective_cache_size": "16GB", "shared_preload_libraries": "pg_stat_statements"}
    if unsafe:
        settings |= {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
    return settings


@contextlib.contextmanager
def cluster(settings: dict[str, str], *, keep: bool, parent: str | None
            ) -> Iterator[tuple[str, int]]:
    """A running cluster's URL and postmaster's pid; stopped at exit (removed unless
    ``keep``)."""
    bindir = pg_bin()
    home = Path(tempfile.mkdtemp(prefix="pg_scale_", dir=parent))
    if os.geteuid() == 0:
        owner = pwd.getpwnam(SERVER_USER)
        os.chown(home, owner.pw_uid, owner.pw_gid)
    data, port = home / "data", _free_port()
    run: dict[str, Any] = {"check": True, "capture_output": True, "timeout": 300, "cwd": home}
    options = " ".join(f"-c {key}={value}" for key, value in settings.items())
    try:
        subprocess.run(_as_server_user([str(bindir / "initdb"), "-D", str(data), "-U",
                                        "postgres", "--auth=trust", "-E", "UTF8",
                                        "--locale=C"]), **run)
        subprocess.run(_as_server_user([
            str(bindir / "pg_ctl"), "-D", str(data), "-l", str(home / "server.log"), "-w",
            "-o", f"-p {port} -k {home} -c listen_addresses=127.0.0.1 {options}", "start"]),
            **run)
        print(f"cluster: {home} (PostgreSQL in {bindir}, port {port})", flush=True)
        postmaster = int((data / "postmaster.pid").read_text().split()[0])
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres", postmaster
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(_as_server_user([str(bindir / "pg_ctl"), "-D", str(data), "-m",
                                            "fast" if keep else "immediate", "-w", "stop"]),
                           capture_output=True, timeout=600, cwd=home)
        if keep:
            print(f"kept the cluster's directory: {home} (stopped; start it with pg_ctl -D "
                  f"{data} start)")
        else:
            shutil.rmtree(home, ignore_errors=True)


# -- synthetic records -------------------------------------------------------------------------


def random_values(seed: int, n: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 2**32, size=(n, P), dtype=np.uint32)


MIX = np.arange(1, B + 1, dtype=np.uint64) * np.uint64(BAND_MIX)  # wraps mod 2**64


def chunks(n: int) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(article ids, MinHash values, band keys) per chunk; ids start at 1."""
    for start in range(0, n, CHUNK):
        values = random_values(start, min(CHUNK, n - start))
        ids = np.arange(start + 1, start + 1 + len(values), dtype=np.int64)
        yield ids, values, band_keys(values, LAYOUT).astype(np.uint64)


def table_keys(keys: np.ndarray) -> np.ndarray:
    """``lsh_bands.key`` of each band: as :func:`lsh_keys`, vectorised."""
    return (keys + MIX).view(np.int64)


COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
COPY_TRAILER = b"\xff\xff"
BAND_ROW = np.dtype([("n", ">i2"), ("l1", ">i4"), ("key", ">i8"), ("l2", ">i4"), ("id", ">i8")])
SIG_ROW = np.dtype([("n", ">i2"), ("l1", ">i4"), ("id", ">i8"), ("l2", ">i4"), ("lang", "S2"),
                    ("l3", ">i4"), ("ns", ">i4"), ("l4", ">i4"), ("mh", "u1", (4 * P,)),
                    ("l5", ">i4"), ("bd", "u1", (8 * B,))])


def band_copy(ids: np.ndarray, keys: np.ndarray) -> bytes:
    mixed = table_keys(keys)
    probe = int(ids[0])
    assert mixed[0].tolist() == lsh_keys(keys[0].astype("<u8").tobytes()), probe
    rows = np.empty(mixed.size, BAND_ROW)
    rows["n"], rows["l1"], rows["l2"] = 2, 8, 8
    rows["key"] = mixed.ravel()
    rows["id"] = np.repeat(ids, B)
    return rows.tobytes()


def signature_copy(ids: np.ndarray, values: np.ndarray, keys: np.ndarray) -> bytes:
    rows = np.empty(len(ids), SIG_ROW)
    rows["n"], rows["l1"], rows["l2"], rows["l3"], rows["l4"] = 5, 8, 2, 4, 4 * P
    rows["l5"] = 8 * B
    rows["id"] = ids
    rows["lang"] = np.where(ids % 2 == 0, b"en", b"fr")
    rows["ns"] = 200 + ids % 1300
    rows["mh"] = values.astype("<u4").view(np.uint8).reshape(len(ids), 4 * P)
    rows["bd"] = keys.astype("<u8").view(np.uint8).reshape(len(ids), 8 * B)
    return rows.tobytes()


def fetched(ids: np.ndarray) -> list[str]:
    stamps = np.datetime64("2025-01-01T00:00:00") + (ids * 30).astype("timedelta64[s]")
    return [f"{s}+00:00" for s in np.datetime_as_string(stamps, unit="s").tolist()]


def article_copy(ids: np.ndarray) -> str:
    rng = np.random.default_rng(int(ids[0]))
    words = rng.integers(0, len(WORDS), size=(len(ids), 3)).tolist()
    out = []
    for i, at, (a, b, c) in zip(ids.tolist(), fetched(ids), words, strict=True):
        site = i % SITES
        out.append(f"{i}\thttps://site{site}.example/news/{i}\tfeed{site}\t{LANGS[i % 2]}"
                   f"\tSynthetic record {i}: {WORDS[a]} {WORDS[b]} {WORDS[c]}"
                   f"\t{hashlib.sha256(b'%d' % i).hexdigest()}\t{at}\tsite{site}.example\t6\n")
    return "".join(out)


def alias_copy(ids: np.ndarray) -> str:
    return "".join(f"https://site{i % SITES}.example/news/{i}\t{i}\t{at}\n"
                   for i, at in zip(ids.tolist(), fetched(ids), strict=True))


def url_key_copy(ids: np.ndarray) -> str:
    first = int(ids[0])
    assert identity_key(f"https://site{first % SITES}.example/news/{first}") == \
        f"site{first % SITES}.example/news/{first}"
    return "".join(f"site{i % SITES}.example/news/{i}\t{i}\n" for i in ids.tolist())


# -- the load ---------------------------------------------------------------------------------


Snapshot = tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]


def snapshot(conn: psycopg.Connection[Any]) -> Snapshot:
    """The loaded tables' constraints (and foreign keys to them), and their other indexes."""
    tables = list(LOADED)
    constraints = conn.execute(
        "SELECT c.conname, c.conrelid::regclass::text, c.contype::text, "
        "pg_get_constraintdef(c.oid) FROM pg_constraint c WHERE c.contype IN ('p', 'u', 'f') "
        "AND (c.conrelid = ANY(%s::regclass[]) OR c.confrelid = ANY(%s::regclass[])) "
        "ORDER BY 2, 1", (tables, tables)).fetchall()
    indexes = conn.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "WHERE i.indrelid = ANY(%s::regclass[]) AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
        "WHERE c.conindid = i.indexrelid AND c.contype IN ('p', 'u', 'x')) ORDER BY 1",
        (tables,)).fetchall()
    return constraints, indexes


def drop_all(conn: psycopg.Connection[Any], snap: Snapshot) -> None:
    constraints, indexes = snap
    for kinds in ("f", "pu"):
        for name, table, kind, _ in constraints:
            if kind in kinds:
                conn.execute(pgsql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
                    pgsql.SQL(table), pgsql.Identifier(name)))
    for name, _ in indexes:
        conn.execute(pgsql.SQL("DROP INDEX {}").format(pgsql.SQL(name)))


def recreate_all(conn: psycopg.Connection[Any], snap: Snapshot,
                 timed: Callable[[str], contextlib.AbstractContextManager[None]]) -> None:
    constraints, indexes = snap
    for name, definition in indexes:
        with timed(f"create index {name}"):
            conn.execute(definition)
    for kinds in ("pu", "f"):
        for name, table, kind, definition in constraints:
            if kind in kinds:
                with timed(f"add {'foreign key' if kind == 'f' else 'key'} {name}"):
                    conn.execute(pgsql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
                        pgsql.SQL(table), pgsql.Identifier(name), pgsql.SQL(definition)))


def copy_table(conn: psycopg.Connection[Any], table: str, columns: str, binary: bool,
               parts: Iterator[bytes | str]) -> None:
    """``TRUNCATE`` + ``COPY FREEZE`` in one transaction (rows frozen, all-visible)."""
    options = "FORMAT BINARY, FREEZE" if binary else "FREEZE"
    with conn.transaction():
        conn.execute(f"TRUNCATE {table}")
        with conn.cursor() as cur, cur.copy(
                f"COPY {table} ({columns}) FROM STDIN WITH ({options})") as copy:
            if binary:
                copy.write(COPY_HEADER)
            for part in parts:
                copy.write(part)
            if binary:
                copy.write(COPY_TRAILER)


def load(url: str, n: int) -> dict[str, Any]:
    steps: dict[str, float] = {}

    @contextlib.contextmanager
    def timed(step: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        steps[step] = time.perf_counter() - start
        print(f"  {step:<44}{steps[step]:8.1f} s", flush=True)

    total = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '1GB'")
        before = snapshot(conn)
        with timed("drop indexes and constraints"):
            drop_all(conn, before)
        with timed("COPY articles"):
            copy_table(conn, "articles", "id, url, source, language, text, content_hash, "
                       "fetched_at, site, word_count", False,
                       (article_copy(ids) for ids, _, _ in id_chunks(n)))
        with timed("COPY url_aliases"):
            copy_table(conn, "url_aliases", "url, article_id, first_seen", False,
                       (alias_copy(ids) for ids, _, _ in id_chunks(n)))
        with timed("COPY url_keys"):
            copy_table(conn, "url_keys", "key, article_id", False,
                       (url_key_copy(ids) for ids, _, _ in id_chunks(n)))
        with timed("COPY BINARY signatures"):
            copy_table(conn, "signatures", "article_id, language, n_shingles, minhash, bands",
                       True, (signature_copy(*c) for c in chunks(n)))
        with timed(f"COPY BINARY lsh_bands ({n * B:,} rows)"):
            copy_table(conn, "lsh_bands", "key, article_id", True,
                       (band_copy(ids, keys) for ids, _, keys in chunks(n)))
        conn.execute("SELECT setval(pg_get_serial_sequence('articles', 'id'), %s)", (n,))
        recreate_all(conn, before, timed)
        after = snapshot(conn)
        if after != before:
            raise SystemExit(f"schema not restored:\n{before}\n{after}")
        with timed("VACUUM ANALYZE"):
            for table in LOADED:
                conn.execute(f"VACUUM (ANALYZE) {table}")
        with timed("CHECKPOINT"):
            conn.execute("CHECKPOINT")
        with timed("sync (the OS writes its dirty pages)"):
            os.sync()  # else the first commits measured wait behind gigabytes of writeback
        sizes = conn.execute(
            "SELECT c.relname, c.reltuples::bigint, pg_relation_size(c.oid), "
            "pg_indexes_size(c.oid), pg_total_relation_size(c.oid) FROM pg_class c "
            "WHERE c.relname = ANY(%s) ORDER BY pg_total_relation_size(c.oid) DESC",
            (list(LOADED),)).fetchall()
        index_sizes = conn.execute(
            "SELECT indexrelid::regclass::text, pg_relation_size(indexrelid) FROM pg_index "
            "WHERE indrelid = ANY(%s::regclass[]) ORDER BY 2 DESC", (list(LOADED),)).fetchall()
        (database,) = conn.execute("SELECT pg_database_size(current_database())").fetchone() \
            or (0,)
        (wal,) = conn.execute("SELECT pg_current_wal_lsn() - '0/0'").fetchone() or (0,)
    return {"seconds": time.perf_counter() - total, "steps": steps, "schema_restored": True,
            "tables": [{"table": t, "rows": r, "heap_mb": h / 2**20, "indexes_mb": i / 2**20,
                        "total_mb": tot / 2**20} for t, r, h, i, tot in sizes],
            "indexes": {name: size / 2**20 for name, size in index_sizes},
            "database_mb": database / 2**20, "wal_written_mb": float(wal) / 2**20}


def id_chunks(n: int) -> Iterator[tuple[np.ndarray, None, None]]:
    for start in range(0, n, CHUNK):
        yield np.arange(start + 1, min(n, start + CHUNK) + 1, dtype=np.int64), None, None


# -- near-duplicate queries -------------------------------------------------------------------


def percentiles(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)

    def rank(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return {"n": len(ordered), "median_ms": statistics.median(ordered), "p90_ms": rank(0.9),
            "p99_ms": rank(0.99), "max_ms": ordered[-1]}


def with_values(values: np.ndarray, language: str | None, n_shingles: int) -> Fingerprint:
    bands = band_keys(values, LAYOUT).astype("<u8").tobytes()
    return Fingerprint("", language, n_shingles, values.astype("<u4").tobytes(), bands)


def perturbed(fp: Fingerprint, rng: np.random.Generator, changed: int = 10) -> Fingerprint:
    values = np.frombuffer(fp.minhash, dtype="<u4").copy()
    values[rng.choice(len(values), changed, replace=False)] ^= np.uint32(0x5A5A5A5A)
    return with_values(values, fp.language, fp.n_shingles)


def random_fp(rng: np.random.Generator) -> Fingerprint:
    return with_values(rng.integers(0, 2**32, size=P, dtype=np.uint32), "en", 500)


ALTERNATIVES: dict[str, tuple[str, bool]] = {
    # name: (SQL, prepared)
    "product SQL, prepared": (pgdb._BAND_MATCHES, True),
    "product SQL, not prepared": (pgdb._BAND_MATCHES, False),
    "without the join to articles": (
        "SELECT s.article_id, s.language, s.n_shingles, s.minhash, s.bands FROM signatures s "
        "WHERE s.article_id IN (SELECT article_id FROM lsh_bands WHERE key = ANY(%s::int8[]))",
        True),
    "band ids only (lsh_bands)": (
        "SELECT DISTINCT article_id FROM lsh_bands WHERE key = ANY(%s::int8[])", True),
    "empty round trip (SELECT 1)": ("SELECT 1 WHERE %s::int8[] IS NOT NULL", True),
}


def time_calls(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1e3


def stored_fps(ids: list[int], n: int) -> list[Fingerprint]:
    """The loaded records' fingerprints, generated again (not read: reading would bring
    their pages into the server's cache before they are queried)."""
    out: dict[int, Fingerprint] = {}
    for start in sorted({(i - 1) // CHUNK * CHUNK for i in ids}):
        values = random_values(start, min(CHUNK, n - start))
        for i in ids:
            if start < i <= start + CHUNK:
                out[i] = with_values(values[i - 1 - start], LANGS[i % 2], 200 + i % 1300)
    return [out[i] for i in ids]


def queries(url: str, store: PgStore, n: int, n_queries: int) -> dict[str, Any]:
    """``find`` and ``band_matches`` interleaved query by query, each on its own records
    (a query warms the pages it reads for the next one on the same record)."""
    rng = np.random.default_rng(99)
    index = StoredIndex(SETTINGS, store.band_matches)
    targets = [int(i) for i in rng.choice(np.arange(1, n + 1), 3 * n_queries, replace=False)]
    hits = [perturbed(fp, rng) for fp in stored_fps(targets, n)]
    misses = [random_fp(rng) for _ in range(3 * n_queries)]
    for fp in [random_fp(rng) for _ in range(50)]:  # the connection, the prepared statement
        index.find(fp)
    out: dict[str, Any] = {}
    for kind, fps in (("hit", hits), ("miss", misses)):
        decisions: list[DedupDecision] = []
        find_times, match_times = [], []
        for k in range(n_queries):
            for step in ((0, 1) if k % 2 else (1, 0)):
                fp = fps[2 * k + step]
                start = time.perf_counter()
                if step == 0:
                    decisions.append(index.find(fp))
                    find_times.append((time.perf_counter() - start) * 1e3)
                else:
                    store.band_matches(fp.bands)
                    match_times.append((time.perf_counter() - start) * 1e3)
        out[f"find_{kind}"] = percentiles(find_times)
        out[f"find_{kind}_times_ms"] = find_times
        out[f"band_matches_{kind}"] = percentiles(match_times)
        if kind == "hit":
            out["hits_found"] = sum(d.duplicate_of == targets[2 * k] for k, d in
                                    enumerate(decisions))
            out["hits"] = len(decisions)
        else:
            out["false_near_on_misses"] = sum(d.is_duplicate for d in decisions)
        out[f"candidates_per_{kind}"] = statistics.mean(
            len(store.band_matches(fp.bands)) for fp in fps[:200])
        # The same queries again: their pages are in shared_buffers now.
        out[f"find_{kind}_again"] = percentiles(
            [time_calls(lambda fp=fp: index.find(fp)) for fp in fps[:2 * n_queries:2]])
    for i, fp in zip(targets[:20], stored_fps(targets[:20], n), strict=True):
        got = store.fingerprint(i)  # the regenerated records are the loaded ones
        assert got is not None and replace(got, content_hash="") == fp, i
    out["prepare_threshold"] = store.conn.raw.prepare_threshold
    out["lsh_keys_ms"] = statistics.median(time_calls(lambda b=fp.bands: lsh_keys(b))
                                           for fp in hits[:200])
    rest = 2 * n_queries
    out["alternatives"] = alternatives(url, hits[rest:], misses[rest:])
    out["explain"] = explain(url, hits[rest], misses[rest])
    return out


def alternatives(url: str, hits: list[Fingerprint], misses: list[Fingerprint]
                 ) -> dict[str, dict[str, Any]]:
    """Each query text on one plain connection, interleaved query by query (keys computed
    beforehand: execute and fetch only)."""
    results: dict[str, dict[str, list[float]]] = {
        name: {"hit": [], "miss": []} for name in ALTERNATIVES}
    with psycopg.connect(url, autocommit=True) as conn:
        for kind, fps in (("hit", hits), ("miss", misses)):
            for j, fp in enumerate(fps):
                keys = lsh_keys(fp.bands)
                names = list(ALTERNATIVES)
                names = names[j % len(names):] + names[:j % len(names)]  # rotate the order
                for name in names:
                    text, prepare = ALTERNATIVES[name]
                    ms = time_calls(lambda t=text, p=prepare, k=keys:
                                    conn.execute(t, (k,), prepare=p).fetchall())
                    if j >= 20:  # warm-up
                        results[name][kind].append(ms)
    return {name: {kind: percentiles(times) for kind, times in r.items()}
            for name, r in results.items()}


def explain(url: str, hit: Fingerprint, miss: Fingerprint) -> dict[str, str]:
    plans = {}
    with psycopg.connect(url, autocommit=True) as conn:
        for kind, fp in (("hit", hit), ("miss", miss)):
            conn.execute(pgdb._BAND_MATCHES, (lsh_keys(fp.bands),))  # a warm catalog cache
            rows = conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + pgdb._BAND_MATCHES,
                                (lsh_keys(fp.bands),)).fetchall()
            plans[kind] = "\n".join(r[0] for r in rows)
    return plans


# -- decide and insert ------------------------------------------------------------------------


def vocabulary(rng: np.random.Generator, size: int = 20_000) -> list[str]:
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    lengths = rng.integers(3, 11, size)
    return ["".join(rng.choice(letters, k).tolist()) for k in lengths.tolist()]


def story(rng: np.random.Generator, vocab: list[str]) -> list[str]:
    """4 to 8 paragraphs, 300 to 700 words in all."""
    n_par = int(rng.integers(4, 9))
    words = [vocab[i] for i in rng.integers(0, len(vocab), int(rng.integers(300, 701)))]
    cuts = sorted(rng.choice(np.arange(20, len(words) - 20), n_par - 1, replace=False).tolist())
    bounds = [0, *cuts, len(words)]
    return [" ".join(words[a:b]).capitalize() + "." for a, b in itertools.pairwise(bounds)]


def near_copy(rng: np.random.Generator, vocab: list[str], paragraphs: list[str],
              changed: int = 3) -> list[str]:
    """The same story with ``changed`` words replaced (about 1 in 100 to 1 in 230)."""
    words = [p.split() for p in paragraphs]
    flat = [(i, j) for i, ws in enumerate(words) for j in range(len(ws))]
    for k in rng.choice(len(flat), changed, replace=False).tolist():
        i, j = flat[k]
        words[i][j] = vocab[int(rng.integers(len(vocab)))]
    return [" ".join(ws) for ws in words]


BOILERPLATE = ("<nav>" + "".join(f"<a href='/section/{i}'>Section {i}</a>" for i in range(300))
               + "</nav><script>" + "var x = 1;" * 1500 + "</script>")


def page_result(url: str, source: str, paragraphs: list[str]) -> PageResult:
    html = ("<!DOCTYPE html><html><head><title>Story</title></head><body>" + BOILERPLATE
            + "<article>" + "".join(f"<p>{p}</p>" for p in paragraphs)
            + "</article></body></html>").encode()
    link = DiscoveredLink(url=url, source=source)
    page = FetchedPage(url=url, final_url=url, status=200, content_type="text/html", body=html,
                       fetched_at=time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()))
    article = CleanedArticle(url=url, title=paragraphs[0][:60], author=None, published=None,
                             language="en", paragraphs=tuple(Paragraph(p) for p in paragraphs),
                             language_confidence=0.99)
    return PageResult(PageTask(link, url), page, processed_page(article, SETTINGS))


class TimedIndex:
    """The writer's index, with each ``find`` timed."""

    def __init__(self, inner: StoredIndex) -> None:
        self.inner = inner
        self.last = 0.0

    def find(self, fp: Fingerprint, *, exclude: Any = ()) -> DedupDecision:
        start = time.perf_counter()
        try:
            return self.inner.find(fp, exclude=exclude)
        finally:
            self.last = time.perf_counter() - start

    def add(self, article_id: int, fp: Fingerprint) -> None:
        self.inner.add(article_id, fp)

    def load(self, rows: Any) -> int:
        return self.inner.load(rows)


def timed_decisions(store: PgStore, parts: dict[str, float]) -> None:
    """Wrap ``store.decision`` (as the Recorder calls it) to time its entry and its exit."""
    original = store.decision

    @contextlib.contextmanager
    def decision(keys: Any, url: str | None = None) -> Iterator[None]:
        start = time.perf_counter()
        with original(keys, url):
            entered = time.perf_counter()
            parts["locks"] = entered - start
            try:
                yield
            finally:
                body_end = time.perf_counter()
                parts["body"] = body_end - entered
        parts["commit"] = time.perf_counter() - body_end

    store.decision = decision  # type: ignore[method-assign]


def decide_round(url: str, store: PgStore, label: str, n_pages: int, seed: int
                 ) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    vocab = vocabulary(rng)
    stories = [story(rng, vocab) for _ in range(n_pages)]
    originals = [page_result(f"https://wire{k % 100}.example/{label}/{k}", f"wire{k % 100}", s)
                 for k, s in enumerate(stories)]
    copies = [page_result(f"https://copy{k % 100}.example/{label}/{k}", f"copy{k % 100}",
                          near_copy(rng, vocab, s)) for k, s in enumerate(stories)]
    index = TimedIndex(StoredIndex(SETTINGS, store.band_matches))
    recorder = Recorder(store, index, TopicFilter(()), StageCounters(), [],  # type: ignore[arg-type]
                        dedup=SETTINGS, template_min_pages=3)
    parts: dict[str, float] = {}
    timed_decisions(store, parts)
    out: dict[str, Any] = {}
    try:
        for kind, results in (("new", originals), ("near_duplicate", copies)):
            rows: list[dict[str, float]] = []
            outcomes: dict[str, int] = {}
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("SELECT pg_stat_statements_reset()")
            for result in results:
                parts.clear()
                index.last = 0.0
                start, cpu = time.perf_counter(), time.process_time()
                outcome = recorder.commit(result)
                total, cpu = time.perf_counter() - start, time.process_time() - cpu
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
                rows.append({"total": total * 1e3, "locks": parts.get("locks", 0) * 1e3,
                             "find": index.last * 1e3, "body": parts.get("body", 0) * 1e3,
                             "commit": parts.get("commit", 0) * 1e3, "client_cpu": cpu * 1e3})
            out[kind] = {"outcomes": outcomes, "total": percentiles([r["total"] for r in rows]),
                         **{f"{k}_median_ms": statistics.median(r[k] for r in rows)
                            for k in ("locks", "find", "body", "commit", "client_cpu")},
                         "locks_share": sum(r["locks"] for r in rows)
                         / sum(r["total"] for r in rows),
                         "commit_share": sum(r["commit"] for r in rows)
                         / sum(r["total"] for r in rows),
                         "statements": statements(url, len(results))}
    finally:
        del store.decision  # back to the class's method
    out["html_kb"] = len(originals[0].page.body) / 1024 if originals[0].page else 0
    return out


def commit_latency(url: str, synchronous: str, n: int = 300) -> dict[str, float]:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"SET synchronous_commit = {synchronous}")
        conn.execute("CREATE TABLE IF NOT EXISTS bench_commit (x int)")
        times = [time_calls(lambda: conn.execute("INSERT INTO bench_commit VALUES (1)"))
                 for _ in range(n)]
        conn.execute("DROP TABLE bench_commit")
    return percentiles(times)


def lock_alternatives(url: str, n: int = 500) -> dict[str, dict[str, float]]:
    """Entering a decision (``BEGIN`` and its advisory locks, until the body may start) as
    :meth:`PgStore.decision` does it, beside two prototypes with fewer round trips;
    interleaved, each on its own connection, 45 keys as ``decision_keys`` makes them."""
    rng = np.random.default_rng(5)
    shared = "SELECT pg_advisory_xact_lock_shared(%s)"
    combined = f"SELECT pg_advisory_xact_lock_shared(%s), ({pgdb._LOCK_KEYS})"

    def product(conn: psycopg.Connection[Any], keys: list[int]) -> None:
        conn.execute("BEGIN")
        conn.execute(shared, (pgdb.REBUILD_LOCK,))
        conn.execute(pgdb._LOCK_KEYS, (keys,))

    def one_statement(conn: psycopg.Connection[Any], keys: list[int]) -> None:
        conn.execute("BEGIN")
        conn.execute(combined, (pgdb.REBUILD_LOCK, keys))

    def pipelined(conn: psycopg.Connection[Any], keys: list[int]) -> None:
        with conn.pipeline():
            conn.execute("BEGIN")
            conn.execute(shared, (pgdb.REBUILD_LOCK,))
            conn.execute(pgdb._LOCK_KEYS, (keys,))

    variants: dict[str, Callable[[psycopg.Connection[Any], list[int]], None]] = {
        "product: BEGIN; rebuild; keys (3 trips)": product,
        "BEGIN; rebuild+keys in 1 SELECT (2)": one_statement,
        "product's 3 in one pipeline (1 trip)": pipelined}
    times: dict[str, list[float]] = {name: [] for name in variants}
    conns = {name: psycopg.connect(url, autocommit=True) for name in variants}
    try:
        for j in range(n + 20):
            keys = sorted({int(k) for k in rng.integers(-2**63, 2**63 - 1, 45, dtype=np.int64)})
            names = list(variants)
            for name in names[j % 3:] + names[:j % 3]:
                conn = conns[name]
                start = time.perf_counter()
                variants[name](conn, keys)
                if j >= 20:
                    times[name].append((time.perf_counter() - start) * 1e3)
                conn.execute("COMMIT")
    finally:
        for conn in conns.values():
            conn.close()
    return {name: percentiles(t) for name, t in times.items()}


def statements(url: str, pages: int) -> list[dict[str, Any]]:
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT calls, total_exec_time, mean_exec_time, max_exec_time, shared_blks_hit, "
            "shared_blks_read, "
            "regexp_replace(query, '\\s+', ' ', 'g') FROM pg_stat_statements "
            "WHERE query NOT LIKE '%%pg_stat_statements%%' ORDER BY total_exec_time DESC"
        ).fetchall()
    return [{"calls_per_page": calls / pages, "total_ms": total, "mean_ms": mean, "max_ms": top,
             "blocks_hit_per_call": hit / max(calls, 1),
             "blocks_read_per_call": read / max(calls, 1),
             "query": query} for calls, total, mean, top, hit, read, query in rows]


def decide(url: str, store: PgStore, n_pages: int) -> dict[str, Any]:
    out: dict[str, Any] = {"commit_one_row_sync_on": commit_latency(url, "on"),
                           "commit_one_row_sync_off": commit_latency(url, "off")}
    out["synchronous_commit_on"] = decide_round(url, store, "on", n_pages, 1)
    store.conn.raw.execute("SET synchronous_commit = off")
    out["synchronous_commit_off"] = decide_round(url, store, "off", n_pages, 2)
    store.conn.raw.execute("RESET synchronous_commit")
    # Prototype: the full-text GIN index without its pending list (a page that fills the
    # list merges it into the index inside its own INSERT); reset after.
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT gin_clean_pending_list('articles_search')")
        conn.execute("ALTER INDEX articles_search SET (fastupdate = off)")
    out["gin_fastupdate_off"] = decide_round(url, store, "gin", n_pages, 3)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ALTER INDEX articles_search RESET (fastupdate)")
    out["commit_one_row_sync_on_after"] = commit_latency(url, "on")
    out["lock_alternatives"] = lock_alternatives(url)
    return out


class CpuMeter:
    """CPU used during a phase: by the whole machine, and by this bench and its server
    (the postmaster with its reaped children's time, and its live children). On 2 cores,
    anything else running skews the latencies: its share is printed with them."""

    HZ = os.sysconf("SC_CLK_TCK")

    def __init__(self, postmaster: int) -> None:
        self.postmaster = postmaster

    def machine(self) -> float:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        return (sum(fields) - fields[3] - fields[4]) / self.HZ  # all but idle and iowait

    def ours(self) -> float:
        own = os.times()
        total = own.user + own.system
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(entry.name) == self.postmaster:  # with its children that exited
                total += sum(int(x) for x in stat[11:15]) / self.HZ
            elif int(stat[1]) == self.postmaster:
                total += (int(stat[11]) + int(stat[12])) / self.HZ
        return total

    @contextlib.contextmanager
    def phase(self, into: dict[str, Any], name: str) -> Iterator[None]:
        start, machine, ours = time.perf_counter(), self.machine(), self.ours()
        yield
        seconds = time.perf_counter() - start
        busy = (self.machine() - machine) / seconds
        mine = (self.ours() - ours) / seconds
        into[name] = {"seconds": seconds, "machine_cores_busy": busy, "bench_and_server": mine,
                      "other_processes": max(0.0, busy - mine), "cores": os.cpu_count(),
                      "loadavg_1min": float(Path("/proc/loadavg").read_text().split()[0])}


def cpu_line(c: dict[str, Any]) -> str:
    return (f"  CPU during this phase ({c['seconds']:.0f} s): {c['machine_cores_busy']:.2f} of "
            f"{c['cores']} cores busy; this bench and its server {c['bench_and_server']:.2f}, "
            f"other processes {c['other_processes']:.2f} (load average {c['loadavg_1min']:.1f})")


# -- report -----------------------------------------------------------------------------------


def line(name: str, p: dict[str, float], extra: str = "") -> str:
    return (f"  {name:<38}{p['median_ms']:8.3f}{p['p90_ms']:8.3f}{p['p99_ms']:8.3f}"
            f"{p['max_ms']:9.2f}  {extra}")


def report(r: dict[str, Any]) -> None:
    ld, q, d = r["load"], r["queries"], r["decide"]
    print(f"\n== load of {r['records']:,} records: {ld['seconds']:.1f} s; database "
          f"{ld['database_mb']:,.0f} MB; WAL written {ld['wal_written_mb']:,.0f} MB")
    print(cpu_line(r["cpu"]["load"]))
    print(f"  {'table':<14}{'rows (est.)':>14}{'heap MB':>10}{'index MB':>10}{'total MB':>10}")
    for t in ld["tables"]:
        print(f"  {t['table']:<14}{t['rows']:>14,}{t['heap_mb']:>10.0f}{t['indexes_mb']:>10.0f}"
              f"{t['total_mb']:>10.0f}")
    print("  indexes: " + ", ".join(f"{k} {v:,.0f} MB" for k, v in ld["indexes"].items()))

    print(f"\n== near-duplicate query at {r['records']:,} records (ms; {r['n_queries']} each)")
    print(cpu_line(r["cpu"]["queries"]))
    print(f"  {'':<38}{'median':>8}{'p90':>8}{'p99':>8}{'max':>9}")
    print(line("StoredIndex.find, hits", q["find_hit"],
               f"found {q['hits_found']}/{q['hits']}"))
    print(line("StoredIndex.find, misses", q["find_miss"],
               f"false near {q['false_near_on_misses']}"))
    print(line("band_matches alone, hits", q["band_matches_hit"],
               f"{q['candidates_per_hit']:.2f} candidates"))
    print(line("band_matches alone, misses", q["band_matches_miss"],
               f"{q['candidates_per_miss']:.2f} candidates"))
    print(line("find, the same hits again", q["find_hit_again"], "(their pages cached now)"))
    print(line("find, the same misses again", q["find_miss_again"]))
    print(f"  (lsh_keys() in Python: {q['lsh_keys_ms'] * 1e3:.0f} us of each; the store's "
          f"connection prepares a statement after {q['prepare_threshold']} runs, psycopg's "
          "prepare_threshold)")
    target = max(q["find_hit"]["median_ms"], q["find_miss"]["median_ms"])
    print(f"  target median < 2 ms: {'met' if target < 2 else 'MISSED'} ({target:.3f} ms)")
    print("\n  query text alone on a plain connection (execute + fetchall; new records, each "
          "queried by all five in turn: mostly cached):")
    for name, kinds in q["alternatives"].items():
        for kind in ("hit", "miss"):
            print(line(f"{name}, {kind}", kinds[kind]))
    for kind, plan in q["explain"].items():
        print(f"\n  EXPLAIN (ANALYZE, BUFFERS), a {kind}:")
        print("\n".join("    " + row for row in plan.splitlines()))

    print(f"\n== decide and insert at {r['records']:,} records: the real Recorder.commit per "
          f"page (ms; HTML {d['synchronous_commit_on']['html_kb']:.0f} KB per page)")
    print(cpu_line(r["cpu"]["decide"]))
    print(f"  {'':<38}{'median':>8}{'p90':>8}{'p99':>8}{'max':>9}")
    for key, name in (("on", "on, before"), ("off", "off, before"), ("on_after", "on, after")):
        print(line(f"1-row INSERT, sync. commit {name}", d[f"commit_one_row_sync_{key}"]))
    for mode, title in (("synchronous_commit_on", "synchronous_commit on (the default)"),
                        ("synchronous_commit_off", "synchronous_commit off for the writer"),
                        ("gin_fastupdate_off", "synchronous_commit on, prototype: "
                         "ALTER INDEX articles_search SET (fastupdate = off)")):
        print(f"\n  {title}:")
        print(f"  {'':<38}{'median':>8}{'p90':>8}{'p99':>8}{'max':>9}  medians of parts, "
              "share of total time")
        for kind in ("new", "near_duplicate"):
            k = d[mode][kind]
            counts = ", ".join(f"{o} {c}" for o, c in k["outcomes"].items())
            print(line(f"{kind} pages ({counts})", k["total"]))
            print(f"  {'':<38}locks {k['locks_median_ms']:.3f} ({k['locks_share']:.0%}), "
                  f"find {k['find_median_ms']:.3f}, body {k['body_median_ms']:.3f} "
                  f"(incl. find), COMMIT {k['commit_median_ms']:.3f} ({k['commit_share']:.0%})"
                  f"; this process's CPU {k['client_cpu_median_ms']:.3f}")
    print("\n  INSERT INTO articles, per new page (pg_stat_statements):")
    for mode in ("synchronous_commit_on", "gin_fastupdate_off"):
        found = [x for x in d[mode]["new"]["statements"]
                 if x["query"].startswith("INSERT INTO articles")]
        if found:
            print(f"  {mode:<38}mean {found[0]['mean_ms']:.3f} ms, max {found[0]['max_ms']:.1f}"
                  f" ms, {found[0]['blocks_hit_per_call']:.0f} blocks hit per call")
    print("\n  entering a decision (BEGIN and the advisory locks), prototypes interleaved:")
    for name, p in d["lock_alternatives"].items():
        print(line(name, p))
    for kind in ("new", "near_duplicate"):
        sts = d["synchronous_commit_on"][kind]["statements"]
        print(f"\n  {kind} pages, synchronous_commit on: statements the server ran per page "
              f"(pg_stat_statements): {sum(s['calls_per_page'] for s in sts):.1f}, "
              f"{sum(s['total_ms'] for s in sts) / r['pages']:.3f} ms executing; by time:")
        print(f"  {'per page':>8}{'mean ms':>9}{'max ms':>8}{'blk hit':>9}{'blk read':>9}  query")
        for s in sts[:10]:
            print(f"  {s['calls_per_page']:>8.2f}{s['mean_ms']:>9.3f}{s['max_ms']:>8.1f}"
                  f"{s['blocks_hit_per_call']:>9.1f}{s['blocks_read_per_call']:>9.1f}  "
                  f"{s['query'][:96]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--pages", type=int, default=500,
                        help="new pages, then as many near-duplicates, per round")
    parser.add_argument("--json", type=Path, help="save the figures to this file")
    parser.add_argument("--keep", action="store_true", help="keep the cluster's directory")
    parser.add_argument("--shared-buffers", default="2GB")
    parser.add_argument("--unsafe", action="store_true",
                        help="fsync, full_page_writes, synchronous_commit off (as the tests)")
    parser.add_argument("--dir", help="where to make the cluster's directory")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the cluster on TERM too

    started = time.perf_counter()
    settings = server_settings(args.shared_buffers, args.unsafe)
    print(f"dedup settings: {SETTINGS}; LSH {B} bands x {LAYOUT.rows} rows")
    out: dict[str, Any] = {"records": args.records, "n_queries": args.queries,
                           "pages": args.pages, "server_settings": settings}
    with cluster(settings, keep=args.keep, parent=args.dir) as (url, postmaster):
        cpu = CpuMeter(postmaster)
        out["cpu"] = {}
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION pg_stat_statements")
            shown = conn.execute(
                "SELECT name, setting, unit FROM pg_settings WHERE name IN ('server_version', "
                "'fsync', 'synchronous_commit', 'full_page_writes', 'wal_level', "
                "'shared_buffers', 'max_wal_size', 'maintenance_work_mem', "
                "'max_parallel_maintenance_workers') ORDER BY name").fetchall()
        out["server"] = {name: f"{value}{' ' + unit if unit else ''}"
                         for name, value, unit in shown}
        print("server: " + ", ".join(f"{k}={v}" for k, v in out["server"].items()))
        PgStore.open(url).close()  # the schema, as a worker creates it
        print(f"\nloading {args.records:,} records:", flush=True)
        with cpu.phase(out["cpu"], "load"):
            out["load"] = load(url, args.records)
        with PgStore.open(url) as store:
            print("queries ...", flush=True)
            with cpu.phase(out["cpu"], "queries"):
                out["queries"] = queries(url, store, args.records, args.queries)
            print("decide and insert ...", flush=True)
            with cpu.phase(out["cpu"], "decide"):
                out["decide"] = decide(url, store, args.pages)
        out["seconds"] = time.perf_counter() - started
        report(out)
        print(f"\nwhole run: {out['seconds'] / 60:.1f} min")
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
