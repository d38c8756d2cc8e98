// Check-in desk without Wi-Fi: keeps the event's code list in IndexedDB (refreshed every few
// minutes) so a scan without connection still shows the name, holds such check-ins with the
// time of the scan and this desk's name, and sends them when the connection is back. The
// server records each person once, at the earliest time any desk saw them.
(function () {
  "use strict";

  var root = document.getElementById("desk-offline");
  if (!root || !window.indexedDB || !window.Promise) {
    return;
  }
  var eventId = Number(root.dataset.event);
  var text = root.dataset;
  var pending = document.getElementById("desk-pending");
  var sentRegion = document.getElementById("desk-sent");
  var count = document.getElementById("desk-count");
  var token = document.querySelector("#scan input[name=csrf_token]");
  var sending = false;
  var database = null;

  function request(req) {
    return new Promise(function (resolve, reject) {
      req.onsuccess = function () {
        resolve(req.result);
      };
      req.onerror = function () {
        reject(req.error);
      };
    });
  }

  function open() {
    if (!database) {
      var req = indexedDB.open("eventapp-desk", 1);
      req.onupgradeneeded = function () {
        var db = req.result;
        db.createObjectStore("codes", { keyPath: "event_id" });
        db.createObjectStore("queue", { keyPath: "id", autoIncrement: true }).createIndex(
          "event_id",
          "event_id"
        );
      };
      database = request(req);
    }
    return database;
  }

  function store(name, mode) {
    return open().then(function (db) {
      return db.transaction(name, mode || "readonly").objectStore(name);
    });
  }

  function waiting() {
    return store("queue").then(function (queue) {
      return request(queue.index("event_id").getAll(eventId));
    });
  }

  function showPending() {
    return waiting().then(function (items) {
      var n = items.length;
      var sentence = n === 0 ? "" : n === 1 ? text.one : text.many.replace("{n}", String(n));
      if (pending.textContent !== sentence) {
        pending.textContent = sentence;
      }
      pending.classList.toggle("desk-pending-some", n > 0);
      return items;
    });
  }

  // --- The code list ----------------------------------------------------------------------

  function refreshCodes() {
    return fetch(text.codes, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (list) {
        if (list && list.event_id === eventId) {
          return store("codes", "readwrite").then(function (codes) {
            return request(codes.put(list));
          }).then(function () {
            root.dataset.listReady = String(Object.keys(list.codes).length);
          });
        }
      })
      .catch(function () {});
  }

  function holder(code) {
    return store("codes")
      .then(function (codes) {
        return request(codes.get(eventId));
      })
      .then(function (list) {
        return list && list.codes ? list.codes[code] || null : null;
      });
  }

  // --- Scans without connection ------------------------------------------------------------

  function normalise(code) {
    return code.replace(/\s+/g, "").toUpperCase().slice(0, 32);
  }

  function card(look, word, person, note) {
    var box = document.createElement("div");
    box.className = "desk-answer " + look;
    box.dataset.outcome = "offline";
    var line = document.createElement("p");
    line.className = "answer-word";
    line.textContent = word;
    box.appendChild(line);
    if (person) {
      var name = document.createElement("p");
      name.className = "answer-name";
      name.textContent = person.name;
      box.appendChild(name);
      var details = document.createElement("p");
      details.className = "answer-details";
      details.textContent = [person.organisation, person.role].filter(Boolean).join(" · ");
      box.appendChild(details);
    }
    if (note) {
      var more = document.createElement("p");
      more.className = "answer-note break-anywhere";
      more.textContent = note;
      box.appendChild(more);
    }
    return box;
  }

  // Keep a check-in made without connection and show what the desk knows about the person.
  function scanOffline(rawCode) {
    var code = normalise(rawCode);
    var shown;
    return Promise.all([holder(code), waiting()])
      .then(function (found) {
        var person = found[0];
        var twice = found[1].some(function (item) {
          return item.code === code;
        });
        if (person && person.status === "cancelled") {
          shown = card("answer-stop", text.cancelled, person);
        } else if (person && person.status === "waitlisted") {
          shown = card("answer-wait", text.waitlisted, person);
        } else if (twice) {
          shown = card("answer-warn", text.twice, person);
        } else if (person && person.checked_in) {
          shown = card("answer-warn", text.already, person);
        } else {
          shown = person
            ? card("answer-offline", text.saved, person)
            : card("answer-warn", text.saved, null, text.unknown + " (" + code + ")");
          return store("queue", "readwrite").then(function (queue) {
            return request(
              queue.add({
                event_id: eventId,
                code: code,
                scanned_at: new Date().toISOString(),
                desk: text.desk
              })
            );
          });
        }
      })
      .then(function () {
        return showPending();
      })
      .then(function () {
        return shown;
      });
  }

  // --- Sending when the connection is back -------------------------------------------------

  function showSent(results) {
    var title = document.createElement("p");
    title.className = "desk-sent-title";
    title.textContent = text.sent;
    var list = document.createElement("ul");
    results.forEach(function (result) {
      var item = document.createElement("li");
      item.textContent = result.text;
      if (result.outcome !== "checked_in" && result.outcome !== "already") {
        item.className = "desk-sent-problem";
      }
      list.appendChild(item);
    });
    sentRegion.replaceChildren(title, list);
    // An answer still saying "will be sent" is out of date now: the list says what became of it.
    var answer = document.querySelector("#desk-answer [data-outcome=offline]");
    if (answer) {
      answer.parentNode.replaceChildren();
    }
  }

  function send() {
    if (sending || navigator.onLine === false) {
      return Promise.resolve();
    }
    sending = true;
    return waiting()
      .then(function (items) {
        if (items.length === 0) {
          return null;
        }
        var batch = items.slice(0, 500);
        return fetch(text.send, {
          method: "POST",
          credentials: "same-origin",
          headers: {
            Accept: "application/json",
            "Content-Type": "application/json",
            "X-CSRFToken": token ? token.value : ""
          },
          body: JSON.stringify({
            check_ins: batch.map(function (item) {
              return { code: item.code, scanned_at: item.scanned_at, desk: item.desk };
            })
          })
        })
          .then(function (response) {
            return response.ok ? response.json() : null;
          })
          .then(function (answer) {
            if (!answer || !answer.results) {
              return null; // kept; tried again on the next round
            }
            return store("queue", "readwrite")
              .then(function (queue) {
                return Promise.all(
                  batch.map(function (item) {
                    return request(queue.delete(item.id));
                  })
                );
              })
              .then(function () {
                showSent(answer.results);
                if (answer.count && count.textContent !== answer.count.text) {
                  count.textContent = answer.count.text;
                }
              });
          });
      })
      .catch(function () {})
      .then(function () {
        sending = false;
        return showPending();
      });
  }

  window.eventappDeskOffline = { scan: scanOffline, send: send };

  // Logging out forgets the names kept on this device; check-ins still waiting stay, and are
  // sent from this desk after the next login.
  var logout = document.querySelector("form[action$='/abmelden']");
  if (logout) {
    logout.addEventListener("submit", function (event) {
      event.preventDefault();
      store("codes", "readwrite")
        .then(function (codes) {
          return request(codes.clear());
        })
        .catch(function () {})
        .then(function () {
          logout.submit();
        });
    });
  }

  window.addEventListener("online", function () {
    send().then(refreshCodes);
  });
  window.setInterval(send, 15000);
  window.setInterval(refreshCodes, 300000);
  refreshCodes();
  send();
})();
