"""The report's inline stylesheet and script, and the page's Content-Security-Policy.

Inline because the report is one file that opens from disk with no network.
The policy allows exactly these two blocks (by SHA-256), so even a missed
escape could not run a script smuggled in by a crawled page::

    >>> "script-src 'sha256-" in content_security_policy()
    True
"""

from __future__ import annotations

import base64
import hashlib

CSS = """
:root { color-scheme: light dark; --fg: #1b1b1b; --bg: #fff; --muted: #5c5c5c;
  --line: #d8d8d8; --card: #f7f7f5; --ins: #d5f5d5; --ins-fg: #0b4d0b; --del: #fbd9d9;
  --del-fg: #7a1010; --accent: #1d4ed8; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e8e8e8; --bg: #151515; --muted: #a8a8a8; --line: #3a3a3a; --card: #1f1f1f;
    --ins: #173d17; --ins-fg: #b9f0b9; --del: #4a1c1c; --del-fg: #f6c0c0; --accent: #8fb3ff; }
}
* { box-sizing: border-box; }
[hidden] { display: none !important; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { max-width: 62rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.6rem; margin: .5rem 0; }
h2 { font-size: 1.25rem; margin: 1.5rem 0 .5rem; }
a { color: var(--accent); }
p { margin: .3rem 0; }
code { font: .9em/1.4 ui-monospace, "SF Mono", Menlo, Consolas, monospace;
  background: var(--card); border: 1px solid var(--line); border-radius: 4px;
  padding: 0 .25em; user-select: all; overflow-wrap: anywhere; }
.muted, .meta { color: var(--muted); font-size: .9rem; }
.url, .removed-text, .note, h2, h3 { overflow-wrap: anywhere; }
.url { font-size: .9rem; }
.scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; width: 100%; font-size: .95rem; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid var(--line);
  vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.totals { display: flex; flex-wrap: wrap; gap: .5rem 2rem; margin: .5rem 0; }
.totals div { min-width: 7rem; }
.totals dt { color: var(--muted); font-size: .85rem; }
.totals dd { margin: 0; font-size: 1.4rem; font-weight: 600; }
.filters { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center;
  padding: .75rem; border: 1px solid var(--line); border-radius: 8px; background: var(--card);
  position: sticky; top: 0; z-index: 1; }
.filters fieldset { border: 0; margin: 0; padding: 0; display: flex; flex-wrap: wrap;
  gap: .25rem .75rem; }
.filters legend { float: left; margin-right: .5rem; }
.filters input[type=number] { width: 5rem; }
.filters select { max-width: 14rem; }
.filters output { flex-basis: 100%; color: var(--muted); font-size: .9rem; }
.entry { border: 1px solid var(--line); border-radius: 8px; padding: .75rem 1rem;
  margin: 1rem 0; background: var(--bg); }
.entry:target, .dup:target, .review:target { outline: 3px solid var(--accent); }
.entry h3 { font-size: 1.15rem; margin: 0 0 .25rem; }
.anchor { text-decoration: none; color: var(--muted); margin-right: .25rem; }
.badge, .method { display: inline-block; font-size: .8rem; padding: 0 .4em;
  border-radius: 4px; border: 1px solid var(--line); background: var(--card); }
.method-url { border-color: #7c3aed; } .method-exact { border-color: #0f766e; }
.method-near { border-color: #b45309; } .method-review { border-color: #be123c; }
.dups { list-style: none; margin: .75rem 0 0; padding: 0; }
.dup { border-top: 1px dashed var(--line); padding: .6rem 0; }
.dup-title { font-weight: 600; overflow-wrap: anywhere; }
.sim { font-variant-numeric: tabular-nums; font-weight: 600; }
details { margin: .4rem 0; }
summary { cursor: pointer; color: var(--accent); }
.diff-body, .removed-text { white-space: pre-wrap; overflow-wrap: anywhere;
  font-size: .95rem; }
.diff-body { border-left: 3px solid var(--line); padding: .25rem .75rem; margin: .4rem 0; }
ins { background: var(--ins); color: var(--ins-fg); text-decoration: none; }
del { background: var(--del); color: var(--del-fg); }
.gap { color: var(--muted); font-style: italic; }
.removed ol { padding-left: 1.5rem; }
.removed li { margin: .3rem 0; }
.rule { font: .8rem ui-monospace, Menlo, Consolas, monospace; color: var(--muted); }
.cmd { font-size: .9rem; }
.reviews { list-style: none; padding: 0; }
.review { border-bottom: 1px solid var(--line); padding: .5rem 0; }
@media (max-width: 40rem) {
  main { padding: .6rem; }
  .entry { padding: .6rem; }
  .filters { position: static; }
  th, td { padding: .25rem .3rem; }
}
"""

SCRIPT = """
(function () {
  "use strict";
  var form = document.getElementById("filters");
  if (!form) { return; }
  var entries = Array.prototype.slice.call(document.querySelectorAll(".entry"));
  var output = document.getElementById("shown");
  var total = document.querySelectorAll(".entry .dup").length;
  function bounds() {
    var lo = parseFloat(form.elements.namedItem("min").value);
    var hi = parseFloat(form.elements.namedItem("max").value);
    return [isNaN(lo) ? 0 : lo - 1e-9, isNaN(hi) ? 1 : hi + 1e-9];
  }
  function methods() {
    var on = {};
    form.querySelectorAll("input[name=method]").forEach(function (box) {
      on[box.value] = box.checked;
    });
    return on;
  }
  function apply() {
    var source = form.elements.namedItem("source").value;
    var on = methods(), range = bounds(), dups = 0, shown = 0;
    entries.forEach(function (entry) {
      var any = false, own = entry.getAttribute("data-source");
      entry.querySelectorAll(".dup").forEach(function (dup) {
        var sim = parseFloat(dup.getAttribute("data-similarity"));
        var ok = (!source || source === own || source === dup.getAttribute("data-source")) &&
          on[dup.getAttribute("data-method")] === true && sim >= range[0] && sim <= range[1];
        dup.hidden = !ok;
        if (ok) { any = true; dups += 1; }
      });
      entry.hidden = !any;
      if (any) { shown += 1; }
    });
    output.textContent = "Showing " + dups + " of " + total + " duplicates in " + shown +
      " of " + entries.length + " records";
  }
  function reveal() {
    var id = decodeURIComponent(location.hash.slice(1));
    var target = id ? document.getElementById(id) : null;
    if (target && target.closest(".entry") && target.closest("[hidden]")) {
      form.reset();
      apply();
      target.scrollIntoView();
    }
  }
  form.addEventListener("input", apply);
  form.addEventListener("change", apply);
  form.addEventListener("reset", function () { window.setTimeout(apply, 0); });
  form.addEventListener("submit", function (event) { event.preventDefault(); });
  window.addEventListener("hashchange", reveal);
  form.hidden = false;
  apply();
})();
"""


def _digest(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


def content_security_policy() -> str:
    """Nothing loads, nothing submits; only our own style and script run."""
    return ("default-src 'none'; "
            f"style-src 'sha256-{_digest(CSS)}'; script-src 'sha256-{_digest(SCRIPT)}'; "
            "img-src 'none'; base-uri 'none'; form-action 'none'")
