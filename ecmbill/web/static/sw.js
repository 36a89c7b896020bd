// The service worker: keeps the field page, its script and styles on the phone so the page
// opens with no network after one visit online. Sends go to the API from the page itself
// and, when the phone offers background sync, from here too, with the page closed.
"use strict";
importScripts("/static/outbox.js");
const VERSION = "ecmbill-field-1";
const STATIC = `${VERSION}-static`;
const PAGES = "ecmbill-pages";
const SHELL = [
  "/static/app.css",
  "/static/htmx.min.js",
  "/static/field.js",
  "/static/field.css",
  "/static/outbox.js",
  "/static/register-sw.js",
  "/static/icon-192.png",
  "/static/icon.svg",
  "/manifest.webmanifest",
];
const FIELD_PAGE = "/field";

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(STATIC).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(
        names.filter((name) => name !== STATIC && name !== PAGES).map((name) => caches.delete(name))
      ))
      .then(() => self.clients.claim())
  );
});

async function fieldPage(request) {
  const cache = await caches.open(PAGES);
  try {
    const response = await fetch(request);
    // Only the page itself as a logged-in user sees it, never the login page it redirects to.
    if (response.ok && !response.redirected) await cache.put(FIELD_PAGE, response.clone());
    return response;
  } catch (err) {
    const kept = await cache.match(FIELD_PAGE);
    if (kept) return kept;
    throw err;
  }
}

async function staticFile(request) {
  const cache = await caches.open(STATIC);
  const kept = await cache.match(request);
  const fresh = fetch(request)
    .then((response) => {
      if (response.ok) cache.put(request, response.clone());
      return response;
    })
    .catch(() => undefined);
  return kept || (await fresh) || Response.error();
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname === FIELD_PAGE) {
    event.respondWith(fieldPage(request));
  } else if (url.pathname.startsWith("/static/") || url.pathname === "/manifest.webmanifest") {
    event.respondWith(staticFile(request));
  } else if (request.mode === "navigate") {
    // Any other page with no network: the field page, which works offline.
    event.respondWith(
      fetch(request).catch(async () => (await caches.open(PAGES)).match(FIELD_PAGE) || Response.error())
    );
  }
});

async function sendInBackground() {
  const outbox = self.ecmbillOutbox;
  const session = await outbox.session();
  if (!session) return;
  await outbox.sendWaiting(session.user, session.csrf);
  for (const client of await self.clients.matchAll({ type: "window" })) {
    client.postMessage("ecmbill-sent");
  }
  const left = (await outbox.all(session.user)).filter((e) => e.status === "waiting" && !e.problem);
  // Still no network: failing the sync makes the browser try again later.
  if (left.length) throw new Error("entries still waiting to send");
}

self.addEventListener("sync", (event) => {
  if (event.tag === "ecmbill-outbox") event.waitUntil(sendInBackground());
});
