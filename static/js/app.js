// Small enhancements; every page works without them.
document.addEventListener("DOMContentLoaded", function () {
  // Submit the language form as soon as a language is chosen; the button stays for no-JS use.
  document.querySelectorAll("select.js-autosubmit").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
  document.querySelectorAll(".js-hide-when-scripted").forEach(function (el) { el.hidden = true; });
  reachScrollingTables(document);
});

// A table wider than the screen scrolls inside its frame: keyboard users reach the frame with Tab
// (then scroll it with the arrow keys), and screen readers name it after its table.
function reachScrollingTables(root) {
  root.querySelectorAll(".table-wrap").forEach(function (wrap) {
    if (wrap.scrollWidth <= wrap.clientWidth || wrap.hasAttribute("tabindex")) { return; }
    var table = wrap.querySelector("table");
    var caption = table && table.caption;
    var heading = wrap.closest("section, .card") && wrap.closest("section, .card").querySelector("h1, h2, h3");
    var name = (caption || heading || document.querySelector("h1") || {}).textContent;
    wrap.tabIndex = 0;
    wrap.setAttribute("role", "region");
    if (name) { wrap.setAttribute("aria-label", name.trim()); }
  });
}

// Autosaved answers: mark a question dirty on input, clean once the server answered, and warn
// before leaving the page while anything typed is not saved yet.
document.addEventListener("input", function (event) {
  var form = event.target.closest && event.target.closest("form.js-autosave");
  if (form) { form.classList.add("is-dirty"); }
});
document.addEventListener("htmx:afterSwap", function (event) {
  var swapped = event.detail.elt;
  if (swapped && swapped.querySelectorAll) {
    swapped.querySelectorAll(".js-hide-when-scripted").forEach(function (el) { el.hidden = true; });
    reachScrollingTables(swapped);
  }
});
window.addEventListener("beforeunload", function (event) {
  if (document.querySelector("form.js-autosave.is-dirty, form.js-autosave.htmx-request")) {
    event.preventDefault();
    event.returnValue = "";
  }
});

// Synthesis reports' theme: ticking "every question of" a compliance point ticks (or unticks) its
// questions at once; without JavaScript the server takes every question of a ticked point.
document.addEventListener("change", function (event) {
  var box = event.target;
  if (!box.matches || !box.matches("input.js-check-point")) { return; }
  box.closest(".theme-point").querySelectorAll("input[name=theme_questions]").forEach(function (question) {
    question.checked = box.checked;
  });
});
document.addEventListener("change", function (event) {
  var question = event.target;
  if (!question.matches || !question.matches(".theme-point input[name=theme_questions]") || question.checked) { return; }
  var point = question.closest(".theme-point").querySelector("input.js-check-point");
  if (point) { point.checked = false; }  // one question left out: not "every question" any more
});
