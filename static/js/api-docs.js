// Draws the API documentation (Swagger UI, served by the portal itself) into #api-docs.
(function () {
  "use strict";
  function start() {
    var node = document.getElementById("api-docs");
    if (!node || typeof window.SwaggerUIBundle !== "function") {
      return;
    }
    window.SwaggerUIBundle({
      url: node.getAttribute("data-openapi-url"),
      domNode: node,
      presets: [window.SwaggerUIBundle.presets.apis],
      layout: "BaseLayout",
      deepLinking: true,
      // No request to the public validator: nothing leaves the portal.
      validatorUrl: null,
      supportedSubmitMethods: ["get"],
      defaultModelsExpandDepth: 0
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
