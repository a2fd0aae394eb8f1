"""The report as JSON and CSV, for tools: the same :class:`~report.data.Report` as the HTML.

JSON nests what the page shows (records, their duplicates with diff
segments, removed blocks, the review history). CSV is flat, one row per
decision: ``kind=duplicate`` rows (record, duplicate, diff counts, the diff
in ``[-old-]{+new+}`` notation, the split command) then ``kind=review`` rows
(the history, with the undo command)::

    render_json(report)   # {"summary": {...}, "records": [...], "reviews": [...], ...}
    render_csv(report)    # kind,action,record_id,record_url,record_source,...

A text cell that a spreadsheet would run as a formula (it starts with
``= + - @``, a tab or a carriage return; crawled titles are untrusted) is
prefixed with ``'``, as OWASP recommends; :func:`unguard` removes it.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from report.data import Cluster, Duplicate, Record, Report, Review
from report.diff import WordDiff

CSV_COLUMNS = (
    "kind", "action", "record_id", "record_url", "record_source", "record_title",
    "record_date", "duplicate_id", "duplicate_url", "duplicate_source", "duplicate_title",
    "method", "similarity", "decided_at", "inserted", "deleted", "replaced", "same", "diff",
    "record_removed", "command", "review_id", "target_id", "note",
    # appended by issue 12 (columns are only ever added at the end):
    "record_language", "record_declared_language", "duplicate_language",
    "duplicate_declared_language",
    # appended by issue 15:
    "editor",
)
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def report_dict(report: Report) -> dict[str, Any]:
    """Plain JSON-ready data; keys are stable (a public format)."""
    s = report.summary
    return {
        "generated_at": report.generated_at,
        "filters": {"since": report.filters.since, "source": report.filters.source},
        "summary": {
            "start": s.start, "end": s.end, "records": s.records, "duplicates": s.duplicates,
            "share_deduplicated": round(s.share, 6),
            "by_source": [{"source": c.source, "records": c.records,
                           "duplicates": c.duplicates} for c in s.by_source],
            "by_method": dict(s.by_method),
        },
        "records": [_cluster(c) for c in report.clusters],
        "records_without_duplicates": [_record(r) for r in report.singles],
        "records_without_duplicates_total": report.singles_total,
        "reviews": [_review(r) for r in report.reviews],
    }


def render_json(report: Report) -> str:
    return json.dumps(report_dict(report), ensure_ascii=False, indent=2) + "\n"


def _record(r: Record) -> dict[str, Any]:
    return {"id": r.id, "url": r.url, "source": r.source, "title": r.title,
            "published": r.published, "fetched_at": r.fetched_at, "language": r.language,
            "declared_language": r.declared_language,
            "sitename": r.sitename, "word_count": r.word_count, "access": r.access,
            "anchor": r.anchor,
            "merge_command": r.merge_command}


def _cluster(c: Cluster) -> dict[str, Any]:
    return {**_record(c.record), "duplicates": [_duplicate(d) for d in c.duplicates],
            "removed": [{"position": b.position, "rule": b.rule, "text": b.text}
                        for b in c.removed]}


def _duplicate(d: Duplicate) -> dict[str, Any]:
    return {"id": d.id, "url": d.url, "source": d.source, "method": d.method,
            "similarity": d.similarity, "title": d.title, "language": d.language,
            "declared_language": d.declared_language,
            "fetched_at": d.fetched_at, "decided_at": d.decided_at, "anchor": d.anchor,
            "split_command": d.split_command, "diff": _diff(d.diff)}


def _diff(diff: WordDiff | None) -> dict[str, Any] | None:
    if diff is None:
        return None
    return {"inserted": diff.inserted, "deleted": diff.deleted, "replaced": diff.replaced,
            "same": diff.same, "wdiff": diff.wdiff(),
            "segments": [{"op": s.op, "old": s.old, "new": s.new} for s in diff.segments]}


def _review(r: Review) -> dict[str, Any]:
    return {"id": r.id, "action": r.action, "article_id": r.article_id,
            "target_id": r.target_id, "duplicate_id": r.duplicate_id, "url": r.url,
            "method": r.method, "similarity": r.similarity, "note": r.note, "at": r.at,
            "undo_command": r.undo_command, "editor": r.editor}


# -- CSV ----------------------------------------------------------------------------------


def render_csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for cluster in report.clusters:
        for dup in cluster.duplicates:
            writer.writerow(_guard(_duplicate_row(cluster, dup)))
    for review in report.reviews:
        writer.writerow(_guard(_review_row(review)))
    return out.getvalue()


def _duplicate_row(c: Cluster, d: Duplicate) -> dict[str, object]:
    r, diff = c.record, d.diff
    removed = "\n".join(f"[{b.rule}] {b.text}" for b in c.removed)
    return {
        "kind": "duplicate", "record_id": r.id, "record_url": r.url, "record_source": r.source,
        "record_title": r.title, "record_date": r.date, "duplicate_id": d.id,
        "duplicate_url": d.url, "duplicate_source": d.source, "duplicate_title": d.title,
        "method": d.method, "similarity": d.similarity, "decided_at": d.decided_at,
        "inserted": diff.inserted if diff else None, "deleted": diff.deleted if diff else None,
        "replaced": diff.replaced if diff else None, "same": diff.same if diff else None,
        "diff": diff.wdiff() if diff else None, "record_removed": removed,
        "command": d.split_command, "record_language": r.language,
        "record_declared_language": r.declared_language, "duplicate_language": d.language,
        "duplicate_declared_language": d.declared_language,
    }


def _review_row(r: Review) -> dict[str, object]:
    return {"kind": "review", "action": r.action, "record_id": r.article_id,
            "duplicate_id": r.duplicate_id, "duplicate_url": r.url, "method": r.method,
            "similarity": r.similarity, "decided_at": r.at, "command": r.undo_command,
            "review_id": r.id, "target_id": r.target_id, "note": r.note, "editor": r.editor}


def _guard(row: dict[str, object]) -> dict[str, object]:
    return {k: ("'" + v if isinstance(v, str) and v.startswith(_FORMULA) else v)
            for k, v in row.items()}


def unguard(cell: str) -> str:
    """A CSV cell's original text (undoes the formula guard).

    >>> unguard("'=HYPERLINK(1)"), unguard("plain")
    ('=HYPERLINK(1)', 'plain')
    """
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(_FORMULA) else cell
