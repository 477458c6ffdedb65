// Small enhancements; every page works without them.
document.addEventListener("DOMContentLoaded", function () {
  // Submit the language form as soon as a language is chosen; the button stays for no-JS use.
  document.querySelectorAll("select.js-autosubmit").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
  document.querySelectorAll(".js-hide-when-scripted").forEach(function (el) { el.hidden = true; });
});
