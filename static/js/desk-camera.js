// Check-in desk: scan badges with the phone's or laptop's camera. Reads QR codes with the
// browser's BarcodeDetector where it has one, otherwise with jsQR in a worker
// (static/js/qr-worker.js); each code goes the way of a typed scan (desk.js). The same code
// seen again within a few seconds is not sent twice. The camera stops when the button is
// pressed again or the page is hidden.
(function () {
  "use strict";

  var button = document.getElementById("desk-camera");
  var desk = window.eventappDesk;
  if (!button || !desk || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    return;
  }
  var view = document.getElementById("desk-camera-view");
  var video = view.querySelector("video");
  var status = document.getElementById("desk-camera-status");
  var canvas = document.createElement("canvas");
  var context = canvas.getContext("2d", { willReadFrequently: true });
  var ready = status.textContent;
  var stream = null;
  var detector = null;
  var worker = null;
  var reading = false;
  var timer = null;
  var lastCode = "";
  var lastSeen = 0;
  var REPEAT_MS = 4000; // the same badge held up longer is one scan
  var EVERY_MS = 150;
  var MAX_SIDE = 800; // pixels the decoder looks at: enough for a badge, quick on a phone

  button.hidden = false;

  function chooseDecoder() {
    if (detector || worker) {
      return Promise.resolve();
    }
    var useWorker = function () {
      worker = new Worker(button.dataset.worker);
      worker.onmessage = function (event) {
        reading = false;
        if (event.data) {
          found(event.data);
        }
      };
      worker.onerror = function () {
        reading = false;
      };
      view.dataset.decoder = "jsqr";
    };
    if (!("BarcodeDetector" in window)) {
      useWorker();
      return Promise.resolve();
    }
    return window.BarcodeDetector.getSupportedFormats()
      .then(function (formats) {
        if (formats.indexOf("qr_code") === -1) {
          useWorker();
          return;
        }
        detector = new window.BarcodeDetector({ formats: ["qr_code"] });
        view.dataset.decoder = "barcode-detector";
      })
      .catch(useWorker);
  }

  function found(code) {
    code = code.trim();
    var now = Date.now();
    var repeated = code === lastCode && now - lastSeen < REPEAT_MS;
    lastSeen = now;
    if (!code || repeated || !stream) {
      return;
    }
    lastCode = code;
    status.textContent = button.dataset.seen + " " + code;
    desk.scan(code);
  }

  function read() {
    timer = null;
    if (!stream) {
      return;
    }
    if (!reading && video.readyState >= 2 && video.videoWidth > 0) {
      reading = true;
      if (detector) {
        detector
          .detect(video)
          .then(function (codes) {
            reading = false;
            if (codes.length > 0) {
              found(codes[0].rawValue);
            }
          })
          .catch(function () {
            reading = false;
          });
      } else {
        var scale = Math.min(1, MAX_SIDE / Math.max(video.videoWidth, video.videoHeight));
        canvas.width = Math.round(video.videoWidth * scale);
        canvas.height = Math.round(video.videoHeight * scale);
        context.drawImage(video, 0, 0, canvas.width, canvas.height);
        var image = context.getImageData(0, 0, canvas.width, canvas.height);
        worker.postMessage(
          { pixels: image.data.buffer, width: image.width, height: image.height },
          [image.data.buffer]
        );
      }
    }
    timer = window.setTimeout(read, EVERY_MS);
  }

  function start() {
    button.setAttribute("aria-pressed", "true");
    status.textContent = ready;
    navigator.mediaDevices
      .getUserMedia({
        audio: false,
        video: { facingMode: { ideal: "environment" }, width: { ideal: 1280 }, height: { ideal: 720 } }
      })
      .then(function (media) {
        if (button.getAttribute("aria-pressed") !== "true") {
          media.getTracks().forEach(function (track) {
            track.stop();
          });
          return; // pressed again while the browser asked
        }
        stream = media;
        video.srcObject = media;
        view.hidden = false;
        return chooseDecoder()
          .then(function () {
            return video.play();
          })
          .then(read);
      })
      .catch(function () {
        stop();
        view.hidden = false;
        status.textContent = button.dataset.denied;
      });
  }

  function stop() {
    button.setAttribute("aria-pressed", "false");
    if (timer) {
      window.clearTimeout(timer);
      timer = null;
    }
    if (stream) {
      stream.getTracks().forEach(function (track) {
        track.stop();
      });
      stream = null;
    }
    video.srcObject = null;
    view.hidden = true;
    reading = false;
    lastCode = "";
  }

  button.addEventListener("click", function () {
    if (button.getAttribute("aria-pressed") === "true") {
      stop();
    } else {
      start();
    }
  });
  document.addEventListener("visibilitychange", function () {
    if (document.hidden) {
      stop();
    }
  });
  window.addEventListener("pagehide", stop);
})();
