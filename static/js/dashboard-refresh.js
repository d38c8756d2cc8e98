/* The dashboard: fetch the figures again every few seconds (data-refresh-seconds) and swap only
   the parts whose content changed, so nothing flickers, open tables stay open and the reader keeps
   their place. Paused while the tab is hidden and by the pause button (WCAG 2.2.2); nothing is
   animated. Without this script the page is complete and its "Aktualisieren" link reloads it. */
(function () {
  "use strict";

  var container, pauseButton, lastUpdate = 0, busy = false, paused = false;

  function seconds() {
    var value = parseFloat(container.getAttribute("data-refresh-seconds"));
    return value > 0 ? value : 30;
  }

  function keys(root) {
    return Array.prototype.map.call(root.querySelectorAll("[data-refresh-key]"), function (el) {
      return el.getAttribute("data-refresh-key");
    }).join("|");
  }

  function openDetails() {
    return Array.prototype.map.call(container.querySelectorAll("details[open] [data-refresh-key]"),
      function (el) { return el.getAttribute("data-refresh-key"); });
  }

  function apply(html) {
    var fresh = document.createElement("div");
    fresh.innerHTML = html;
    if (!fresh.querySelector("[data-refresh-key]")) { return; }
    if (keys(fresh) !== keys(container)) {
      // A part came or went (the first check-in, a new day): rebuild, keeping tables open.
      var open = openDetails();
      container.innerHTML = fresh.innerHTML;
      open.forEach(function (key) {
        var part = container.querySelector('[data-refresh-key="' + key + '"]');
        var details = part && part.closest("details");
        if (details) { details.open = true; }
      });
      return;
    }
    Array.prototype.forEach.call(fresh.querySelectorAll("[data-refresh-key]"), function (there) {
      var here = container.querySelector('[data-refresh-key="' + there.getAttribute("data-refresh-key") + '"]');
      if (here && here.innerHTML !== there.innerHTML) { here.innerHTML = there.innerHTML; }
    });
  }

  function update() {
    busy = true;
    lastUpdate = Date.now();
    fetch(container.getAttribute("data-refresh-url"), {
      credentials: "same-origin", headers: { Accept: "text/html" }, cache: "no-store"
    })
      .then(function (response) {
        // A login page after the session ended is no update: keep the figures shown.
        return response.ok && !response.redirected ? response.text() : Promise.reject(response);
      })
      .then(apply)
      .catch(function () { /* try again at the next interval */ })
      .then(function () { busy = false; });
  }

  function tick() {
    if (paused || busy || document.hidden) { return; }
    if (Date.now() - lastUpdate >= seconds() * 1000) { update(); }
  }

  function togglePause() {
    paused = !paused;
    pauseButton.setAttribute("aria-pressed", paused ? "true" : "false");
    if (!paused) { tick(); }
  }

  function start() {
    container = document.getElementById("dashboard-figures");
    if (!container || !window.fetch) { return; }
    lastUpdate = Date.now();
    pauseButton = document.getElementById("dashboard-pause");
    if (pauseButton) {
      pauseButton.hidden = false;
      pauseButton.addEventListener("click", togglePause);
    }
    var note = document.getElementById("dashboard-pause-note");
    if (note) { note.hidden = false; }
    // A short tick reads the interval each time, so a changed data-refresh-seconds counts at once.
    window.setInterval(tick, 500);
    document.addEventListener("visibilitychange", tick);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
