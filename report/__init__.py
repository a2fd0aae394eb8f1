"""The editors' dedup report: what was folded into what, what differs, and how to undo it.

Editors trust a deduplicator they can check. ``newsdedup report`` writes one
self-contained HTML file (or JSON, or CSV) from the store, read-only, while
the daemon runs; ``newsdedup review split|merge`` corrects a decision::

    newsdedup report --since 2025-11-20 -o report.html
    newsdedup review split 17 --note "a follow-up, not a copy"

Modules: ``data`` (typed values assembled from the rows :mod:`store.reportreads`
reads), ``diff`` (word-level diff), ``html`` + ``assets`` (the page),
``formats`` (JSON, CSV), ``cli`` (the subcommands).
"""
