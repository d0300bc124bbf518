/* Quick exit, in the pattern of GOV.UK's "Exit this page".
 * A click on the button, or Shift pressed three times within five seconds, blanks the page at
 * once and replaces the current history entry, so Back does not return here.
 * Without JavaScript the button is a plain link to the same neutral site. */
(function () {
  "use strict";
  var container = document.querySelector("[data-quick-exit-url]");
  if (!container) return;
  var destination = container.getAttribute("data-quick-exit-url");
  var button = container.querySelector("[data-quick-exit]");

  function exitPage(event) {
    if (event) event.preventDefault();
    document.documentElement.classList.add("quick-exit-active");
    // The title in the page's language, from the markup (no inline script: strict CSP).
    document.title = container.getAttribute("data-quick-exit-title") || "Loading";
    window.location.replace(destination);
  }

  if (button) button.addEventListener("click", exitPage);

  var presses = [];
  document.addEventListener("keyup", function (event) {
    if (event.key !== "Shift") {
      presses = [];
      return;
    }
    var now = Date.now();
    presses = presses.filter(function (t) { return now - t < 5000; });
    presses.push(now);
    if (presses.length >= 3) {
      presses = [];
      exitPage();
    }
  });
  document.documentElement.classList.add("js");
})();
