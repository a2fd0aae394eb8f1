"""The report as one self-contained HTML page: laptop and phone, no network.

Every string that came from a crawled page (titles, URLs, bodies, removed
blocks, even source names) is untrusted: it goes through :func:`esc` on its
way in, only ``http``/``https`` URLs become links, and the page's
Content-Security-Policy lets only our own inline style and script run::

    >>> esc('<img src=x onerror="alert(1)">')
    '&lt;img src=x onerror=&quot;alert(1)&quot;&gt;'
    >>> safe_href("javascript:alert(1)") is None, safe_href("https://a.example/x")
    (True, 'https://a.example/x')

Each record is an ``<article id="record-ID">``, each duplicate an
``<li id="duplicate-ID">`` and each review an ``<li id="review-ID">``: an
editor can send a link to one entry (``report.html#record-42``).
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from urllib.parse import urlsplit

from report.assets import CSS, SCRIPT, content_security_policy
from report.data import Cluster, Duplicate, Record, RemovedBlock, Report, Review, Summary
from report.diff import Gap, Segment, WordDiff, condense

# Diffs of texts longer than this (in words) start collapsed.
OPEN_DIFF_WORDS = 150
METHOD_ORDER = ("url", "exact", "near", "review")
METHOD_HELP = {
    "url": "same canonical URL (AMP copy, redirect, tracking parameters)",
    "exact": "same text once normalised",
    "near": "MinHash: most five-word phrases shared",
    "review": "merged by an editor",
}


def esc(value: object) -> str:
    """Text for HTML content or a quoted attribute; ``None`` is empty."""
    return "" if value is None else html.escape(str(value), quote=True)


def safe_href(url: str | None) -> str | None:
    """``url`` if it may be linked: absolute http(s), no spaces or control characters."""
    if not url:
        return None
    if any(ord(c) <= 0x20 or ord(c) == 0x7F or c in "\"'<>\\`" for c in url):
        return None
    parts = urlsplit(url)
    return url if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def link(url: str, text: str | None = None) -> str:
    label = esc(text if text is not None else url)
    href = safe_href(url)
    if href is None:
        return f'<span class="unlinked" title="not linked: not an http(s) URL">{label}</span>'
    return f'<a href="{esc(href)}" rel="noopener noreferrer nofollow">{label}</a>'


def render_html(report: Report) -> str:
    """The whole page."""
    parts = [_header(report), _summary(report.summary), _filters(report),
             _clusters(report.clusters), _singles(report.singles, report.singles_total),
             _reviews(report.reviews)]
    return _PAGE.format(csp=esc(content_security_policy()), css=CSS, script=SCRIPT,
                        body="\n".join(parts))


_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="referrer" content="no-referrer">
<title>newsdedup: dedup report</title>
<style>{css}</style>
</head>
<body>
<main>
{body}
</main>
<script>{script}</script>
</body>
</html>
"""


# -- header and summary -------------------------------------------------------------------


def _header(report: Report) -> str:
    f = report.filters
    scope = [f"source {esc(f.source)}" if f.source else "all sources",
             f"since {esc(f.since)}" if f.since else "all time"]
    return (f'<header><h1>Dedup report</h1><p class="muted">{", ".join(scope)}; generated '
            f"{esc(report.generated_at)}. Each entry is a kept record and the pages folded "
            "into it; the word diff shows what the copy changed.</p></header>")


def _summary(s: Summary) -> str:
    period = f"{esc(s.start)} to {esc(s.end)}" if s.start else "no pages yet"
    totals = "".join(f"<div><dt>{label}</dt><dd>{value}</dd></div>" for label, value in (
        ("Records", s.records), ("Duplicates", s.duplicates),
        ("Pages deduplicated", _percent(s.share))))
    sources = _table(("Source", "Records", "Duplicates", "Deduplicated"), (
        (esc(c.source), c.records, c.duplicates, _percent(_share(c.records, c.duplicates)))
        for c in s.by_source))
    methods = _table(("Method", "Duplicates", "Meaning"), (
        (f'<span class="method method-{esc(m)}">{esc(m)}</span>', n, esc(METHOD_HELP.get(m)))
        for m, n in s.by_method))
    return (f'<section id="summary"><h2>Summary</h2><p>Period: {period}</p>'
            f'<dl class="totals">{totals}</dl><h3>Per source</h3>{sources}'
            f"<h3>Per method</h3>{methods}</section>")


def _table(head: tuple[str, ...], rows: Iterable[tuple[object, ...]]) -> str:
    """Cells are already escaped; numbers (and percentages) align right."""
    def cell(tag: str, value: object, numeric: bool) -> str:
        return f'<{tag}{" class=num" if numeric else ""}>{value}</{tag}>'

    table = list(rows)
    if not table:
        return '<p class="muted">None.</p>'
    numeric = [isinstance(v, int) or str(v).endswith("%") for v in table[0]]
    header = "".join(cell("th", h, n) for h, n in zip(head, numeric, strict=True))
    body = "".join("<tr>" + "".join(cell("td", v, n) for v, n in zip(row, numeric, strict=True))
                   + "</tr>" for row in table)
    return f'<div class="scroll"><table><thead><tr>{header}</tr></thead>' \
           f"<tbody>{body}</tbody></table></div>"


def _share(records: int, duplicates: int) -> float:
    return duplicates / (records + duplicates) if records + duplicates else 0.0


def _percent(share: float) -> str:
    return f"{100 * share:.1f}%"


# -- filters ------------------------------------------------------------------------------


def _filters(report: Report) -> str:
    """Hidden until the script runs: without it every entry simply stays visible."""
    dups = [d for c in report.clusters for d in c.duplicates]
    sources = sorted({c.record.source for c in report.clusters} | {d.source for d in dups})
    present = {d.method for d in dups}
    methods = [m for m in METHOD_ORDER if m in present] + sorted(present - set(METHOD_ORDER))
    options = "".join(f'<option value="{esc(s)}">{esc(s)}</option>' for s in sources)
    boxes = "".join(f'<label><input type="checkbox" name="method" value="{esc(m)}" checked> '
                    f"{esc(m)}</label>" for m in methods)
    return (
        '<form id="filters" class="filters" hidden aria-label="Filter the entries">'
        f'<label>Source <select name="source"><option value="">All sources</option>{options}'
        f"</select></label><fieldset><legend>Method</legend>{boxes}</fieldset>"
        '<label>Similarity from <input type="number" name="min" min="0" max="1" step="0.01" '
        'value="0"></label> <label>to <input type="number" name="max" min="0" max="1" '
        'step="0.01" value="1"></label> <button type="reset">Show all</button>'
        '<output id="shown" aria-live="polite"></output></form>')


# -- entries ------------------------------------------------------------------------------


def _clusters(clusters: tuple[Cluster, ...]) -> str:
    if not clusters:
        return ('<section id="entries"><h2>Duplicates by record</h2>'
                '<p class="muted">No duplicates in this period.</p></section>')
    entries = "\n".join(_cluster(c) for c in clusters)
    return (f'<section id="entries"><h2>Duplicates by record ({len(clusters)})</h2>'
            f"{entries}</section>")


def _cluster(c: Cluster) -> str:
    r = c.record
    dups = "".join(_duplicate(d) for d in c.duplicates)
    return (f'<article class="entry" id="{r.anchor}" data-source="{esc(r.source)}">'
            f'<h3><a class="anchor" href="#{r.anchor}" title="Link to this entry">#</a>'
            f"{esc(r.title or '(no title)')}</h3>"
            f'<p class="meta"><span class="badge">record {r.id}</span> {esc(r.source)} · '
            f"{esc(r.date)}{_language(r.language, r.declared_language)} · {r.word_count} words"
            f"{_ACCESS.get(r.access, '')}"
            f"{' · ' + esc(r.sitename) if r.sitename else ''}</p>"
            f'<p class="url">{link(r.url)}</p>'
            f'<p class="cmd">Same story as another record? <code>{esc(r.merge_command)}</code>'
            f'</p><ol class="dups">{dups}</ol>{_removed(c.removed)}</article>')


def _duplicate(d: Duplicate) -> str:
    method = esc(d.method)
    return (f'<li class="dup" id="{d.anchor}" data-source="{esc(d.source)}" '
            f'data-method="{method}" data-similarity="{d.similarity:.4f}">'
            f'<p><span class="method method-{method}" title="{esc(METHOD_HELP.get(d.method))}">'
            f'{method}</span> <span class="sim" title="similarity">{d.similarity:.2f}</span> '
            f'<span class="dup-title">{esc(d.title or "(no title)")}</span></p>'
            f'<p class="meta"><a class="anchor" href="#{d.anchor}">#</a>duplicate {d.id} · '
            f"found by {esc(d.source)} · decided {esc(d.decided_at)}"
            f"{_language(d.language, d.declared_language)}</p>"
            f'<p class="url">{link(d.url)}</p>{_diff(d.diff)}'
            f'<p class="cmd">Not a copy? <code>{esc(d.split_command)}</code></p></li>')


_ACCESS = {"paywalled": ' · <span class="badge paywalled" title="The page says only '
                        'subscribers read it whole: this text may be a teaser">paywalled</span>',
           "free": " · free"}
"""What a record's ``access`` adds to its line (nothing when ``unknown``)."""


def _language(language: str | None, declared: str | None) -> str:
    """The text's language, and the page's claim when it differs (a hint that lied).

    >>> _language("en", "fr")
    ' · <span class="lang" title="identified from the text">en</span> <span class="muted" \
title="declared by the page, its HTTP header or its feed">(declared fr)</span>'
    >>> _language(None, None), _language("fr", "fr")
    ('', ' · <span class="lang" title="identified from the text">fr</span>')
    """
    shown = (f' · <span class="lang" title="identified from the text">{esc(language)}</span>'
             if language else "")
    if declared and declared != language:
        shown += (f' <span class="muted" title="declared by the page, its HTTP header or its '
                  f'feed">(declared {esc(declared)})</span>')
    return shown


def _diff(diff: WordDiff | None) -> str:
    if diff is None:
        return '<p class="muted">The URL the record itself was fetched at: no text of its own.</p>'
    if diff.identical:
        return f'<p class="changes">Same text, word for word ({diff.same} words).</p>'
    parts = condense(diff)
    counts = (f'<p class="changes"><ins>+{diff.inserted}</ins> inserted, '
              f"<del>−{diff.deleted}</del> deleted, {diff.replaced} changed, "
              f"{diff.same} identical words</p>")
    body = " ".join(_segment(p) for p in parts)
    opened = " open" if diff.same + diff.changed_words <= OPEN_DIFF_WORDS else ""
    return (f'{counts}<details class="diff"{opened}><summary>What differs from the record'
            f'</summary><div class="diff-body">{body}</div></details>')


def _segment(part: Segment | Gap) -> str:
    if isinstance(part, Gap):
        return f'<span class="gap">[… {part.words} identical words …]</span>'
    if part.op == "equal":
        return esc(part.old)
    deleted = f"<del>{esc(part.old)}</del>" if part.old else ""
    inserted = f"<ins>{esc(part.new)}</ins>" if part.new else ""
    return deleted + inserted


def _removed(blocks: tuple[RemovedBlock, ...]) -> str:
    if not blocks:
        return '<p class="muted">Cleaning removed nothing from this record.</p>'
    items = "".join(f'<li><span class="rule">{esc(b.rule)}</span> '
                    f'<span class="removed-text">{esc(b.text)}</span></li>' for b in blocks)
    noun = "block" if len(blocks) == 1 else "blocks"
    return (f'<details class="removed"><summary>Cleaning removed {len(blocks)} {noun} '
            f"from the record's page</summary><ol>{items}</ol></details>")


# -- records without duplicates, and the review history -----------------------------------


def _singles(records: tuple[Record, ...], total: int) -> str:
    rows = "".join(
        f'<tr id="{r.anchor}"><td class=num>{r.id}</td><td>{link(r.url, r.title or r.url)}'
        f"</td><td>{esc(r.source)}</td><td>{esc(r.date)}</td></tr>" for r in records)
    table = (f'<div class="scroll"><table><thead><tr><th class=num>Record</th><th>Title</th>'
             f"<th>Source</th><th>Date</th></tr></thead><tbody>{rows}</tbody></table></div>"
             if rows else '<p class="muted">None.</p>')
    cut = (f'<p class="muted">The {len(records)} newest are listed; narrow the report with '
           "--since or --source to see the others.</p>" if total > len(records) else "")
    return (f'<section id="singles"><h2>Records without duplicates ({total})</h2>'
            '<details><summary>Show them (to spot a missed duplicate: '
            "<code>newsdedup review merge ID --into ID</code>)</summary>"
            f"{cut}{table}</details></section>")


def _reviews(reviews: tuple[Review, ...]) -> str:
    if not reviews:
        return ('<section id="reviews"><h2>Review history</h2>'
                '<p class="muted">No decision has been reviewed yet.</p></section>')
    items = "".join(_review(r) for r in reviews)
    return (f'<section id="reviews"><h2>Review history ({len(reviews)})</h2>'
            f'<ol class="reviews">{items}</ol></section>')


def _review(r: Review) -> str:
    if r.action == "split":
        what = (f"split duplicate {r.duplicate_id} from record {_ref(r.target_id)}: it is now "
                f"record {_ref(r.article_id)}")
    else:
        what = (f"merged record {r.article_id} into record {_ref(r.target_id)} "
                f"(now duplicate {r.duplicate_id})")
    similarity = f" · similarity {r.similarity:.2f}" if r.similarity is not None else ""
    by = f" · by {esc(r.editor)}" if r.editor else ""
    note = f'<p class="note">Note: {esc(r.note)}</p>' if r.note else ""
    undo = (f'<p class="cmd">Undo: <code>{esc(r.undo_command)}</code></p>'
            if r.undo_command else "")
    return (f'<li class="review" id="review-{r.id}"><p><strong>{esc(r.action)}</strong> '
            f'{what}</p><p class="meta">review {r.id} · {esc(r.at)}{by}{similarity}</p>'
            f'<p class="url">{link(r.url)}</p>{note}{undo}</li>')


def _ref(article_id: int) -> str:
    return f'<a href="#record-{article_id}">{article_id}</a>'


# -- shared with the review app (report/web) ----------------------------------------------

diff_html = _diff
"""A duplicate's word diff against its record, as the report shows it (escaped HTML)."""
removed_html = _removed
"""What cleaning removed from a record, as the report shows it (escaped HTML)."""
language_html = _language
