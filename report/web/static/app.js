// Keyboard shortcuts for the common path; everything also works without script.
// j/k: move between rows (decisions or duplicates), o/Enter: open the selected decision,
// n: next unreviewed, c: confirm the selected duplicate, s: "not a copy" on it, /: search.
(function () {
  "use strict";
  var rows = Array.prototype.slice.call(document.querySelectorAll(".row"));
  var at = -1;
  function select(i) {
    if (!rows.length) { return; }
    at = Math.max(0, Math.min(rows.length - 1, i));
    rows.forEach(function (r, k) { r.classList.toggle("selected", k === at); });
    rows[at].scrollIntoView({ block: "nearest" });
  }
  function submit(selector) {
    var row = rows[at] || rows[0];
    var button = row && row.querySelector(selector);
    if (button) { button.form.requestSubmit(button); }
  }
  document.addEventListener("keydown", function (e) {
    var tag = (e.target && e.target.tagName) || "";
    if (tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA" || e.ctrlKey || e.metaKey || e.altKey) {
      return;
    }
    if (e.key === "j") { select(at + 1); }
    else if (e.key === "k") { select(at - 1); }
    else if ((e.key === "o" || e.key === "Enter") && rows[at] && rows[at].dataset.href) {
      window.location.assign(rows[at].dataset.href);
    }
    else if (e.key === "n") {
      var next = document.getElementById("next-unreviewed");
      if (!next) { return; }
      next.click();
    }
    else if (e.key === "c") { submit(".confirm-button"); }
    else if (e.key === "s") { submit(".split-button"); }
    else if (e.key === "/") {
      var search = document.getElementById("search");
      if (search) { e.preventDefault(); search.focus(); }
    }
    else { return; }
  });
  if (rows.length) { select(0); }
})();
