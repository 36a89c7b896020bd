// Installs the service worker that keeps the field page usable without signal.
"use strict";
if ("serviceWorker" in navigator) {
  window.addEventListener("load", () => {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {});
  });
  // Logged out (the login page): the copy of the field page, which lists members, is dropped.
  if (document.body && !document.body.hasAttribute("hx-headers") && window.caches) {
    caches.delete("ecmbill-pages").catch(() => {});
  }
}
