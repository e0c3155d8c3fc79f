// The invitation page's "Accept" button: an empty POST to the page's own
// address (the accept route of API 1), then the outcome in #result.
// Values are shown with textContent only, never as HTML.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const button = document.getElementById("accept");
  const result = document.getElementById("result");
  if (!button || !result) {
    return;
  }
  const show = (text, kind) => {
    result.textContent = text;
    result.className = kind;
  };
  button.addEventListener("click", async () => {
    button.disabled = true;
    show("Accepting…", "muted");
    try {
      const response = await fetch(window.location.pathname, {
        method: "POST",
        headers: { Accept: "application/json" },
        credentials: "omit",
        cache: "no-store",
      });
      const body = await response.json().catch(() => null);
      if (response.ok) {
        show("Accepted: your user is active now.", "ok");
        return;
      }
      const message =
        body && body.error && body.error.message
          ? body.error.message
          : `the server answered ${response.status}`;
      show(`Not accepted: ${message}`, "error");
      // 404 and 410 are final; anything else may be worth another try.
      button.disabled = response.status === 404 || response.status === 410;
    } catch (error) {
      show(`The server could not be reached: ${error.message}`, "error");
      button.disabled = false;
    }
  });
});
