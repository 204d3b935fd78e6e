// Progressive enhancement of lists (everything also works without JavaScript):
// double-click or Enter on a row opens it, a "select all" box, a print button.
(function () {
  "use strict";
  document.querySelectorAll("tr[data-href]").forEach(function (row) {
    row.addEventListener("dblclick", function (event) {
      if (event.target.closest("a, button, input, label")) { return; }
      window.location.href = row.getAttribute("data-href");
    });
  });
  var all = document.querySelector(".js-select-all");
  if (all) {
    all.hidden = false;
    all.addEventListener("change", function () {
      document.querySelectorAll("input[name='task_ids']").forEach(function (box) { box.checked = all.checked; });
    });
  }
  document.querySelectorAll(".js-print").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
})();
