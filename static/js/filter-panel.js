// Open the registration list's filter panel on wide screens when filters are set; on small
// screens it stays folded so the list comes first. Without this script it is simply folded.
(function () {
  "use strict";
  var panel = document.getElementById("filter-panel");
  if (panel && panel.dataset.openWide && window.matchMedia("(min-width: 48em)").matches) {
    panel.open = true;
  }
})();
