// Reads QR codes for the desk's camera off the page's thread, with the vendored jsQR
// (static/vendor/jsqr/, Apache-2.0), where the browser has no BarcodeDetector of its own.
/* global jsQR */
importScripts("../vendor/jsqr/jsQR.js");

self.onmessage = function (event) {
  var frame = event.data;
  var found = jsQR(new Uint8ClampedArray(frame.pixels), frame.width, frame.height, {
    inversionAttempts: "dontInvert"
  });
  self.postMessage(found && found.data ? found.data : null);
};
