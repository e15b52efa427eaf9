// Starts Swagger UI on the docs page; a file of its own so the page's
// Content-Security-Policy needs no inline scripts.
window.ui = SwaggerUIBundle({
  url: "/api/v1/openapi.json",
  dom_id: "#docs",
  deepLinking: true,
  persistAuthorization: false,
  tryItOutEnabled: true,
  validatorUrl: null,
});
