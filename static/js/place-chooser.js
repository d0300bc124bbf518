/*
 * The data page's place chooser: a text input (name="jurisdiction") that, as a place is typed,
 * lists the places with figures that match, from the portal's /data/places/ (same origin),
 * as an ARIA combobox: Down and Up move through the list, Enter chooses, Escape closes.
 * Choosing writes "Name (CODE)" into the input, which the download reads. Without this
 * script the input is a plain text field: a name or a code typed and submitted works too.
 */
(function () {
  "use strict";

  function setUp(input) {
    if (input.getAttribute("data-place-ready")) return;
    input.setAttribute("data-place-ready", "true");
    var url = input.getAttribute("data-place-chooser");
    var list = document.createElement("ul");
    list.id = input.id + "-list";
    list.className = "place-chooser__list";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", (input.labels && input.labels[0] || {}).textContent || "");
    list.hidden = true;
    input.parentNode.appendChild(list);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", list.id);
    var active = -1, timer = null, asked = 0;

    function options() { return list.querySelectorAll("[role=option]"); }

    function close() {
      list.hidden = true;
      active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }

    function mark(index) {
      var all = options();
      if (!all.length) return;
      active = (index + all.length) % all.length;
      Array.prototype.forEach.call(all, function (o, i) {
        o.setAttribute("aria-selected", i === active ? "true" : "false");
      });
      input.setAttribute("aria-activedescendant", all[active].id);
      all[active].scrollIntoView({ block: "nearest" });
    }

    function choose(option) {
      input.value = option.getAttribute("data-value");
      close();
    }

    function show(places) {
      list.textContent = "";
      places.forEach(function (p, i) {
        var item = document.createElement("li");
        item.id = list.id + "-" + i;
        item.setAttribute("role", "option");
        item.setAttribute("aria-selected", "false");
        item.setAttribute("data-value", p.name + " (" + p.code + ")");
        item.textContent = p.name + " (" + p.code + ")";
        item.addEventListener("mousedown", function (e) { e.preventDefault(); choose(item); });
        list.appendChild(item);
      });
      if (!places.length) {
        var none = document.createElement("li");
        none.className = "place-chooser__none";
        none.textContent = input.getAttribute("data-none");
        list.appendChild(none);
      }
      list.hidden = false;
      active = -1;
      input.setAttribute("aria-expanded", "true");
    }

    function ask() {
      var text = input.value.trim();
      if (!text) { close(); return; }
      var mine = ++asked;
      fetch(url + "&q=" + encodeURIComponent(text), { credentials: "omit" })
        .then(function (r) { return r.ok ? r.json() : { places: [] }; })
        .then(function (data) { if (mine === asked) show(data.places || []); })
        .catch(function () { /* the plain text field still works */ });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(ask, 150);
    });
    input.addEventListener("keydown", function (e) {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        if (list.hidden) { ask(); return; }
        e.preventDefault();
        mark(active + (e.key === "ArrowDown" ? 1 : -1));
      } else if (e.key === "Enter" && !list.hidden && active >= 0) {
        e.preventDefault(); // choose, do not submit yet
        choose(options()[active]);
      } else if (e.key === "Escape" && !list.hidden) {
        e.preventDefault();
        close();
      }
    });
    input.addEventListener("blur", function () { setTimeout(close, 0); });
  }

  function init() {
    if (!window.fetch) return;
    Array.prototype.forEach.call(document.querySelectorAll("input[data-place-chooser]"), setUp);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
