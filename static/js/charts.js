/*
 * Draws every chart on the page with Chart.js (static/vendor/chartjs, loaded before this file).
 *
 * Each <figure data-chart="ID"> holds a canvas, a <script type="application/json" id="ID">
 * written by Django's json_script, a hidden "Show as table" button and the real <table> of the
 * same data. Without JavaScript (or without Chart.js) the table simply stays in view.
 *
 * Accessibility: dark colours with at least 3:1 contrast on white, a different fill pattern per
 * category and a value label drawn on each bar, slice or point (so no one needs colour to tell
 * them apart), and no animation for visitors who prefer reduced motion.
 */
(function () {
  "use strict";

  // Each has a contrast ratio of 4.5:1 or more against white.
  var PALETTE = [
    "#1d4f91", // blue
    "#b14a00", // burnt orange
    "#2e6b30", // green
    "#6a2c91", // purple
    "#a3134f", // raspberry
    "#00676b", // teal
    "#5c4033", // brown
    "#3d4a57", // slate
  ];
  var PATTERNS = ["solid", "diagonal", "dots", "cross", "vertical", "horizontal", "zigzag", "grid"];
  var POINT_STYLES = ["circle", "rect", "triangle", "rectRot", "star", "crossRot", "rectRounded", "cross"];
  var DASHES = [[], [6, 4], [2, 3], [10, 3, 2, 3]];
  var TEXT = "#1a1a1a";

  function reducedMotion() {
    return !!(window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches);
  }

  // A fill of one colour with a white pattern on it, so categories differ in more than colour.
  function patternFill(color, kind) {
    if (kind === "solid") return color;
    var size = 10;
    var tile = document.createElement("canvas");
    tile.width = size;
    tile.height = size;
    var c = tile.getContext("2d");
    c.fillStyle = color;
    c.fillRect(0, 0, size, size);
    c.strokeStyle = "rgba(255, 255, 255, 0.85)";
    c.fillStyle = "rgba(255, 255, 255, 0.85)";
    c.lineWidth = 2;
    c.beginPath();
    if (kind === "diagonal") {
      c.moveTo(0, size);
      c.lineTo(size, 0);
      c.moveTo(-2, 2);
      c.lineTo(2, -2);
      c.moveTo(size - 2, size + 2);
      c.lineTo(size + 2, size - 2);
      c.stroke();
    } else if (kind === "dots") {
      c.arc(size / 2, size / 2, 1.8, 0, 2 * Math.PI);
      c.fill();
    } else if (kind === "cross") {
      c.moveTo(0, 0);
      c.lineTo(size, size);
      c.moveTo(size, 0);
      c.lineTo(0, size);
      c.stroke();
    } else if (kind === "vertical") {
      c.moveTo(size / 2, 0);
      c.lineTo(size / 2, size);
      c.stroke();
    } else if (kind === "horizontal") {
      c.moveTo(0, size / 2);
      c.lineTo(size, size / 2);
      c.stroke();
    } else if (kind === "zigzag") {
      c.moveTo(0, size * 0.7);
      c.lineTo(size / 2, size * 0.3);
      c.lineTo(size, size * 0.7);
      c.stroke();
    } else if (kind === "grid") {
      c.moveTo(size / 2, 0);
      c.lineTo(size / 2, size);
      c.moveTo(0, size / 2);
      c.lineTo(size, size / 2);
      c.stroke();
    }
    return c.createPattern(tile, "repeat") || color;
  }

  function formatTick(value, unit) {
    // Digits grouped as the page's language writes them (in English "1,234"; in Spanish
    // "12 345", and "1234" without a separator), as the server formats the tables.
    var text = Number(value).toLocaleString(document.documentElement.lang || "en");
    return unit === "percent" ? text + "%" : text;
  }

  // Draws each value as text (from the dataset's preformatted "text") beside its bar, slice or
  // point, on a white box so it stays legible over any fill.
  var directLabels = {
    id: "directLabels",
    afterDatasetsDraw: function (chart, _args, pluginOptions) {
      var ctx = chart.ctx;
      var kind = pluginOptions.kind;
      var total = 0;
      chart.data.datasets.forEach(function (ds) {
        total += ds.data.filter(function (v) { return v !== null; }).length;
      });
      var crowded = total > 60;
      ctx.save();
      ctx.font = "600 12px system-ui, sans-serif";
      ctx.textBaseline = "middle";
      ctx.textAlign = "center";
      chart.data.datasets.forEach(function (ds, di) {
        var meta = chart.getDatasetMeta(di);
        if (meta.hidden) return;
        meta.data.forEach(function (el, i) {
          var text = ds.text && ds.text[i];
          if (!text || ds.data[i] === null) return;
          if (crowded && i !== ds.data.length - 1) return;
          var x, y;
          if (kind === "doughnut") {
            var pos = el.tooltipPosition();
            x = pos.x;
            y = pos.y;
          } else if (kind === "horizontal_bar") {
            x = el.x + 6 + ctx.measureText(text).width / 2;
            y = el.y;
          } else if (kind === "stacked_bar") {
            var c = el.getCenterPoint();
            x = c.x;
            y = c.y;
          } else {
            x = el.x;
            y = el.y - 12;
          }
          var w = ctx.measureText(text).width + 6;
          ctx.fillStyle = "rgba(255, 255, 255, 0.92)";
          ctx.fillRect(x - w / 2, y - 8, w, 16);
          ctx.fillStyle = TEXT;
          ctx.fillText(text, x, y);
        });
      });
      ctx.restore();
    },
  };

  function buildConfig(data) {
    var type = data.type;
    var doughnut = type === "doughnut";
    var line = type === "line";
    var horizontal = type === "horizontal_bar";
    var stacked = type === "stacked_bar";
    var datasets = data.datasets.map(function (ds, i) {
      var color = PALETTE[i % PALETTE.length];
      var set = { label: ds.label, data: ds.data, text: ds.text };
      if (doughnut) {
        set.backgroundColor = ds.data.map(function (_v, j) {
          return patternFill(PALETTE[j % PALETTE.length], PATTERNS[j % PATTERNS.length]);
        });
        set.borderColor = "#ffffff";
        set.borderWidth = 2;
      } else if (line) {
        set.borderColor = color;
        set.backgroundColor = color;
        set.borderDash = DASHES[i % DASHES.length];
        set.pointStyle = POINT_STYLES[i % POINT_STYLES.length];
        set.pointRadius = 5;
        set.spanGaps = false;
        set.fill = false;
      } else {
        set.backgroundColor = patternFill(color, PATTERNS[i % PATTERNS.length]);
        set.borderColor = color;
        set.borderWidth = 1;
      }
      return set;
    });
    var unit = data.unit;
    var valueAxis = {
      beginAtZero: true,
      ticks: { color: TEXT, callback: function (v) { return formatTick(v, unit); } },
      grid: { color: "#d0d0d0" },
      stacked: stacked,
    };
    // offset: a line of one or two years keeps its points (and their labels) clear of the axes.
    var categoryAxis = {
      ticks: { color: TEXT },
      grid: { display: false },
      stacked: stacked,
      offset: true,
    };
    var options = {
      responsive: true,
      maintainAspectRatio: true,
      aspectRatio: doughnut ? 1.6 : 2,
      animation: reducedMotion() ? false : { duration: 400 },
      layout: { padding: { top: 20, right: horizontal ? 48 : line ? 28 : 8 } },
      plugins: {
        legend: {
          display: doughnut || datasets.length > 1,
          labels: { color: TEXT, usePointStyle: line },
        },
        title: { display: false },
        directLabels: { kind: type },
        tooltip: {
          callbacks: {
            label: function (item) {
              var ds = item.dataset;
              var name = doughnut ? item.label : ds.label;
              return name + ": " + ((ds.text && ds.text[item.dataIndex]) || item.formattedValue);
            },
          },
        },
      },
    };
    if (!doughnut) {
      options.indexAxis = horizontal ? "y" : "x";
      options.scales = horizontal
        ? { x: valueAxis, y: categoryAxis }
        : { x: categoryAxis, y: valueAxis };
    }
    return {
      type: doughnut ? "doughnut" : line ? "line" : "bar",
      data: { labels: data.labels, datasets: datasets },
      options: options,
      plugins: [directLabels],
    };
  }

  function setUpToggle(figure) {
    var button = figure.querySelector("[data-chart-toggle]");
    var table = figure.querySelector("[data-chart-table]");
    if (!button || !table) return;
    table.hidden = true;
    button.hidden = false;
    button.setAttribute("aria-expanded", "false");
    button.addEventListener("click", function () {
      var show = table.hidden;
      table.hidden = !show;
      button.setAttribute("aria-expanded", show ? "true" : "false");
      // The words come from the button's data- attributes, in the page's language.
      button.textContent = show
        ? button.getAttribute("data-label-hide")
        : button.getAttribute("data-label-show");
    });
  }

  function draw(figure) {
    var script = document.getElementById(figure.getAttribute("data-chart"));
    var canvas = figure.querySelector("[data-chart-canvas]");
    if (!script || !canvas) return;
    var data;
    try {
      data = JSON.parse(script.textContent);
    } catch (e) {
      return; // leave the table in view
    }
    var config = buildConfig(data);
    new window.Chart(canvas, config);
    setUpToggle(figure);
  }

  function init() {
    if (typeof window.Chart === "undefined") return; // the tables stay in view
    if (reducedMotion()) window.Chart.defaults.animation = false;
    window.Chart.defaults.color = TEXT;
    var figures = document.querySelectorAll("figure[data-chart]");
    for (var i = 0; i < figures.length; i++) {
      try {
        draw(figures[i]);
      } catch (e) {
        // One broken chart must not stop the others; its table stays in view.
        if (window.console) window.console.error(e);
      }
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
