// ReDoc for this server's /openapi.json. A separate file (not an inline
// script) so the page's Content-Security-Policy can forbid inline scripts.
window.addEventListener("load", function () {
  Redoc.init("openapi.json", { hideDownloadButton: false }, document.getElementById("redoc"));
});
