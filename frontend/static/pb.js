/* Small enhancements; every page works without this file.
   - marks <html class="js"> so buttons that need JavaScript (copy, print) appear,
   - copy and print buttons on the receipt page,
   - after htmx swaps a region, moves focus to a new error message so screen readers hear it. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  document.addEventListener("click", function (event) {
    var target = event.target.closest("[data-copy], [data-print]");
    if (!target) { return; }
    if (target.hasAttribute("data-print")) { window.print(); return; }
    var field = document.querySelector(target.getAttribute("data-copy"));
    if (!field) { return; }
    field.select();
    var done = function () { target.textContent = target.getAttribute("data-copied") || target.textContent; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, function () { document.execCommand("copy"); done(); });
    } else {
      document.execCommand("copy");
      done();
    }
  });
  // Cost lines added or removed in place: keep keyboard focus where the person is working.
  // (htmx:load fires on the new content, which is in the page; the old element is gone by then.)
  var pressed = null;
  document.addEventListener("htmx:beforeRequest", function (event) {
    pressed = event.detail.elt && event.detail.elt.getAttribute("value");
  });
  document.addEventListener("htmx:load", function (event) {
    var lines = event.detail.elt;
    if (!lines || lines.id !== "cost-lines") { return; }
    var labels = lines.querySelectorAll("input[name=line_label]");
    var target = pressed === "add_line" && labels.length ? labels[labels.length - 1]
      : lines.querySelector("button[value=add_line]");
    if (target) { target.focus(); }
  });
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.getElementById("error-summary");
    if (summary) { summary.focus(); }
  });
})();
