/* Error summary (GOV.UK pattern): after a sent form comes back with errors, focus moves to the
   summary so screen readers announce it and keyboard users start there; its links move focus to
   the field in question and show the field's label (or the group's legend) above it. */
(function () {
  "use strict";

  function labelFor(input) {
    var fieldset = input.closest("fieldset");
    if ((input.type === "checkbox" || input.type === "radio") && fieldset) {
      var legend = fieldset.querySelector("legend");
      if (legend) { return legend; }
    }
    if (input.id) {
      var label = document.querySelector("label[for='" + CSS.escape(input.id) + "']");
      if (label) { return label; }
    }
    return input;
  }

  function moveToField(event) {
    var href = event.currentTarget.getAttribute("href") || "";
    if (href.charAt(0) !== "#") { return; }
    var input = document.getElementById(decodeURIComponent(href.slice(1)));
    if (!input) { return; }
    event.preventDefault();
    labelFor(input).scrollIntoView();
    input.focus({ preventScroll: true });
  }

  function start() {
    var summary = document.querySelector(".error-summary");
    if (!summary) { return; }
    summary.querySelectorAll("a[href^='#']").forEach(function (link) {
      link.addEventListener("click", moveToField);
    });
    summary.focus();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
