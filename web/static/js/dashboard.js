// The supervision dashboard (监控看板): draws each chart with the vendored ECharts from the figures
// the page carries (data-chart, JSON), links each bar, slice and day to the list it counts, and
// lays the heatmap (cases waiting per step, average wait) over the process diagram with the
// vendored bpmn-js. Every figure is also in the tables beside the charts, with or without JavaScript;
// a table.sortable sorts by the column whose header is clicked (by a cell's data-sort when it has one).
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  var COLOURS = { normal: "#2e7d32", warning: "#ed6c02", overdue: "#c62828", paused: "#607d8b" };

  function go(template, value) {
    if (template) { window.location.href = template.replace("__VALUE__", encodeURIComponent(value)); }
  }

  function draw(box) {
    if (!window.echarts) { return; }
    var spec = JSON.parse(box.getAttribute("data-chart"));
    var chart = window.echarts.init(box, null, { renderer: "svg" });
    var option;
    if (spec.kind === "daily") {
      option = {
        tooltip: { trigger: "axis" }, legend: { top: 0 },
        grid: { left: 40, right: 20, top: 30, bottom: 30 },
        xAxis: { type: "category", data: spec.days },
        yAxis: { type: "value", minInterval: 1 },
        series: spec.series.map(function (s) {
          return { name: s.name, type: s.type, data: s.data, smooth: true, color: s.colour };
        })
      };
    } else if (spec.kind === "pie") {
      option = {
        tooltip: { trigger: "item" }, legend: { bottom: 0 },
        series: [{ type: "pie", radius: ["35%", "65%"], data: spec.items.map(function (item) {
          return { name: item.name, value: item.value, code: item.code, itemStyle: { color: COLOURS[item.code] } };
        }) }]
      };
    } else {
      var unit = spec.unit || "";
      option = {
        tooltip: { trigger: "axis", valueFormatter: function (value) { return value + unit; } },
        legend: spec.series.length > 1 ? { top: 0 } : undefined,
        grid: { left: 10, right: 30, top: spec.series.length > 1 ? 30 : 10, bottom: 10, containLabel: true },
        xAxis: { type: "value", minInterval: 1, max: spec.max, axisLabel: { formatter: "{value}" + unit } },
        yAxis: { type: "category", data: spec.items.map(function (item) { return item.name; }), inverse: true },
        series: spec.series.map(function (s) {
          return { name: s.name, type: "bar", stack: s.stack || "total", data: s.data, color: s.colour };
        })
      };
    }
    chart.setOption(option);
    chart.on("click", function (event) {
      if (spec.kind === "daily") { go(spec.link, spec.days[event.dataIndex]); }
      else if (spec.kind === "pie") { go(spec.link, event.data.code); }
      else { go(spec.link, spec.items[event.dataIndex].code); }
    });
    window.addEventListener("resize", function () { chart.resize(); });
    box.setAttribute("data-rendered", "true");
  }

  function sortKey(cell) {
    var value = cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent.trim();
    var number = Number(value);
    return value !== "" && !isNaN(number) ? number : value;
  }

  function sortable(table) {
    var heads = Array.prototype.slice.call(table.querySelectorAll("thead th"));
    heads.forEach(function (head, column) {
      var button = document.createElement("button");
      button.type = "button";
      while (head.firstChild) { button.appendChild(head.firstChild); }
      head.appendChild(button);
      button.addEventListener("click", function () {
        var ascending = head.getAttribute("aria-sort") !== "ascending";
        heads.forEach(function (other) { other.removeAttribute("aria-sort"); });
        head.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows).filter(function (row) { return row.cells.length === heads.length; });
        rows.sort(function (a, b) {
          var x = sortKey(a.cells[column]), y = sortKey(b.cells[column]);
          var order = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y), "zh");
          return ascending ? order : -order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  }

  function heat(figure) {
    if (!window.BpmnJS) { return; }
    var steps = JSON.parse(figure.getAttribute("data-steps"));
    var most = steps.reduce(function (top, step) { return Math.max(top, step.waiting); }, 0) || 1;
    var viewer = new window.BpmnJS({ container: figure.querySelector(".canvas") });
    fetch(figure.getAttribute("data-url"), { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error(response.status); }
        return response.text();
      })
      .then(function (xml) { return viewer.importXML(xml); })
      .then(function () {
        var canvas = viewer.get("canvas");
        var overlays = viewer.get("overlays");
        var registry = viewer.get("elementRegistry");
        canvas.zoom("fit-viewport");
        steps.forEach(function (step) {
          if (!registry.get(step.step)) { return; }
          var badge = document.createElement("div");
          badge.className = "heat-badge";
          badge.style.background = "rgba(198, 40, 40, " + (0.25 + 0.75 * step.waiting / most).toFixed(2) + ")";
          badge.textContent = step.waiting + " · " + step.waiting_hours + "h";
          badge.title = step.label + ": " + step.waiting + " / " + step.waiting_hours + "h, " + step.done + " / " +
            step.done_hours + "h";
          overlays.add(step.step, { position: { top: -12, right: 12 }, html: badge });
        });
        figure.setAttribute("data-rendered", "true");
      })
      .catch(function () { figure.setAttribute("data-rendered", "failed"); });
  }

  document.querySelectorAll("[data-chart]").forEach(draw);
  document.querySelectorAll("figure.heatmap").forEach(heat);
  document.querySelectorAll("table.sortable").forEach(sortable);
})();
