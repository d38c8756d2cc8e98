// Check-in desk: scans are posted in the background so a scan a second keeps up; the answer
// replaces the last one, the field is emptied and focused again at once. Without this script
// the same forms post and redirect.
(function () {
  "use strict";

  var scanForm = document.getElementById("scan");
  if (!scanForm) {
    return;
  }
  var field = scanForm.querySelector("input[name=code]");
  // After a redirect to #scan browsers skip autofocus; a scanner types into whatever has focus,
  // so the field takes it whenever nothing else has.
  // (Chrome also drops focus when it scrolls to the #fragment after load, so once more then.)
  function takeFocus() {
    if (!document.activeElement || document.activeElement === document.body) {
      field.focus();
    }
  }
  takeFocus();
  window.addEventListener("load", function () {
    window.setTimeout(takeFocus, 0);
  });
  var answerRegion = document.getElementById("desk-answer");
  var undoRegion = document.getElementById("desk-undo");
  var count = document.getElementById("desk-count");
  var sent = 0;
  var shown = 0;

  function showMessage(text) {
    var card = document.createElement("div");
    card.className = "desk-answer answer-stop";
    var word = document.createElement("p");
    word.className = "answer-word";
    word.textContent = text;
    card.appendChild(word);
    answerRegion.replaceChildren(card);
  }

  function showCount(figures) {
    if (figures && count.textContent !== figures.text) {
      count.textContent = figures.text;
    }
  }

  var offline = window.eventappDeskOffline;

  // Without connection a scan is kept on this device and sent later (desk-offline.js).
  function keepOffline(code, number) {
    return offline.scan(code).then(function (card) {
      if (number >= shown) {
        shown = number;
        answerRegion.replaceChildren(card);
        undoRegion.replaceChildren(); // the last check-in here is one not sent yet
      }
    }, function () {
      showMessage(scanForm.dataset.offline); // this browser cannot keep it (private mode)
    });
  }

  // Post a form in the background; quiet (the camera) leaves the focus where it is, so a
  // phone does not open its keyboard over the camera picture.
  function post(form, quiet) {
    var number = ++sent;
    var body = new FormData(form);
    var code = form === scanForm ? field.value : "";
    if (form === scanForm) {
      field.value = "";
      if (!quiet) {
        field.focus();
      }
      if (offline && navigator.onLine === false) {
        return keepOffline(code, number);
      }
    }
    return fetch(form.action, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { Accept: "application/json" }
    })
      .then(
        function (response) {
          return response.json().then(
            function (data) {
              return { ok: response.ok, data: data };
            },
            function () {
              // Not our answer: a proxy in front of a server it cannot reach is offline too.
              return response.status >= 502 ? { offline: true } : { ok: false, data: {} };
            }
          );
        },
        function () {
          return { offline: true };
        }
      )
      .then(function (result) {
        if (result.offline) {
          if (form === scanForm && offline) {
            return keepOffline(code, number);
          }
          showMessage(scanForm.dataset.offline);
          return;
        }
        if (number < shown) {
          return; // an older scan answered late: the newer answer stays
        }
        shown = number;
        var data = result.data;
        if (data.html !== undefined) {
          answerRegion.innerHTML = data.html;
          undoRegion.innerHTML = data.undo_html;
          showCount(data.count);
        } else {
          showMessage(data.message || scanForm.dataset.failed);
        }
      })
      .catch(function () {
        showMessage(scanForm.dataset.failed);
      })
      .then(function () {
        if (!quiet && (document.activeElement === document.body || form !== scanForm)) {
          field.focus();
        }
      });
  }

  // The camera (desk-camera.js) hands over each code it reads, as if it had been typed.
  window.eventappDesk = {
    scan: function (code) {
      field.value = code;
      return post(scanForm, true);
    }
  };

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("js-desk-post")) {
      return;
    }
    event.preventDefault();
    if (form === scanForm && field.value.trim() === "") {
      field.focus();
      return;
    }
    post(form);
  });

  // Ctrl+Z (Cmd+Z) in the empty scan field takes back the last check-in.
  document.addEventListener("keydown", function (event) {
    if (event.key.toLowerCase() !== "z" || !(event.ctrlKey || event.metaKey) || event.altKey) {
      return;
    }
    if (document.activeElement !== field || field.value !== "") {
      return;
    }
    var undo = undoRegion.querySelector("form");
    if (undo) {
      event.preventDefault();
      post(undo);
    }
  });

  function refreshCount() {
    fetch(count.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(showCount)
      .catch(function () {});
  }
  window.setInterval(refreshCount, 10000);
})();
