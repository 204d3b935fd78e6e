// 版本比较: two versions of a process side by side, what changed marked on both (bpmn-js-differ).
(function () {
  "use strict";
  var S = window.BanjianStudio;
  var box = document.getElementById("diff");
  if (!S || !box) { return; }
  var words = JSON.parse(document.getElementById("diff-words").textContent);
  var sides = ["old", "new"].map(function (side) {
    return new S.NavigatedViewer({ container: box.querySelector('[data-side="' + side + '"]'),
                                   moddleExtensions: S.moddleExtensions });
  });
  function load(viewer, url) {
    return fetch(url, { credentials: "same-origin" }).then(function (r) { return r.text(); })
      .then(function (xml) { return viewer.importXML(xml); })
      .then(function () { viewer.get("canvas").zoom("fit-viewport"); return viewer.getDefinitions(); });
  }
  function mark(viewer, id, marker) {
    var element = viewer.get("elementRegistry").get(id);
    if (element) { viewer.get("canvas").addMarker(element, marker); }
  }
  Promise.all([load(sides[0], box.getAttribute("data-old-url")), load(sides[1], box.getAttribute("data-new-url"))])
    .then(function (definitions) {
      var changes = S.diff(definitions[0], definitions[1]);
      var rows = document.querySelector(".diff-table tbody");
      function row(kind, id, element, attrs) {
        var tr = document.createElement("tr");
        [words[kind], id, (element && element.name) || "", attrs || ""].forEach(function (text, i) {
          var td = document.createElement("td");
          td.textContent = text;
          if (i === 1) { td.className = "mono"; }
          tr.appendChild(td);
        });
        rows.appendChild(tr);
      }
      Object.keys(changes._added).forEach(function (id) { mark(sides[1], id, "diff-added"); row("added", id, changes._added[id]); });
      Object.keys(changes._removed).forEach(function (id) { mark(sides[0], id, "diff-removed"); row("removed", id, changes._removed[id]); });
      Object.keys(changes._changed).forEach(function (id) {
        mark(sides[0], id, "diff-changed"); mark(sides[1], id, "diff-changed");
        row("changed", id, changes._changed[id].model, Object.keys(changes._changed[id].attrs).join(", "));
      });
      Object.keys(changes._layoutChanged).forEach(function (id) {
        if (!changes._changed[id]) { mark(sides[1], id, "diff-layout"); row("layout", id, changes._layoutChanged[id]); }
      });
      document.querySelector(".diff-none").hidden = rows.children.length > 0;
    });
})();
