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

  function post(form) {
    var number = ++sent;
    var body = new FormData(form);
    if (form === scanForm) {
      field.value = "";
      field.focus();
    }
    return fetch(form.action, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { Accept: "application/json" }
    })
      .then(function (response) {
        return response.json().then(function (data) {
          return { ok: response.ok, data: data };
        });
      })
      .then(function (result) {
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
        showMessage(scanForm.dataset.offline);
      })
      .then(function () {
        if (document.activeElement === document.body || form !== scanForm) {
          field.focus();
        }
      });
  }

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
