// In the field: each entry is kept on the phone first (outbox.js), then sent when there is a
// network; the list shows what waits, what was sent and the server's answer.
"use strict";
(function () {
  const root = document.getElementById("field");
  if (!root || !self.ecmbillOutbox) return;
  const outbox = self.ecmbillOutbox;
  const USER = root.dataset.user;
  const CSRF = root.dataset.csrf;
  const LAST = "ecmbill-field-last";

  function describe(form, body) {
    const member = body.member_id;
    const option = Array.from(document.querySelectorAll("#field-members option"))
      .find((o) => o.value === member);
    const who = option ? `${option.textContent} (${member})` : member;
    if (form.dataset.kind === "time") {
      const activity = form.querySelector("select[name=activity]");
      const what = activity.selectedIndex > 0 ? activity.options[activity.selectedIndex].text : "";
      return `Visit · ${who} · ${body.date} · ${body.minutes} min · ${what}`;
    }
    return `Outreach attempt · ${who} · ${body.date} · ${body.method.replace("_", " ")}`;
  }

  function bodyOf(form) {
    const body = {};
    for (const [name, value] of new FormData(form).entries()) body[name] = String(value).trim();
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
        return `Sent. Will bill${answer.code ? `: ${answer.code}` : ""}${modifiers ? ` ${modifiers}` : ""}.`;
      }
      if (answer.bills === false) {
        return `Sent. Will not bill: ${answer.reason || answer.reason_code || "see My time"}.`;
      }
      return "Sent. Saved.";
    }
    return entry.problem ? `Waiting to send (${entry.problem})` : "Waiting to send";
  }

  // A refused entry goes back into its form to be corrected and saved again.
  function correct(entry) {
    const form = document.querySelector(`form[data-kind="${entry.kind}"]`);
    refill(form, entry.body);
    outbox.remove(entry.key).then(show);
    form.querySelector("input").focus();
  }

  function refill(form, body) {
    for (const [name, value] of Object.entries(body)) {
      for (const input of form.querySelectorAll(`[name="${name}"]`)) {
        if (input.type === "radio") input.checked = input.value === value;
        else if (input.type === "checkbox") input.checked = value === "true";
        else input.value = value;
      }
    }
  }

  function button(text, action) {
    const made = document.createElement("button");
    made.type = "button";
    made.className = "quiet";
    made.textContent = text;
    made.addEventListener("click", action);
    return made;
  }

  async function show() {
    const list = document.getElementById("outbox");
    const entries = await outbox.all(USER);
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
      const label = document.createElement("strong");
      label.textContent = entry.label;
      const state = document.createElement("span");
      state.className = "state";
      state.textContent = answerText(entry);
      item.append(label, state);
      if (entry.status === "refused") item.append(button("Correct it", () => correct(entry)));
      if (entry.status === "sent") {
        item.append(button("Remove from list", () => outbox.remove(entry.key).then(show)));
      }
      list.append(item);
    }
    const network = document.getElementById("network");
    const waiting = entries.filter((entry) => entry.status === "waiting").length;
    const count = waiting ? ` ${waiting} waiting to send.` : "";
    network.textContent = navigator.onLine
      ? `Online: entries are sent as soon as they are saved.${count}`
      : `No network: entries are kept on this phone and sent when the network is back.${count}`;
    network.classList.toggle("offline", !navigator.onLine);
  }

  async function sync() {
    try {
      await outbox.sendWaiting(USER, CSRF);
    } finally {
      await show();
    }
  }

  async function save(event) {
    event.preventDefault();
    const form = event.target;
    if (!form.reportValidity()) return;
    const body = bodyOf(form);
    const entry = {
      key: outbox.newKey(),
      user: USER,
      kind: form.dataset.kind,
      body,
      label: describe(form, body),
      status: "waiting",
      created: new Date().toISOString(),
    };
    // The form is emptied before the entry is written to the phone, not after: what the user
    // types next while the write is on its way must not be wiped by this save's reset.
    if (entry.kind === "time") {
      localStorage.setItem(LAST, JSON.stringify({ activity: body.activity, modality: body.modality }));
    }
    form.reset();
    form.querySelector("input[name=date]").value = body.date;
    remembered();
    try {
      await outbox.put(entry);
    } catch (err) {
      refill(form, body);  // not kept on the phone: the entry goes back into its form
      throw err;
    }
    await show();
    if (navigator.onLine) await sync();
    if ("serviceWorker" in navigator && "SyncManager" in self) {
      navigator.serviceWorker.ready
        .then((registration) => registration.sync.register("ecmbill-outbox"))
        .catch(() => {});
    }
  }

  // The last activity and way of meeting, as most visits in a row are alike.
  function remembered() {
    let last = null;
    try { last = JSON.parse(localStorage.getItem(LAST) || "null"); } catch (err) { last = null; }
    if (!last) return;
    const form = document.querySelector('form[data-kind="time"]');
    if (last.activity) form.querySelector("select[name=activity]").value = last.activity;
    for (const radio of form.querySelectorAll("input[name=modality]")) {
      radio.checked = radio.value === last.modality;
    }
  }

  for (const form of document.querySelectorAll("form[data-kind]")) {
    form.addEventListener("submit", save);
  }
  document.getElementById("send-now").addEventListener("click", sync);
  self.addEventListener("online", sync);
  self.addEventListener("offline", show);
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.addEventListener("message", (event) => {
      if (event.data === "ecmbill-sent") show();
    });
  }
  setInterval(() => { if (navigator.onLine) sync(); }, 30000);
  // For the offline test and the curious: what is on this phone, and send it now.
  self.ecmbillField = { all: () => outbox.all(USER), sync };
  remembered();
  outbox.remember(USER, CSRF)
    .catch(() => {})
    .then(show)
    .then(() => { if (navigator.onLine) sync(); });
})();
