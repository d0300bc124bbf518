// The import record page while a background task checks or imports the file: reload it every
// two seconds until the task is done (the element carrying data-import-pending is gone then).
(function () {
    "use strict";
    if (document.querySelector("[data-import-pending]")) {
        window.setTimeout(function () { window.location.reload(); }, 2000);
    }
})();
