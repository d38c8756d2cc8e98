// Render the API documentation with the vendored Redoc build (static/vendor/redoc/, `make
// vendor`). Fonts are the visitor's own system fonts: nothing is loaded from another site.
(function () {
  "use strict";
  var container = document.getElementById("api-docs");
  if (!container || !window.Redoc) {
    return;
  }
  var sans = 'system-ui, -apple-system, "Segoe UI", "DejaVu Sans", "Noto Sans", sans-serif';
  var mono = 'ui-monospace, "DejaVu Sans Mono", "Noto Sans Mono", monospace';
  window.Redoc.init(
    container.getAttribute("data-spec-url"),
    {
      expandResponses: "200",
      theme: {
        typography: {
          fontFamily: sans,
          headings: { fontFamily: sans },
          code: { fontFamily: mono },
        },
      },
    },
    container
  );
})();
