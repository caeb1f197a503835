// The dashboard's charts (templates/reports/dashboard.html), drawn with Chart.js from the tables beside them: the
// tables are the numbers (and what a screen reader reads); the charts only show them. No inline script (CSP).
(function () {
  "use strict";

  var COLOURS = {
    removed: "#1a7f37", restricted: "#5fa8d3", declined: "#cf222e", awaiting: "#bf8700", failed: "#6e7781",
    withdrawn: "#8250df", ack_within_sla_share: "#0969da", removed_within_sla_share: "#1a7f37",
    orders_within_hour_share: "#bf3989"
  };

  function headerSeries(table) {
    var series = [];
    table.querySelectorAll("thead th").forEach(function (th, index) {
      if (th.dataset.series) {
        series.push({ key: th.dataset.series, label: th.textContent.trim(), index: index });
      }
    });
    return series;
  }

  function cellNumber(cell, fromData) {
    var raw = fromData ? cell.dataset.value : cell.textContent;
    var value = parseFloat(raw);
    return isNaN(value) ? null : value;
  }

  function perDay() {
    var table = document.getElementById("per-day-table");
    var canvas = document.getElementById("per-day-chart");
    if (!table || !canvas) { return; }
    var series = headerSeries(table);
    var rows = Array.prototype.slice.call(table.querySelectorAll("tbody tr"));
    var labels = rows.map(function (row) { return row.cells[0].textContent.trim(); });
    var datasets = series.map(function (s) {
      return {
        label: s.label, backgroundColor: COLOURS[s.key], stack: "outcome",
        data: rows.map(function (row) { return cellNumber(row.cells[s.index], false); })
      };
    });
    return new window.Chart(canvas, {
      type: "bar", data: { labels: labels, datasets: datasets },
      options: { animation: false, responsive: true, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } }
    });
  }

  function perPlatform() {
    var table = document.getElementById("per-platform-table");
    var canvas = document.getElementById("per-platform-chart");
    if (!table || !canvas) { return; }
    var series = headerSeries(table);
    var rows = Array.prototype.slice.call(table.querySelectorAll("tbody tr")).filter(function (row) {
      return !row.dataset.total;
    });
    var labels = rows.map(function (row) { return row.cells[0].textContent.trim(); });
    var datasets = series.map(function (s) {
      return {
        label: s.label + " (%)", backgroundColor: COLOURS[s.key],
        data: rows.map(function (row) {
          var value = cellNumber(row.cells[s.index], true);
          return value === null ? null : Math.round(value * 1000) / 10;
        })
      };
    });
    return new window.Chart(canvas, {
      type: "bar", data: { labels: labels, datasets: datasets },
      options: { animation: false, responsive: true, scales: { y: { beginAtZero: true, max: 100 } } }
    });
  }

  function draw() {
    if (!window.Chart) { return; }  // the tables stand on their own
    perDay();
    perPlatform();
    document.body.dataset.chartsReady = "1";
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
