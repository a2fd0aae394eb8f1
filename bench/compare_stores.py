"""Are two newsdedup databases the same output? Records, duplicates, removals, skipped.

A refactoring must not change what is stored: run the same pages through the
code before and after (e.g. ``bench/throughput.py --keep DIR`` in each tree),
then::

    .venv/bin/python bench/compare_stores.py before/news.db after/news.db

Rows are compared by URL, loopback ports aside (each run serves the pages on a
free port); record ids are compared too (a single writer in discovery order
gives the same ids). Timestamps are left out (they are when the page was
fetched).
Prints the count of rows per table, the differences (at most ``--show`` of
each) and exits 1 if any.
"""

from __future__ import annotations

import argparse
import re
import sqlite3
import sys
from pathlib import Path

QUERIES = {
    "articles": "SELECT url, id, source, title, author, published, language, text, "
                "content_hash, sitename, site, word_count, version FROM articles",
    "duplicates": "SELECT d.url, d.method, round(d.similarity, 6), a.url, d.title, d.text, "
                  "d.language FROM duplicates d JOIN articles a ON a.id = d.article_id",
    "removals": "SELECT a.url || '#' || r.position || ':' || r.rule, r.text FROM removals r "
                "JOIN articles a ON a.id = r.article_id",
    "skipped": "SELECT url, reason FROM skipped",
    "signatures": "SELECT a.url, s.n_shingles, hex(s.minhash) FROM signatures s "
                  "JOIN articles a ON a.id = s.article_id",
}


_LOOPBACK = re.compile(r"127\.0\.0\.1:\d+")


def _same_host(value: object) -> object:
    """Two runs serve the same pages on different loopback ports: not a difference."""
    return _LOOPBACK.sub("loopback", value) if isinstance(value, str) else value


def rows(path: Path, table: str) -> dict[str, tuple[object, ...]]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        found = (tuple(map(_same_host, r)) for r in conn.execute(QUERIES[table]))
        return {str(r[0]): r[1:] for r in found}


def compare(a: Path, b: Path, show: int) -> int:
    differences = 0
    for table in QUERIES:
        left, right = rows(a, table), rows(b, table)
        only_a = sorted(set(left) - set(right))
        only_b = sorted(set(right) - set(left))
        changed = sorted(k for k in set(left) & set(right) if left[k] != right[k])
        differences += len(only_a) + len(only_b) + len(changed)
        print(f"{table:11} {len(left):6} vs {len(right):6}   only first {len(only_a)}, "
              f"only second {len(only_b)}, changed {len(changed)}")
        for key in (only_a + only_b + changed)[:show]:
            print(f"    {key}: {left.get(key)!r:.200} | {right.get(key)!r:.200}")
    print("identical" if not differences else f"{differences} differences")
    return 1 if differences else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("first", type=Path)
    parser.add_argument("second", type=Path)
    parser.add_argument("--show", type=int, default=5, help="differences shown per table")
    args = parser.parse_args()
    sys.exit(compare(args.first, args.second, args.show))


if __name__ == "__main__":
    main()
