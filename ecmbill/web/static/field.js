// In the field: entries are kept on the phone (IndexedDB) first, then sent to the JSON API
// with a key of their own, so that a send repeated after a lost answer creates nothing new.
"use strict";
(function () {
  const root = document.getElementById("field");
  if (!root) return;
  const USER = root.dataset.user;
  const CSRF = root.dataset.csrf;
  const API = { time: "/api/time-entries", outreach: "/api/outreach" };
  const DB_NAME = "ecmbill-field";
  const STORE = "outbox";
  let sending = false;

  function openDb() {
    return new Promise((resolve, reject) => {
      const request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = () => {
        request.result.createObjectStore(STORE, { keyPath: "key" });
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }

  async function withStore(mode, work) {
    const db = await openDb();
    return new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const result = work(tx.objectStore(STORE));
      tx.oncomplete = () => { db.close(); resolve(result && result.result); };
      tx.onerror = () => { db.close(); reject(tx.error); };
    });
  }

  const put = (entry) => withStore("readwrite", (store) => store.put(entry));
  const remove = (key) => withStore("readwrite", (store) => store.delete(key));
  // Only this user's entries: another care manager logging in on the same phone neither
  // sees nor sends them.
  const all = async () =>
    ((await withStore("readonly", (store) => store.getAll())) || [])
      .filter((entry) => entry.user === USER)
      .sort((a, b) => a.created.localeCompare(b.created));

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function describe(form, body) {
    const member = body.member_id;
    const option = document.querySelector(`#field-members option[value="${CSS.escape(member)}"]`);
    const who = option ? `${option.textContent} (${member})` : member;
    if (form.dataset.kind === "time") {
      const activity = form.querySelector("select[name=activity]");
      const what = activity.selectedIndex > 0 ? activity.options[activity.selectedIndex].text : "";
      return `Visit · ${who} · ${body.date} · ${body.minutes} min · ${what}`;
    }
    return `Outreach attempt · ${who} · ${body.date} · ${body.method.replace("_", " ")}`;
  }

  function bodyOf(form) {
    const data = new FormData(form);
    const body = {};
    for (const [name, value] of data.entries()) body[name] = String(value).trim();
    if (form.dataset.kind === "outreach" && !("individualized" in body)) {
      body.individualized = "false";
    }
    return body;
  }

  function answerText(entry) {
    const answer = entry.answer || {};
    if (entry.status === "refused") return `Not saved: ${answer.detail || "refused"}`;
    if (entry.status === "sent") {
      if (answer.bills === true) {
        const modifiers = (answer.modifiers || []).join(" ");
        return `Sent. Will bill${answer.code ? `: ${answer.code}` : ""}${modifiers ? ` ${modifiers}` : ""}`;
      }
      if (answer.bills === false) return `Sent. Will not bill: ${answer.reason || answer.reason_code || ""}`;
      return "Sent. Saved.";
    }
    return entry.problem ? `Waiting to send (${entry.problem})` : "Waiting to send";
  }

  async function show() {
    const list = document.getElementById("outbox");
    const entries = await all();
    list.replaceChildren();
    if (!entries.length) {
      const none = document.createElement("li");
      none.className = "muted";
      none.textContent = "Nothing recorded on this phone yet.";
      list.append(none);
    }
    for (const entry of entries) {
      const item = document.createElement("li");
      item.className = `outbox-${entry.status}`;
      item.dataset.key = entry.key;
      const label = document.createElement("strong");
      label.textContent = entry.label;
      const state = document.createElement("span");
      state.className = "state";
      state.textContent = answerText(entry);
      item.append(label, state);
      if (entry.status !== "waiting") {
        const clear = document.createElement("button");
        clear.type = "button";
        clear.className = "link";
        clear.textContent = "Remove from list";
        clear.addEventListener("click", async () => { await remove(entry.key); show(); });
        item.append(clear);
      }
      list.append(item);
    }
    const network = document.getElementById("network");
    network.textContent = navigator.onLine
      ? "Online: entries are sent as soon as they are saved."
      : "No network: entries are kept on this phone and sent when the network is back.";
  }

  async function sendOne(entry) {
    let response;
    try {
      response = await fetch(API[entry.kind], {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          "X-CSRF-Token": CSRF,
          "Idempotency-Key": entry.key,
        },
        body: JSON.stringify(entry.body),
      });
    } catch (err) {
      return false; // no network: stays waiting
    }
    let answer = {};
    try { answer = await response.json(); } catch (err) { answer = {}; }
    if (response.status === 200 || response.status === 201) {
      Object.assign(entry, { status: "sent", answer, problem: "" });
    } else if (response.status === 400 || response.status === 422) {
      Object.assign(entry, { status: "refused", answer });
    } else if (response.status === 401 || response.status === 403) {
      entry.problem = "log in again to send";
      await put(entry);
      return false;
    } else {
      entry.problem = "the server could not take it yet";
      await put(entry);
      return true;
    }
    await put(entry);
    return true;
  }

  async function sync() {
    if (sending) return;
    sending = true;
    try {
      for (const entry of await all()) {
        if (entry.status !== "waiting") continue;
        if (!(await sendOne(entry))) break;
      }
    } finally {
      sending = false;
      await show();
    }
  }

  async function save(event) {
    event.preventDefault();
    const form = event.target;
    const body = bodyOf(form);
    const entry = {
      key: newKey(),
      user: USER,
      kind: form.dataset.kind,
      body,
      label: describe(form, body),
      status: "waiting",
      created: new Date().toISOString(),
    };
    await put(entry);
    const keep = { date: body.date };
    form.reset();
    form.querySelector("input[name=date]").value = keep.date;
    await show();
    if (navigator.onLine) await sync();
    if ("serviceWorker" in navigator && "SyncManager" in window) {
      navigator.serviceWorker.ready.then((reg) => reg.sync.register("ecmbill-outbox")).catch(() => {});
    }
  }

  for (const form of document.querySelectorAll("form[data-kind]")) form.addEventListener("submit", save);
  document.getElementById("send-now").addEventListener("click", sync);
  window.addEventListener("online", sync);
  window.addEventListener("offline", show);
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.addEventListener("message", (event) => {
      if (event.data === "ecmbill-sync") sync();
    });
  }
  setInterval(() => { if (navigator.onLine) sync(); }, 30000);
  // For the offline test and the curious: what is on this phone, and send it now.
  window.ecmbillOutbox = { all, sync };
  show().then(() => { if (navigator.onLine) sync(); });
})();
