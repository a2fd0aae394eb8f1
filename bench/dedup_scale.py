"""Near-duplicate index at scale: warm start, memory, query latency, signature speed.

Run from the repository root (about two minutes on 2 cores)::

    .venv/bin/python bench/dedup_scale.py [--records 100000,1000000] [--queries 2000]

For each size, a SQLite file with the store's ``signatures`` table is filled
with random MinHash values (the LSH sees only their bands, so random values
are as good as real ones); a fresh process then measures, like the daemon
at start: ``SELECT`` the band rows and ``load()`` them (warm start), peak and
current resident memory, ``find()`` latency with the signature lookup as a
SQLite point query (hits: a stored record with 10 of 128 values changed;
misses: new random values), and ``add()`` cost including buffer merges.
Two more fresh processes load the same rows from a narrow table without the
MinHash column (``sqlite-narrow``: what the wide table costs to scan) and
from memory (``memory``: the index's own cost once the time to generate
the rows, measured apart, is subtracted). Then the signature time per ~1,200-word article:
:func:`fingerprint` beside datasketch's per-shingle ``MinHash.update`` and
``update_batch``, interleaved in the same run. Targets (issue 4): warm start
under 5 s and 1 GB at a million records, queries under 1 ms, signatures at
least 10 times faster than per-shingle ``update``.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from dedup_corpus import load_bases  # noqa: E402

from ingest.config import DedupSettings  # noqa: E402
from ingest.dedup.index import Fingerprint, Fingerprinter, NearDuplicateIndex, fingerprint  # noqa: E402
from ingest.dedup.minhash import (  # noqa: E402
    band_keys,
    lsh_layout,
    minhash_values,
    permutations,
    sha1_hash32_many,
    shingle_set,
    tokens,
)

SETTINGS = DedupSettings()
CHUNK = 65_536
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "scrapinghub-aeb" / "ground-truth.json"
LANGUAGES = ("en", "fr", None)


# -- synthetic rows -------------------------------------------------------------------------


def random_values(seed: int, n: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 2**32, size=(n, SETTINGS.num_perm),
                                                dtype=np.uint32)


def chunks(n: int) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """(first id, MinHash values, band keys) per chunk; the same n gives the same rows."""
    layout = lsh_layout(SETTINGS)
    for start in range(0, n, CHUNK):
        values = random_values(start, min(CHUNK, n - start))
        yield start, values, band_keys(values, layout).astype("<u8")


def memory_rows(n: int) -> Iterator[tuple[int, str | None, int, bytes]]:
    for start, _, keys in chunks(n):
        width = keys.shape[1] * 8
        blob = keys.tobytes()
        for i in range(len(keys)):
            yield (start + i, LANGUAGES[(start + i) % 3], 500, blob[i * width:(i + 1) * width])


def build_db(path: Path, n: int) -> float:
    start_time = time.perf_counter()
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE signatures (article_id INTEGER PRIMARY KEY, language TEXT, "
                 "n_shingles INTEGER NOT NULL, minhash BLOB NOT NULL, bands BLOB NOT NULL)")
    for start, values, keys in chunks(n):
        mh = values.astype("<u4")
        conn.executemany("INSERT INTO signatures VALUES (?,?,?,?,?)", (
            (start + i, LANGUAGES[(start + i) % 3], 500, mh[i].tobytes(), keys[i].tobytes())
            for i in range(len(values))))
    conn.commit()
    # The same rows without the MinHash column, to show what the wide table costs.
    conn.execute("CREATE TABLE bands (article_id INTEGER PRIMARY KEY, language TEXT, "
                 "n_shingles INTEGER NOT NULL, bands BLOB NOT NULL)")
    conn.execute("INSERT INTO bands SELECT article_id, language, n_shingles, bands "
                 "FROM signatures")
    conn.commit()
    conn.close()
    return time.perf_counter() - start_time


# -- child process: one warm start ------------------------------------------------------------


def rss_mb() -> tuple[float, float]:
    """(current, peak) resident set size in MB, from /proc/self/status."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return fields["VmRSS"], fields["VmHWM"]


def sqlite_lookup(conn: sqlite3.Connection) -> Callable[[int], Fingerprint | None]:
    def lookup(article_id: int) -> Fingerprint | None:
        row = conn.execute("SELECT language, n_shingles, minhash, bands FROM signatures "
                           "WHERE article_id = ?", (article_id,)).fetchone()
        return None if row is None else Fingerprint("", row[0], row[1], row[2], row[3])
    return lookup


def perturbed(fp: Fingerprint, rng: np.random.Generator, changed: int) -> Fingerprint:
    values = np.frombuffer(fp.minhash, dtype="<u4").copy()
    values[rng.choice(len(values), changed, replace=False)] ^= np.uint32(0x5A5A5A5A)
    bands = band_keys(values, lsh_layout(SETTINGS)).astype("<u8").tobytes()
    return Fingerprint("", fp.language, fp.n_shingles, values.tobytes(), bands)


def random_fp(rng: np.random.Generator) -> Fingerprint:
    values = rng.integers(0, 2**32, size=SETTINGS.num_perm, dtype=np.uint32)
    bands = band_keys(values, lsh_layout(SETTINGS)).astype("<u8").tobytes()
    return Fingerprint("", "en", 500, values.astype("<u4").tobytes(), bands)


def timed_finds(index: NearDuplicateIndex, fps: list[Fingerprint]) -> tuple[list[float], int]:
    times, near = [], 0
    for fp in fps:
        start = time.perf_counter()
        decision = index.find(fp)
        times.append((time.perf_counter() - start) * 1e3)
        near += decision.is_duplicate
    return times, near


def percentiles(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {"median_ms": statistics.median(ordered),
            "p99_ms": ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
            "max_ms": ordered[-1]}


def child(mode: str, path: str, n: int, n_queries: int) -> dict[str, object]:
    base_rss, _ = rss_mb()
    generation = 0.0
    if mode == "memory":
        start = time.perf_counter()
        for _ in memory_rows(n):
            pass
        generation = time.perf_counter() - start
    conn = sqlite3.connect(path)
    lookup = sqlite_lookup(conn)
    index = NearDuplicateIndex(SETTINGS, lookup)
    start = time.perf_counter()
    if mode in ("sqlite", "sqlite-narrow"):
        table = "signatures" if mode == "sqlite" else "bands"
        loaded = index.load(conn.execute(
            f"SELECT article_id, language, n_shingles, bands FROM {table} ORDER BY article_id"))
    else:
        loaded = index.load(memory_rows(n))
    out: dict[str, object] = {"mode": mode, "records": loaded,
                              "load_s": time.perf_counter() - start}
    if mode == "memory":
        out["of_which_row_generation_s"] = generation

    rss, peak = rss_mb()
    out |= {"rss_mb": rss, "peak_rss_mb": peak, "base_rss_mb": base_rss,
            "index_mb": index.nbytes() / 2**20}
    if mode == "sqlite":
        out |= queries(index, lookup, n, n_queries)
    return out


def queries(index: NearDuplicateIndex, lookup: Callable[[int], Fingerprint | None], n: int,
            n_queries: int) -> dict[str, object]:
    rng = np.random.default_rng(99)
    hits = [perturbed(fp, rng, 10) for i in rng.integers(0, n, n_queries).tolist()
            if (fp := lookup(i)) is not None]
    misses = [random_fp(rng) for _ in range(n_queries)]
    hit_times, found = timed_finds(index, hits)
    miss_times, false = timed_finds(index, misses)
    start = time.perf_counter()
    for k in range(20_000):
        index.add(n + k, random_fp(rng))
    add_ms = (time.perf_counter() - start) * 1e3 / 20_000
    after_times, _ = timed_finds(index, misses[: n_queries // 2])
    return {"hit": percentiles(hit_times), "hits_found": f"{found}/{len(hits)}",
            "miss": percentiles(miss_times), "false_near": false,
            "add_ms_incl_merges": add_ms, "miss_after_20k_adds": percentiles(after_times)}


# -- signature speed ---------------------------------------------------------------------------


def articles(n: int = 30, words: int = 1200) -> list[str]:
    bases, _ = load_bases(DEFAULT_DATA, min_words=1)
    text = " ".join(" ".join(b.split()) for b in bases).split(" ")
    return [" ".join(text[i * words:(i + 1) * words]) for i in range(n)]


def signature_speed(texts: list[str], rounds: int = 5) -> dict[str, float]:
    from datasketch import MinHash

    maker = Fingerprinter(SETTINGS)
    perms = permutations(SETTINGS.num_perm)

    def per_shingle(text: str) -> None:
        m = MinHash(SETTINGS.num_perm, seed=1)
        for shingle in shingle_set(tokens(text), SETTINGS.shingle_size):
            m.update(shingle)

    def batch(text: str) -> None:
        MinHash(SETTINGS.num_perm, seed=1).update_batch(
            list(shingle_set(tokens(text), SETTINGS.shingle_size)))

    methods: dict[str, Callable[[str], object]] = {
        "fingerprint()": lambda t: fingerprint(t, "en", SETTINGS),
        "Fingerprinter()": lambda t: maker(t, "en"),
        "datasketch update per shingle": per_shingle,
        "datasketch update_batch": batch,
        "tokens+shingles only": lambda t: shingle_set(tokens(t), SETTINGS.shingle_size),
    }
    samples: dict[str, list[float]] = {name: [] for name in methods}
    for _ in range(rounds):
        for text in texts:
            for name, method in methods.items():  # interleaved: same load for all
                start = time.perf_counter()
                method(text)
                samples[name].append((time.perf_counter() - start) * 1e3)
    check_equal(texts, perms)
    return {name: statistics.median(values) for name, values in samples.items()}


def check_equal(texts: list[str], perms: tuple[np.ndarray, np.ndarray]) -> None:
    from datasketch import MinHash

    for text in texts:
        shingles = shingle_set(tokens(text), SETTINGS.shingle_size)
        m = MinHash(SETTINGS.num_perm, seed=1)
        m.update_batch(list(shingles))
        if not np.array_equal(minhash_values(sha1_hash32_many(shingles), perms), m.hashvalues):
            raise SystemExit("MinHash values differ from datasketch's")


def datasketch_lsh_bytes_per_entry(n: int = 20_000) -> float:
    from datasketch import MinHash, MinHashLSH

    values = random_values(7, n)
    lsh = MinHashLSH(threshold=SETTINGS.threshold, num_perm=SETTINGS.num_perm)
    before, _ = rss_mb()
    for i, v in enumerate(values):
        lsh.insert(i, MinHash(SETTINGS.num_perm, hashvalues=v, scheme="affine32"))
    return (rss_mb()[0] - before) * 2**20 / n


# -- parent ---------------------------------------------------------------------------------------


def print_signature_speed() -> None:
    speed = signature_speed(articles())
    print("\nsignature time per ~1,200-word article (median ms, interleaved):")
    for name, ms in speed.items():
        print(f"  {name:<32}{ms:8.3f}")
    base = speed["datasketch update per shingle"]
    for name in ("fingerprint()", "Fingerprinter()"):
        print(f"  speed-up of {name} over per-shingle update: {base / speed[name]:.1f}x; "
              f"over update_batch: {speed['datasketch update_batch'] / speed[name]:.1f}x")


def describe(r: dict[str, object]) -> str:
    """One readable paragraph per child result."""
    text = (f"  {r['mode']:<14} warm start {r['load_s']:.2f} s for {r['records']:,} records"
            f"; RSS {r['rss_mb']:.0f} MB, peak {r['peak_rss_mb']:.0f} MB (interpreter "
            f"{r['base_rss_mb']:.0f} MB, index arrays {r['index_mb']:.0f} MB)")
    if "of_which_row_generation_s" in r:
        text += f"; of which generating the rows {r['of_which_row_generation_s']:.2f} s"
    for key in ("hit", "miss", "miss_after_20k_adds"):
        if key in r:
            p = r[key]
            assert isinstance(p, dict)
            text += (f"\n    find() {key:<20} median {p['median_ms']:.3f} ms, "
                     f"p99 {p['p99_ms']:.3f} ms, max {p['max_ms']:.2f} ms")
    if "add_ms_incl_merges" in r:
        text += (f"\n    hits found {r['hits_found']}, false near on misses {r['false_near']}, "
                 f"add() {r['add_ms_incl_merges']:.3f} ms each incl. merges")
    return text


def run_child(*args: str) -> dict[str, object]:
    done = subprocess.run([sys.executable, __file__, "--child", *args], check=True,
                          capture_output=True, text=True)
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", default="100000,1000000")
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        mode, path, n, q = args.child
        print(json.dumps(child(mode, path, int(n), int(q))))
        return 0
    layout = lsh_layout(SETTINGS)
    print(f"settings: {SETTINGS}; LSH {layout.bands} bands x {layout.rows} rows")
    print_signature_speed()
    with tempfile.TemporaryDirectory(prefix="dedup_scale_") as tmp:
        for n in (int(x) for x in args.records.split(",")):
            db = Path(tmp) / f"sig{n}.db"
            built = build_db(db, n)
            os.sync()  # a warm start reads a file written long ago, not one being flushed
            print(f"\n== {n:,} records (SQLite file built in {built:.1f} s, "
                  f"{db.stat().st_size / 2**20:.0f} MB)")
            for mode in ("sqlite", "sqlite-narrow", "memory"):
                print(describe(run_child(mode, str(db), str(n), str(args.queries))))
            db.unlink()
    print(f"\ndatasketch MinHashLSH: {datasketch_lsh_bytes_per_entry():.0f} bytes/entry "
          "(RSS delta over 20,000 inserts)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
