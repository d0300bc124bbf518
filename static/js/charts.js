/*
 * Draws every chart on the page with Chart.js (static/vendor/chartjs), lazily.
 *
 * Each <figure data-chart="ID"> holds a canvas, a <script type="application/json" id="ID">
 * written by Django's json_script, a hidden "Show as table" button and the real <table> of the
 * same data. Without JavaScript (or without Chart.js) the table simply stays in view.
 *
 * Speed: this file is small and loaded only on pages with a chart. It loads Chart.js (its URL
 * is this script's data-chartjs attribute) when the first chart comes near the viewport, and
 * draws the charts as they come into view, one per animation frame, so no drawing is one long
 * task. A map (data-svg-map) is drawn by the server as SVG: this only adds its tooltip and PNG.
 *
 * Phone first: the plot has a height of its own (CSS, at least 240 px), labels are 12 px or
 * more, year labels never rotate (Chart.js skips some instead), bars of named categories turn
 * horizontal on a narrow screen, and the legend is an HTML list under the plot, so it never
 * takes the plot's room.
 *
 * Beside each chart: "Download PNG" (the chart with its title, legend and source, drawn in the
 * browser; nothing leaves the site) and copy buttons for the citation and embed code.
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
  var FONT_SIZE = 13; // px: every label on a chart is 12 px or more
  var FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
  var NARROW = 560; // px: below this, named categories are drawn as horizontal bars
  var script = document.currentScript;

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
    // Digits grouped as the page's language writes them, as toLocaleString would (in English
    // "1,234.5"; in Spanish "1.234,5"), at most 3 decimals.
    // Written out rather than asked of Intl: the first Intl call loads the browser's locale
    // data, a long task on a phone, before the first chart can be drawn.
    var spanish = (document.documentElement.lang || "en").slice(0, 2) === "es";
    var number = Math.round(Number(value) * 1000) / 1000;
    var parts = String(Math.abs(number)).split(".");
    var whole = parts[0];
    // Grouped as the table groups them (stats.store.formatting): in Spanish with a period, which
    // a screen reader reads as one number.
    whole = whole.replace(/\B(?=(\d{3})+(?!\d))/g, spanish ? "." : ",");
    var text = (number < 0 ? "-" : "") + whole + (parts[1] ? (spanish ? "," : ".") + parts[1] : "");
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
      ctx.font = "600 " + FONT_SIZE + "px " + FONT;
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

  // Long category names break into lines of about 16 characters, instead of rotating.
  function wrap(label) {
    var words = String(label).split(" ");
    var lines = [];
    var line = "";
    words.forEach(function (word) {
      if (line && (line + " " + word).length > 16) {
        lines.push(line);
        line = word;
      } else {
        line = line ? line + " " + word : word;
      }
    });
    if (line) lines.push(line);
    return lines.length > 1 ? lines : label;
  }

  function styleOf(type, i, count) {
    return {
      color: PALETTE[i % PALETTE.length],
      pattern: PATTERNS[i % PATTERNS.length],
      dash: DASHES[i % DASHES.length],
      point: POINT_STYLES[i % POINT_STYLES.length],
      line: type === "line",
    };
  }

  function buildConfig(data, width) {
    var type = data.type;
    var doughnut = type === "doughnut";
    var line = type === "line";
    var stacked = type === "stacked_bar";
    // Named categories (not years) on a narrow screen: horizontal bars keep their names whole.
    var horizontal =
      type === "horizontal_bar" || (!doughnut && !line && !data.years && width < NARROW);
    var datasets = data.datasets.map(function (ds, i) {
      var style = styleOf(type, i);
      var set = { label: ds.label, data: ds.data, text: ds.text };
      if (doughnut) {
        set.backgroundColor = ds.data.map(function (_v, j) {
          return patternFill(PALETTE[j % PALETTE.length], PATTERNS[j % PATTERNS.length]);
        });
        set.borderColor = "#ffffff";
        set.borderWidth = 2;
      } else if (line) {
        set.borderColor = style.color;
        set.backgroundColor = style.color;
        set.borderDash = style.dash;
        set.pointStyle = style.point;
        set.pointRadius = 5;
        set.spanGaps = false; // a year with nothing published is a gap in the line
        set.fill = false;
      } else {
        set.backgroundColor = patternFill(style.color, style.pattern);
        set.borderColor = style.color;
        set.borderWidth = 1;
      }
      return set;
    });
    var unit = data.unit;
    var ticks = { color: TEXT, font: { size: FONT_SIZE } };
    var valueAxis = {
      beginAtZero: true,
      ticks: {
        color: TEXT,
        font: { size: FONT_SIZE },
        callback: function (v) { return formatTick(v, unit); },
      },
      grid: { color: "#d0d0d0" },
      stacked: stacked,
      // The unit of every value, in the page's language ("Months", "Percent", "Count").
      title: { display: !!data.unit_label, text: data.unit_label || "", color: TEXT,
        font: { size: FONT_SIZE } },
    };
    // offset: a line of one or two years keeps its points (and their labels) clear of the axes.
    var categoryAxis = {
      ticks: Object.assign({}, ticks, {
        maxRotation: 0,
        minRotation: 0,
        autoSkip: true,
        autoSkipPadding: 8,
      }),
      grid: { display: false },
      stacked: stacked,
      offset: true,
    };
    var labels = data.years ? data.labels : data.labels.map(wrap);
    var options = {
      responsive: true,
      maintainAspectRatio: false, // the height comes from the CSS (at least 240 px)
      animation: reducedMotion() ? false : { duration: 400 },
      layout: { padding: { top: 20, right: horizontal ? 48 : line ? 28 : 8 } },
      plugins: {
        legend: { display: false }, // an HTML list under the plot instead
        title: { display: false },
        directLabels: { kind: horizontal && !stacked ? "horizontal_bar" : type },
        tooltip: {
          bodyFont: { size: FONT_SIZE },
          titleFont: { size: FONT_SIZE },
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
      data: { labels: labels, datasets: datasets },
      options: options,
      plugins: [directLabels],
      horizontal: horizontal,
    };
  }

  // The legend's entries: one per dataset, or one per slice of a doughnut.
  function legendEntries(data) {
    var type = data.type;
    if (type === "doughnut") {
      return data.labels.map(function (label, j) {
        return { label: label, style: styleOf(type, j) };
      });
    }
    if (data.datasets.length < 2) return [];
    return data.datasets.map(function (ds, i) {
      return { label: ds.label, style: styleOf(type, i) };
    });
  }

  function paintSwatch(ctx, style, x, y, w, h) {
    if (style.line) {
      ctx.save();
      ctx.strokeStyle = style.color;
      ctx.lineWidth = 3;
      ctx.setLineDash(style.dash);
      ctx.beginPath();
      ctx.moveTo(x, y + h / 2);
      ctx.lineTo(x + w, y + h / 2);
      ctx.stroke();
      ctx.restore();
      ctx.fillStyle = style.color;
      ctx.beginPath();
      ctx.arc(x + w / 2, y + h / 2, 4, 0, 2 * Math.PI);
      ctx.fill();
    } else {
      ctx.fillStyle = patternFill(style.color, style.pattern);
      ctx.fillRect(x, y, w, h);
    }
  }

  function drawLegend(figure, entries) {
    var list = figure.querySelector("[data-chart-legend]");
    if (!list || !entries.length) return;
    entries.forEach(function (entry) {
      var item = document.createElement("li");
      var swatch = document.createElement("canvas");
      swatch.width = 24;
      swatch.height = 14;
      swatch.className = "chart__swatch";
      swatch.setAttribute("aria-hidden", "true");
      paintSwatch(swatch.getContext("2d"), entry.style, 0, 0, 24, 14);
      item.appendChild(swatch);
      item.appendChild(document.createTextNode(entry.label));
      list.appendChild(item);
    });
    list.hidden = false;
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

  // Text lines broken to fit a width, for the PNG.
  function lines(ctx, text, width) {
    var out = [];
    var line = "";
    String(text).split(" ").forEach(function (word) {
      var next = line ? line + " " + word : word;
      if (line && ctx.measureText(next).width > width) {
        out.push(line);
        line = word;
      } else {
        line = next;
      }
    });
    if (line) out.push(line);
    return out;
  }

  function fileName(title, ext) {
    var slug = String(title || "chart").toLowerCase().replace(/[^a-z0-9]+/g, "-");
    return (slug.replace(/^-+|-+$/g, "").slice(0, 80) || "chart") + "." + ext;
  }

  // The chart as a PNG: title, the plot, its legend, source lines and where it is from.
  function chartImage(figure, chart, entries) {
    // The image shows the chart, not the point the pointer or the keyboard last picked.
    if (chart.tooltip && chart.tooltip.setActiveElements) {
      chart.setActiveElements([]);
      chart.tooltip.setActiveElements([], { x: 0, y: 0 });
      chart.update("none");
    }
    var scale = 2;
    var plot = chart.canvas;
    var width = chart.width || plot.clientWidth;
    var plotHeight = chart.height || plot.clientHeight;
    var pad = 16;
    var inner = width - 2 * pad;
    var measure = document.createElement("canvas").getContext("2d");
    var title = (figure.querySelector(".chart__title") || {}).textContent || "";
    var sources = Array.prototype.map.call(
      figure.querySelectorAll(".figure-sources__list li"),
      function (li) { return "Source: " + li.textContent.trim(); }
    );
    var link = figure.querySelector(".figure-actions__permalink");
    var footer = sources.concat(link ? [link.href] : []);
    measure.font = "700 18px " + FONT;
    var titleLines = lines(measure, title.trim(), inner);
    measure.font = FONT_SIZE + "px " + FONT;
    var footLines = [];
    footer.forEach(function (text) { footLines = footLines.concat(lines(measure, text, inner)); });
    var legendLines = entries.length;
    var height =
      pad + titleLines.length * 24 + 8 + plotHeight + legendLines * 20 + 8 +
      footLines.length * 18 + pad;
    var out = document.createElement("canvas");
    out.width = width * scale;
    out.height = height * scale;
    var ctx = out.getContext("2d");
    ctx.scale(scale, scale);
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, width, height);
    ctx.fillStyle = TEXT;
    ctx.textBaseline = "top";
    var y = pad;
    ctx.font = "700 18px " + FONT;
    titleLines.forEach(function (text) { ctx.fillText(text, pad, y); y += 24; });
    y += 8;
    ctx.drawImage(plot, 0, y, width, plotHeight);
    y += plotHeight;
    ctx.font = FONT_SIZE + "px " + FONT;
    entries.forEach(function (entry) {
      paintSwatch(ctx, entry.style, pad, y + 2, 24, 14);
      ctx.fillStyle = TEXT;
      ctx.fillText(entry.label, pad + 32, y + 2);
      y += 20;
    });
    y += 8;
    ctx.fillStyle = "#444444";
    footLines.forEach(function (text) { ctx.fillText(text, pad, y); y += 18; });
    return out;
  }

  function setUpPng(figure, chart, entries) {
    var button = figure.querySelector("[data-chart-png]");
    if (!button || !window.HTMLCanvasElement.prototype.toBlob) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      var title = (figure.querySelector(".chart__title") || {}).textContent;
      chartImage(figure, chart, entries).toBlob(function (blob) {
        if (!blob) return;
        var url = URL.createObjectURL(blob);
        var a = document.createElement("a");
        a.href = url;
        a.download = fileName(title, "png");
        document.body.appendChild(a);
        a.click();
        a.remove();
        setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
      }, "image/png");
    });
  }

  // Charts by keyboard: the plot takes focus; the arrow keys walk its points (Home and End
  // jump to the ends), each said through the figure's live region with its label, value,
  // unit, period and source; Escape leaves the plot for its figure.
  function pointText(data, point) {
    var set = data.datasets[point.datasetIndex];
    var value = (set.text && set.text[point.index]) || String(set.data[point.index]);
    var unit = data.unit === "count" && data.unit_label ? " (" + data.unit_label + ")" : "";
    var source = set.sources && set.sources[point.index];
    return [data.labels[point.index], set.label + ": " + value + unit, source]
      .filter(Boolean).join(", ");
  }

  function setUpKeys(figure, chart, data) {
    var canvas = chart.canvas;
    var points = [];
    data.labels.forEach(function (_label, index) {
      data.datasets.forEach(function (set, datasetIndex) {
        if (set.data[index] !== null && set.data[index] !== undefined) {
          points.push({ datasetIndex: datasetIndex, index: index });
        }
      });
    });
    if (!points.length) return;
    var live = document.createElement("p");
    live.className = "visually-hidden";
    live.setAttribute("aria-live", "polite");
    live.setAttribute("data-chart-live", "");
    figure.appendChild(live);
    canvas.tabIndex = 0;
    if (!figure.hasAttribute("tabindex")) figure.tabIndex = -1;
    var at = -1;
    canvas.addEventListener("keydown", function (event) {
      var keys = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 };
      if (event.key === "Escape") {
        chart.setActiveElements([]);
        chart.tooltip.setActiveElements([], { x: 0, y: 0 });
        chart.update("none");
        figure.focus();
        event.preventDefault();
        return;
      }
      if (event.key === "Home") at = 0;
      else if (event.key === "End") at = points.length - 1;
      else if (keys[event.key]) at = Math.min(points.length - 1, Math.max(0, at + keys[event.key]));
      else return;
      event.preventDefault();
      var point = points[at];
      chart.setActiveElements([point]);
      chart.tooltip.setActiveElements([point], { x: 0, y: 0 });
      chart.update("none");
      live.textContent = pointText(data, point);
    });
  }

  function draw(figure) {
    var data = JSON.parse(document.getElementById(figure.getAttribute("data-chart")).textContent);
    var canvas = figure.querySelector("[data-chart-canvas]");
    var box = canvas.parentNode;
    var config = buildConfig(data, box.clientWidth);
    if (config.horizontal) {
      // A bar per row (and per series), each tall enough for a 13 px label.
      var bars = data.labels.length * Math.max(1, data.datasets.length);
      box.style.height = Math.max(240, 60 + bars * 30) + "px";
    }
    var chart = new window.Chart(canvas, config);
    var entries = legendEntries(data);
    drawLegend(figure, entries);
    setUpToggle(figure);
    setUpPng(figure, chart, entries);
    setUpKeys(figure, chart, data);
    figure.setAttribute("data-chart-drawn", "true");
  }

  // Copy buttons (citation, embed code), and today's date in each citation.
  var status;
  function announce(text) {
    if (!status) {
      status = document.createElement("p");
      status.className = "chart-status";
      status.setAttribute("role", "status");
      document.body.appendChild(status);
    }
    status.textContent = text;
  }

  function copy(text, done) {
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { fallbackCopy(text, done); });
    } else {
      fallbackCopy(text, done);
    }
  }

  // Set from the button being used (its data-copy-failed), in the page's language.
  var copyFailed = "Select the text and copy it.";

  function fallbackCopy(text, done) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "chart-status";
    document.body.appendChild(area);
    area.select();
    try {
      document.execCommand("copy");
      done();
    } catch (e) {
      announce(copyFailed);
    }
    area.remove();
  }

  // A citation's "retrieved" date is today's, in the page's language. It is written when its
  // "Cite this" opens, not at load: the first date formatting loads the browser's locale data,
  // a long task on a phone, and most visitors never open a citation.
  var today = null;
  function dateRetrieved(root) {
    if (!today) {
      today = new Date().toLocaleDateString(document.documentElement.lang || "en", {
        year: "numeric", month: "long", day: "numeric",
      });
    }
    Array.prototype.forEach.call(root.querySelectorAll("[data-retrieved]"), function (el) {
      el.textContent = today;
    });
  }

  function showCopied(button, copied) {
    if (!button.hasAttribute("data-label")) button.setAttribute("data-label", button.textContent);
    button.textContent = copied;
    button.classList.add("is-copied");
    clearTimeout(button.copiedTimer);
    button.copiedTimer = setTimeout(function () {
      button.textContent = button.getAttribute("data-label");
      button.classList.remove("is-copied");
    }, 4000);
  }

  function setUpCopy(root) {
    // "toggle" does not bubble: listen in the capture phase for every <details> at once.
    root.addEventListener("toggle", function (event) {
      if (event.target.open) dateRetrieved(event.target);
    }, true);
    Array.prototype.forEach.call(root.querySelectorAll("[data-copy]"), function (button) {
      var target = document.getElementById(button.getAttribute("data-copy"));
      if (!target) return;
      button.hidden = false;
      button.addEventListener("click", function () {
        dateRetrieved(target.parentNode);
        copyFailed = button.getAttribute("data-copy-failed") || copyFailed;
        var text = target.value !== undefined ? target.value : target.textContent;
        copy(text.replace(/\s+/g, " ").trim(), function () {
          // The words come from the button's data- attribute, in the page's language: said
          // through the live region and shown on the button itself for a few seconds.
          var copied = button.getAttribute("data-copied") || "Copied.";
          announce(copied);
          showCopied(button, copied);
        });
      });
    });
  }

  // Lazy drawing: Chart.js is fetched when the first chart nears the viewport, then charts are
  // drawn one per animation frame, as they come into view.
  var queue = [];
  var loading = null;
  var scheduled = false;

  function loadScript(src) {
    return new Promise(function (resolve, reject) {
      var tag = document.createElement("script");
      tag.src = src;
      tag.onload = resolve;
      tag.onerror = reject;
      document.head.appendChild(tag);
    });
  }

  function libraries() {
    if (!loading) {
      var chartjs = script && script.getAttribute("data-chartjs");
      loading = window.Chart ? Promise.resolve() : loadScript(chartjs);
      loading = loading.then(function () {
        if (reducedMotion()) window.Chart.defaults.animation = false;
        window.Chart.defaults.color = TEXT;
        window.Chart.defaults.font.size = FONT_SIZE;
        window.Chart.defaults.font.family = FONT;
      });
    }
    return loading;
  }

  // The map is drawn by the server as an inline SVG (each state's class from the store). This
  // only adds a tooltip that follows the pointer and the PNG (the SVG drawn onto a canvas).
  function setUpMap(figure) {
    var svg = figure.querySelector("[data-map-svg]");
    if (!svg) return;
    var box = svg.parentNode;
    var tip = document.createElement("div");
    tip.className = "map__tooltip";
    tip.setAttribute("aria-hidden", "true");
    tip.hidden = true;
    box.appendChild(tip);
    Array.prototype.forEach.call(svg.querySelectorAll("path"), function (path) {
      var title = path.querySelector("title");
      if (!title) return;
      path.setAttribute("data-tip", title.textContent);
      title.remove(); // one tooltip, not the browser's as well
    });
    svg.addEventListener("pointermove", function (event) {
      var text = event.target.getAttribute && event.target.getAttribute("data-tip");
      if (!text) { tip.hidden = true; return; }
      var where = box.getBoundingClientRect();
      tip.textContent = text;
      tip.style.left = (event.clientX - where.left + 12) + "px";
      tip.style.top = (event.clientY - where.top + 12) + "px";
      tip.hidden = false;
    });
    svg.addEventListener("pointerleave", function () { tip.hidden = true; });
    var image = new Image();
    image.onload = function () {
      var plot = document.createElement("canvas");
      plot.width = svg.clientWidth * 2;
      plot.height = svg.clientHeight * 2;
      plot.getContext("2d").drawImage(image, 0, 0, plot.width, plot.height);
      setUpPng(figure, { canvas: plot, width: svg.clientWidth, height: svg.clientHeight },
        mapKey(figure));
    };
    var markup = new XMLSerializer().serializeToString(svg);
    image.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(markup);
  }

  // The map's key, as the PNG draws it under the map: each class's fill and its values.
  function mapKey(figure) {
    return Array.prototype.map.call(
      figure.querySelectorAll("[data-map-legend] li"),
      function (item) {
        return {
          style: {
            color: item.getAttribute("data-legend-fill"),
            pattern: item.getAttribute("data-legend-pattern") || "solid",
          },
          label: item.textContent.trim(),
        };
      }
    );
  }

  function drawNext() {
    scheduled = false;
    var figure = queue.shift();
    if (!figure) return;
    try {
      draw(figure);
    } catch (e) {
      // One broken chart must not stop the others; its table stays in view.
      if (window.console) window.console.error(e);
    }
    schedule();
  }

  function schedule() {
    if (scheduled || !queue.length) return;
    scheduled = true;
    window.requestAnimationFrame(function () { setTimeout(drawNext, 0); });
  }

  function enqueue(figure) {
    if (figure.getAttribute("data-chart-queued")) return;
    figure.setAttribute("data-chart-queued", "true");
    queue.push(figure);
    libraries().then(schedule, function () { /* no Chart.js: the tables stay in view */ });
  }

  function init() {
    setUpCopy(document);
    Array.prototype.forEach.call(document.querySelectorAll("figure[data-svg-map]"), setUpMap);
    var figures = document.querySelectorAll("figure[data-chart]");
    if (!figures.length || !window.Promise) return;
    if (!("IntersectionObserver" in window)) {
      Array.prototype.forEach.call(figures, enqueue);
      return;
    }
    var observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (!entry.isIntersecting) return;
        observer.unobserve(entry.target);
        enqueue(entry.target);
      });
    }, { rootMargin: "300px 0px" });
    Array.prototype.forEach.call(figures, function (f) { observer.observe(f); });
    // Printing shows every chart.
    window.addEventListener("beforeprint", function () {
      Array.prototype.forEach.call(figures, enqueue);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
