// The outbox: entries recorded in the field, kept on the phone (IndexedDB) until the server
// has them. Shared by the field page and the service worker (background sync), so either can
// send; each entry carries its own Idempotency-Key, so a send repeated by both, or after an
// answer lost on the way back, creates nothing new on the server.
"use strict";
(function (scope) {
  const DB_NAME = "ecmbill-field";
  const ENTRIES = "outbox";
  const META = "meta";
  const API = { time: "/api/time-entries", outreach: "/api/outreach" };

  function openDb() {
    return new Promise((resolve, reject) => {
      const request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = () => {
        request.result.createObjectStore(ENTRIES, { keyPath: "key" });
        request.result.createObjectStore(META, { keyPath: "id" });
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }

  async function withStore(name, mode, work) {
    const db = await openDb();
    return new Promise((resolve, reject) => {
      const tx = db.transaction(name, mode);
      const request = work(tx.objectStore(name));
      tx.oncomplete = () => { db.close(); resolve(request && request.result); };
      tx.onerror = () => { db.close(); reject(tx.error); };
    });
  }

  const put = (entry) => withStore(ENTRIES, "readwrite", (store) => store.put(entry));
  const remove = (key) => withStore(ENTRIES, "readwrite", (store) => store.delete(key));

  // Only one user's entries: another care manager logging in on the same phone neither sees
  // nor sends them.
  async function all(user) {
    const entries = (await withStore(ENTRIES, "readonly", (store) => store.getAll())) || [];
    return entries
      .filter((entry) => entry.user === user)
      .sort((a, b) => a.created.localeCompare(b.created));
  }

  // Who is logged in on this phone and the session's CSRF token, for a background send.
  const remember = (user, csrf) =>
    withStore(META, "readwrite", (store) => store.put({ id: "session", user, csrf }));
  const session = () => withStore(META, "readonly", (store) => store.get("session"));

  function newKey() {
    if (scope.crypto && crypto.randomUUID) return crypto.randomUUID();
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // Sends one entry; false when sending should stop for now (no network, logged out).
  async function sendOne(entry, csrf) {
    let response;
    try {
      response = await fetch(API[entry.kind], {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          "X-CSRF-Token": csrf,
          "Idempotency-Key": entry.key,
        },
        body: JSON.stringify(entry.body),
      });
    } catch (err) {
      return false;
    }
    let answer = {};
    try { answer = await response.json(); } catch (err) { answer = {}; }
    if (response.status === 200 || response.status === 201) {
      Object.assign(entry, { status: "sent", answer, problem: "" });
    } else if (response.status === 400 || response.status === 422) {
      Object.assign(entry, { status: "refused", answer, problem: "" });
    } else if (response.status === 401 || response.status === 403) {
      entry.problem = "log in again to send";
      await put(entry);
      return false;
    } else {
      entry.problem = "the server could not take it yet";
    }
    await put(entry);
    return true;
  }

  let sending = null;
  // Sends every waiting entry of ``user``, oldest first; one run at a time per page or worker.
  function sendWaiting(user, csrf) {
    if (sending) return sending;
    sending = (async () => {
      try {
        for (const entry of await all(user)) {
          if (entry.status !== "waiting") continue;
          if (!(await sendOne(entry, csrf))) break;
        }
      } finally {
        sending = null;
      }
    })();
    return sending;
  }

  scope.ecmbillOutbox = { all, put, remove, newKey, remember, session, sendWaiting };
})(self);
