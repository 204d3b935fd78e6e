// Progress bars of background jobs (imports, 校验): polls the job's JSON every 1.5 s and updates the
// bar and its figures in place; once the job has ended the page reloads to show the result.
// Without JavaScript the page refreshes itself instead (<noscript> meta refresh).
(function () {
  "use strict";
  var INTERVAL = 1500;

  function update(box, data) {
    var bar = box.querySelector("progress");
    bar.max = data.total || 1;
    bar.value = data.total ? data.done : 0;
    bar.textContent = data.percent + "%";
    box.querySelectorAll("[data-field]").forEach(function (field) {
      var value = data[field.getAttribute("data-field")];
      if (value !== undefined) { field.textContent = value; }
    });
  }

  function poll(box) {
    fetch(box.getAttribute("data-progress-url"), {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (response) {
        if (!response.ok) { throw new Error(response.status); }
        return response.json();
      })
      .then(function (data) {
        update(box, data);
        if (data.final) {
          window.location.reload();
        } else {
          window.setTimeout(function () { poll(box); }, INTERVAL);
        }
      })
      .catch(function () { window.setTimeout(function () { poll(box); }, INTERVAL * 4); });
  }

  document.querySelectorAll(".job-progress[data-final='false']").forEach(function (box) {
    window.setTimeout(function () { poll(box); }, INTERVAL);
  });
})();
