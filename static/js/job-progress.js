/* A running print job: fetch the job page every two seconds and put its status and result into
   this page, without reloading it (a reload would move the reader back to the top). */
(function () {
  "use strict";

  var DELAY = 2000;

  function update() {
    fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) { return response.ok ? response.text() : Promise.reject(response); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        ["job-status", "job-result"].forEach(function (id) {
          var here = document.getElementById(id);
          var there = fresh.getElementById(id);
          if (here && there && here.innerHTML !== there.innerHTML) { here.innerHTML = there.innerHTML; }
        });
        var status = fresh.getElementById("job-status");
        if (status && status.hasAttribute("data-running")) { window.setTimeout(update, DELAY); }
      })
      .catch(function () { window.setTimeout(update, DELAY * 5); });
  }

  function start() {
    var status = document.getElementById("job-status");
    if (status && status.hasAttribute("data-running")) { window.setTimeout(update, DELAY); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
