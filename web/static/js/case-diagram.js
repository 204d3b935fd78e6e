// Draws each BPMN diagram of a case with the vendored bpmn-js NavigatedViewer and marks the
// completed and the current steps, and in red the steps that failed (an incident), each with its
// message beside it. Without JavaScript the page lists the same steps as text.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  if (!window.BpmnJS) { return; }
  document.querySelectorAll("figure.diagram").forEach(function (figure) {
    var canvasElement = figure.querySelector(".canvas");
    var viewer = new window.BpmnJS({ container: canvasElement });
    fetch(figure.getAttribute("data-url"), { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error(response.status); }
        return response.text();
      })
      .then(function (xml) { return viewer.importXML(xml); })
      .then(function () {
        var canvas = viewer.get("canvas");
        var registry = viewer.get("elementRegistry");
        canvas.zoom("fit-viewport");
        [["done", "data-done"], ["current", "data-current"]].forEach(function (pair) {
          JSON.parse(figure.getAttribute(pair[1]) || "[]").forEach(function (id) {
            if (registry.get(id)) { canvas.addMarker(id, pair[0]); }
          });
        });
        var overlays = viewer.get("overlays");
        figure.querySelectorAll(".diagram-incidents li[data-step]").forEach(function (item) {
          var id = item.getAttribute("data-step");
          if (!registry.get(id)) { return; }
          canvas.addMarker(id, "incident");
          var note = document.createElement("div");
          note.className = "incident-overlay";
          note.textContent = item.textContent;
          note.title = item.textContent;
          overlays.add(id, { position: { bottom: -4, left: 0 }, html: note, scale: { min: 1 } });
        });
        figure.setAttribute("data-rendered", "true");
      })
      .catch(function () {
        figure.querySelector(".no-js-note").style.display = "block";
        figure.setAttribute("data-rendered", "failed");
      });
  });
})();
