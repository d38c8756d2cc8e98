// Organisers' timetable: move an activity to another room or time by dragging it (mouse, pen,
// touch after a short press) or with the keyboard (V, arrow keys, Enter). Times snap to five
// minutes. Each move is posted to the server, which runs the edit form's checks: conflicts come
// back without saving and are shown in a dialog that offers to move deliberately. Undo (button or
// Ctrl+Z) moves the activity back through the same checks. Without this script the blocks stay
// links to the edit form.
(function () {
  "use strict";

  var planner = document.getElementById("tt-planner");
  var grids = document.getElementById("timetable-grids");
  var tokenField = document.querySelector("input[name=csrf_token]");
  if (!planner || !grids || !tokenField || !window.fetch || !window.FormData) {
    return;
  }
  var texts = planner.dataset;
  var live = document.getElementById("tt-live");
  var undoButton = document.getElementById("tt-undo");
  var dialog = document.getElementById("tt-dialog");
  var canDialog = dialog && typeof dialog.showModal === "function";
  var STEP = 5; // minutes per grid row
  var undoStack = [];
  var busy = false;
  var moving = null; // the block being moved and where it is now
  var pending = null; // a pointer pressed on a block, not yet dragging
  var swallowClick = false;
  var dialogState = null;

  planner.hidden = false;
  grids.classList.add("can-move");

  function fill(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (whole, name) {
      return values[name] === undefined ? whole : values[name];
    });
  }

  function minutesOf(clock) {
    var parts = clock.split(":");
    return parseInt(parts[0], 10) * 60 + parseInt(parts[1], 10);
  }

  function clockOf(minutes) {
    var hours = Math.floor(minutes / 60);
    var rest = minutes % 60;
    return (hours < 10 ? "0" : "") + hours + ":" + (rest < 10 ? "0" : "") + rest;
  }

  function announce(text) {
    live.textContent = text;
  }

  function numberAfter(block, prefix) {
    for (var i = 0; i < block.classList.length; i++) {
      var name = block.classList[i];
      if (name.indexOf(prefix) === 0 && /^\d+$/.test(name.slice(prefix.length))) {
        return parseInt(name.slice(prefix.length), 10);
      }
    }
    return null;
  }

  function dropClasses(block, pattern) {
    Array.prototype.slice.call(block.classList).forEach(function (name) {
      if (pattern.test(name)) {
        block.classList.remove(name);
      }
    });
  }

  function roomsOf(grid) {
    return Array.prototype.map.call(grid.querySelectorAll(".tt-room"), function (head) {
      return { id: head.dataset.room, name: head.dataset.roomName, head: head };
    });
  }

  // --- Where a block stands and where it may go ---------------------------------------------

  function pickUp(block, mode) {
    var grid = block.closest(".timetable");
    var rooms = roomsOf(grid);
    var column = null;
    if (!block.classList.contains("across-rooms")) {
      column = rooms.findIndex(function (room) {
        return room.id === block.dataset.room;
      });
      if (column < 0) {
        return null;
      }
    }
    var first = minutesOf(grid.dataset.first);
    var length = parseInt(block.dataset.minutes, 10) || STEP;
    var row = Math.floor((minutesOf(block.dataset.starts) - first) / STEP);
    var label = document.createElement("span");
    label.className = "tt-drag-label";
    block.appendChild(label);
    moving = {
      block: block,
      grid: grid,
      rooms: rooms,
      mode: mode,
      classes: block.className,
      first: first,
      length: length,
      startRow: row,
      startColumn: column,
      row: row,
      column: column,
      maxRow: Math.floor((24 * 60 - length - first) / STEP),
      label: label
    };
    dropClasses(block, /^(lanes?-\d+)$/);
    block.classList.add("is-moving");
    show();
    return moving;
  }

  function targetText() {
    var start = moving.first + moving.row * STEP;
    var room =
      moving.column === null ? texts.textAllRooms : moving.rooms[moving.column].name;
    return fill(texts.textTarget, {
      room: room,
      span: clockOf(start) + "–" + clockOf(start + moving.length)
    });
  }

  function show() {
    var block = moving.block;
    dropClasses(block, /^at-row-\d+$/);
    block.classList.add("at-row-" + (moving.row + 2));
    if (moving.column !== null) {
      dropClasses(block, /^at-col-\d+$/);
      block.classList.add("at-col-" + (moving.column + 2));
    }
    moving.label.textContent = targetText();
  }

  function place(row, column) {
    moving.row = Math.max(0, Math.min(moving.maxRow, row));
    if (moving.column !== null) {
      moving.column = Math.max(0, Math.min(moving.rooms.length - 1, column));
    }
    show();
  }

  function putBack() {
    if (!moving) {
      return;
    }
    var block = moving.block;
    block.className = moving.classes;
    if (moving.label.parentNode) {
      moving.label.parentNode.removeChild(moving.label);
    }
    moving = null;
    return block;
  }

  function positionOf(state) {
    return {
      room:
        state.column === null ? state.block.dataset.room : state.rooms[state.column].id,
      day: state.grid.dataset.day,
      starts: clockOf(state.first + state.row * STEP)
    };
  }

  function drop() {
    var state = moving;
    state.dropped = true;
    var target = positionOf(state);
    if (target.starts === state.block.dataset.starts && target.room === state.block.dataset.room) {
      putBack();
      announce(texts.textCancelled);
      return;
    }
    state.block.classList.add("is-saving");
    send(state.block.dataset.move, target, {
      block: state.block,
      title: state.block.dataset.title,
      activity: state.block.dataset.activity
    });
  }

  // --- Talking to the server -----------------------------------------------------------------

  function post(url, position, confirm, choice) {
    var body = new FormData();
    body.append("csrf_token", tokenField.value);
    body.append("room", position.room);
    body.append("day", position.day);
    body.append("starts", position.starts);
    if (confirm) {
      body.append("confirm", "1");
    }
    if (choice) {
      body.append("participant_clash_choice", choice);
    }
    return fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { Accept: "application/json" }
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (type.indexOf("application/json") < 0) {
        return { outcome: "failed" };
      }
      return response.json();
    });
  }

  function send(url, position, move, confirm, choice) {
    busy = true;
    announce(texts.textSaving);
    post(url, position, confirm, choice)
      .then(function (answer) {
        if (answer.outcome === "saved") {
          return saved(url, answer, move);
        }
        busy = false;
        if (answer.outcome === "conflicts" && canDialog) {
          openDialog(url, position, move, answer);
          return;
        }
        finish(move, answer.message || texts.textFailed);
      })
      .catch(function () {
        busy = false;
        finish(move, texts.textFailed);
      });
  }

  function finish(move, message) {
    putBack();
    if (move.block) {
      move.block.classList.remove("is-saving");
    }
    focusActivity(move.activity);
    announce(message);
  }

  function saved(url, answer, move) {
    moving = null;
    if (move.undo) {
      undoStack.pop();
    } else {
      undoStack.push({
        url: url,
        position: answer.previous,
        title: move.title,
        activity: move.activity
      });
    }
    return refresh().then(function () {
      busy = false;
      undoButton.hidden = undoStack.length === 0;
      focusActivity(move.activity);
      announce(move.undo ? fill(texts.textUndone, { message: answer.message }) : answer.message);
    });
  }

  function refresh() {
    return fetch(window.location.href, { credentials: "same-origin" })
      .then(function (response) {
        return response.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        ["timetable-content", "timetable-grids"].forEach(function (id) {
          var now = document.getElementById(id);
          var then = fresh.getElementById(id);
          if (now && then) {
            now.replaceChildren.apply(
              now,
              Array.prototype.map.call(then.childNodes, function (node) {
                return document.importNode(node, true);
              })
            );
          }
        });
      });
  }

  function focusActivity(id) {
    var block = grids.querySelector('.tt-block[data-activity="' + id + '"]');
    if (block) {
      block.focus();
      if (block.scrollIntoView) {
        block.scrollIntoView({ block: "nearest", inline: "nearest" });
      }
    }
  }

  function undo() {
    if (busy || moving || !undoStack.length) {
      return;
    }
    var last = undoStack[undoStack.length - 1];
    var block = grids.querySelector('.tt-block[data-activity="' + last.activity + '"]');
    send(last.url, last.position, {
      block: block,
      title: last.title,
      activity: last.activity,
      undo: true
    });
  }

  // --- The conflict dialog ------------------------------------------------------------------

  function openDialog(url, position, move, answer) {
    var list = document.getElementById("tt-dialog-conflicts");
    var clash = document.getElementById("tt-dialog-clash");
    var hard = document.getElementById("tt-dialog-hard");
    var confirmButton = document.getElementById("tt-dialog-confirm");
    document.getElementById("tt-dialog-intro").textContent = answer.message;
    list.replaceChildren.apply(
      list,
      answer.conflicts.map(function (conflict) {
        var item = document.createElement("li");
        item.textContent = conflict.message;
        return item;
      })
    );
    clash.hidden = !(answer.can_confirm && answer.needs_clash_choice);
    clash.querySelectorAll("input").forEach(function (input) {
      input.checked = false;
    });
    document.getElementById("tt-clash-error").hidden = true;
    hard.hidden = answer.can_confirm;
    document.getElementById("tt-dialog-edit").href = answer.edit_url;
    confirmButton.hidden = !answer.can_confirm;
    dialogState = { url: url, position: position, move: move };
    announce("");
    dialog.showModal();
    (answer.can_confirm ? confirmButton : document.getElementById("tt-dialog-cancel")).focus();
  }

  function closeDialog() {
    var state = dialogState;
    dialogState = null;
    if (dialog.open) {
      dialog.close();
    }
    return state;
  }

  function cancelDialog() {
    var state = closeDialog();
    if (state) {
      finish(state.move, texts.textCancelled);
    }
  }

  function confirmDialog() {
    var clash = document.getElementById("tt-dialog-clash");
    var choice = null;
    if (!clash.hidden) {
      var checked = clash.querySelector("input:checked");
      if (!checked) {
        document.getElementById("tt-clash-error").hidden = false;
        clash.querySelector("input").focus();
        return;
      }
      choice = checked.value;
    }
    var state = closeDialog();
    send(state.url, state.position, state.move, true, choice);
  }

  if (canDialog) {
    document.getElementById("tt-dialog-confirm").addEventListener("click", confirmDialog);
    document.getElementById("tt-dialog-cancel").addEventListener("click", cancelDialog);
    dialog.addEventListener("cancel", function (event) {
      event.preventDefault();
      cancelDialog();
    });
  }

  // --- Keyboard -----------------------------------------------------------------------------

  grids.addEventListener("keydown", function (event) {
    var block = event.target.closest ? event.target.closest(".tt-block") : null;
    if (!block) {
      return;
    }
    if (!moving) {
      var key = event.key.toLowerCase();
      if ((key === "v" || key === "m") && !event.ctrlKey && !event.metaKey && !event.altKey) {
        if (busy || !pickUp(block, "keyboard")) {
          return;
        }
        event.preventDefault();
        announce(
          fill(texts.textPicked, { title: block.dataset.title }) + " " + targetText()
        );
      }
      return;
    }
    if (moving.mode !== "keyboard" || moving.block !== block) {
      return;
    }
    if (moving.dropped) {
      event.preventDefault(); // saving: the block stays where it was put
      return;
    }
    var rows = event.shiftKey ? 6 : 1;
    var steps = {
      ArrowUp: [-rows, 0],
      ArrowDown: [rows, 0],
      ArrowLeft: [0, -1],
      ArrowRight: [0, 1]
    }[event.key];
    if (steps) {
      event.preventDefault();
      place(moving.row + steps[0], moving.column === null ? null : moving.column + steps[1]);
      announce(targetText());
      block.scrollIntoView({ block: "nearest", inline: "nearest" });
    } else if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      drop();
    } else if (event.key === "Escape" || event.key === "Tab") {
      if (event.key === "Escape") {
        event.preventDefault();
      }
      putBack();
      announce(texts.textCancelled);
    } else {
      event.preventDefault();
    }
  });

  document.addEventListener("keydown", function (event) {
    if (
      (event.ctrlKey || event.metaKey) &&
      !event.shiftKey &&
      event.key.toLowerCase() === "z" &&
      !(dialog && dialog.open) &&
      !event.target.closest("input, textarea, select, [contenteditable]") &&
      undoStack.length
    ) {
      event.preventDefault();
      undo();
    }
  });

  undoButton.addEventListener("click", undo);

  // --- Pointer (mouse, pen, touch) ---------------------------------------------------------

  function rowHeight(grid) {
    var mark = grid.querySelector(".tt-time");
    return mark ? mark.getBoundingClientRect().height / 6 : 10;
  }

  function columnAt(x) {
    var best = moving.column;
    var distance = Infinity;
    moving.rooms.forEach(function (room, index) {
      var box = room.head.getBoundingClientRect();
      var away = x < box.left ? box.left - x : x > box.right ? x - box.right : 0;
      if (away < distance) {
        distance = away;
        best = index;
      }
    });
    return best;
  }

  // Near the window's top or bottom, or the grid's sides, scroll so the target comes into view.
  function scrollNearEdges(event) {
    var edge = 40;
    if (event.clientY < edge) {
      window.scrollBy(0, -20);
    } else if (event.clientY > window.innerHeight - edge) {
      window.scrollBy(0, 20);
    }
    var box = moving.grid.getBoundingClientRect();
    if (event.clientX < box.left + edge) {
      moving.grid.scrollLeft -= 20;
    } else if (event.clientX > box.right - edge) {
      moving.grid.scrollLeft += 20;
    }
  }

  function startDrag() {
    var state = pickUp(pending.block, "pointer");
    if (!state) {
      pending = null;
      return;
    }
    state.pointer = pending.pointer;
    state.x = pending.x;
    state.y = pending.y + window.scrollY;
    state.rowHeight = rowHeight(state.grid);
    pending.block.setPointerCapture(pending.pointer);
    pending = null;
  }

  grids.addEventListener("pointerdown", function (event) {
    var block = event.target.closest(".tt-block");
    if (!block || busy || moving || !event.isPrimary || event.button !== 0) {
      return;
    }
    pending = {
      block: block,
      pointer: event.pointerId,
      x: event.clientX,
      y: event.clientY,
      touch: event.pointerType === "touch",
      timer: null
    };
    if (pending.touch) {
      pending.timer = window.setTimeout(function () {
        if (pending) {
          startDrag();
        }
      }, 350);
    }
  });

  grids.addEventListener("pointermove", function (event) {
    if (pending && event.pointerId === pending.pointer) {
      var far = Math.abs(event.clientX - pending.x) + Math.abs(event.clientY - pending.y);
      if (pending.touch) {
        if (far > 10) {
          window.clearTimeout(pending.timer);
          pending = null; // the finger scrolls the page
        }
      } else if (far > 4) {
        startDrag();
      }
    }
    if (moving && moving.mode === "pointer" && !moving.dropped && event.pointerId === moving.pointer) {
      event.preventDefault();
      scrollNearEdges(event);
      var rows = Math.round((event.clientY + window.scrollY - moving.y) / moving.rowHeight);
      var column = moving.column === null ? null : columnAt(event.clientX);
      if (moving.startRow + rows !== moving.row || column !== moving.column) {
        place(moving.startRow + rows, column);
      }
    }
  });

  function release(event) {
    if (pending && event.pointerId === pending.pointer) {
      window.clearTimeout(pending.timer);
      pending = null;
    }
    if (moving && moving.mode === "pointer" && !moving.dropped && event.pointerId === moving.pointer) {
      swallowClick = true;
      window.setTimeout(function () {
        swallowClick = false;
      }, 0);
      if (event.type === "pointercancel") {
        putBack();
        announce(texts.textCancelled);
      } else {
        drop();
      }
    }
  }

  grids.addEventListener("pointerup", release);
  grids.addEventListener("pointercancel", release);
  grids.addEventListener(
    "touchmove",
    function (event) {
      if (moving && moving.mode === "pointer") {
        event.preventDefault(); // the finger moves the block, not the page
      }
    },
    { passive: false }
  );
  grids.addEventListener("contextmenu", function (event) {
    if (pending || moving) {
      event.preventDefault();
    }
  });
  grids.addEventListener(
    "click",
    function (event) {
      if (swallowClick || (moving && moving.mode === "pointer")) {
        event.preventDefault();
        event.stopPropagation();
      }
    },
    true
  );
  grids.addEventListener("dragstart", function (event) {
    if (event.target.closest && event.target.closest(".tt-block")) {
      event.preventDefault(); // the browser's own link dragging would steal the pointer
    }
  });
})();
