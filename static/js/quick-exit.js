/* Quick exit, in the pattern of GOV.UK's "Exit this page".
 * A click on the button, or Shift pressed three times within five seconds, covers the page at
 * once with a plain overlay and replaces the current history entry, so Back does not return
 * here. Screen readers hear how many more presses of Shift leave, and when the count expires.
 * If the browser brings the page back from its cache (Back, or Forward), it is shown as it was.
 * Without JavaScript the button is a plain link to the same neutral site. */
(function () {
  "use strict";
  var container = document.querySelector("[data-quick-exit-url]");
  if (!container) return;
  var destination = container.getAttribute("data-quick-exit-url");
  var button = container.querySelector("[data-quick-exit]");
  var status = container.querySelector("[data-quick-exit-status]");
  var title = document.title;
  var overlay = null;
  var PRESSES = 3;
  var WINDOW_MS = 5000;
  var presses = 0;
  var expiry = null;

  // The words, in the page's language, from the container's data- attributes (no inline
  // script, so the strict Content-Security-Policy holds); English if one is missing.
  function words(name, english) {
    return container.getAttribute("data-quick-exit-" + name) || english;
  }

  function say(text) {
    if (status) status.textContent = text;
  }

  function resetCount(announce) {
    if (expiry) window.clearTimeout(expiry);
    expiry = null;
    if (presses && announce) say(words("expired", "Exit this page expired."));
    presses = 0;
  }

  function exitPage(event) {
    if (event) event.preventDefault();
    resetCount(false);
    if (!overlay) {
      overlay = document.createElement("div");
      overlay.className = "quick-exit-overlay";
      document.body.appendChild(overlay);
    }
    document.documentElement.classList.add("quick-exit-active");
    document.title = words("title", "Loading");
    say("");
    window.location.replace(destination);
  }

  if (button) button.addEventListener("click", exitPage);

  document.addEventListener("keyup", function (event) {
    if (event.key !== "Shift") {
      resetCount(false);
      return;
    }
    presses += 1;
    if (presses >= PRESSES) {
      exitPage();
      return;
    }
    var left = PRESSES - presses;
    say(left === 1
      ? words("one-more", "Shift, press 1 more time to exit.")
      : words("more", "Shift, press {n} more times to exit.").replace("{n}", left));
    if (expiry) window.clearTimeout(expiry);
    expiry = window.setTimeout(function () { resetCount(true); }, WINDOW_MS);
  });

  // Restored from the back-forward cache: show the page again, as it was.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    document.documentElement.classList.remove("quick-exit-active");
    if (overlay) overlay.remove();
    overlay = null;
    document.title = title;
    resetCount(false);
    say("");
  });
  document.documentElement.classList.add("js");
})();
