// The API reference at /api/docs: Swagger UI (served by WildID, static/vendor) over the
// server's own OpenAPI document. "Try it out" runs as whoever is signed in in this browser:
// state-changing requests get the session's anti-forgery token, as the site's own forms do.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  if (!root || typeof window.SwaggerUIBundle !== "function") return;
  var token = null;
  function csrfToken() {
    if (token) return Promise.resolve(token);
    return fetch("/api/security/status", { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (status) { token = status.csrf_token; return token; });
  }
  window.SwaggerUIBundle({
    url: root.getAttribute("data-document"),
    domNode: root,
    deepLinking: true,
    // No call to the public validator: nothing leaves for another origin.
    validatorUrl: null,
    defaultModelsExpandDepth: 0,
    requestInterceptor: function (request) {
      var method = (request.method || "GET").toUpperCase();
      if (method === "GET" || method === "HEAD") return request;
      return csrfToken().then(function (t) {
        request.headers["X-CSRF-Token"] = t;
        return request;
      });
    },
  });
})();
