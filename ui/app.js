// Keyport's window. Talks to Rust only through Keyport's own commands and events; it
// never sees a token (copying happens in Rust). Errors arrive as {code, message, actions}:
// the message is a sentence for people, the code is one of the engine's stable names, and
// the actions are what to do next, offered as buttons where the window can do them.
//
// The window knows no vendor: the vendors, their fields and their wording come from
// info(), and the Connect and Add forms are built from them.

const { invoke } = window.__TAURI__.core;
const { listen } = window.__TAURI__.event;

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];

const STATUS_LABEL = {
  valid: "Valid",
  expiring_soon: "Expiring soon",
  expired: "Expired",
  needs_reconnect: "Needs reconnect",
  refresh_failed: "Refresh failed",
};

const state = {
  list: [],
  info: null,
  registrations: [],
  loaded: false,
  // The running connect attempt: {id, name} once connect_start answered.
  attempt: null,
  starting: false,
  early: [], // events that arrived before connect_start answered
  cancelling: false,
  // The open Connect form: the chosen vendor and, per vendor chosen since it opened, its
  // built fields (kept while the dialog is open, so switching back keeps what was typed).
  connect: { vendor: null, replace: false, nameTouched: false, clientId: null, boxes: new Map() },
  add: { vendor: null, replace: false, nameTouched: false, view: null, boxes: new Map() },
  revokeName: null,
  // The open Edit form: the connection and the values it was opened with.
  edit: { name: null, initial: {} },
};

/** The sentence to show for anything a command rejected with. */
function sentence(e) {
  if (e && typeof e === "object" && typeof e.message === "string") return e.message;
  if (typeof e === "string") return e;
  return "Something went wrong in the window. Close Keyport and open it again.";
}

function show(el, on = true) { el.hidden = !on; }

/** Shows `e`'s sentence in `el`, then buttons for the actions the window can take. */
function showError(el, e, ctx = {}) {
  el.replaceChildren();
  if (e) {
    el.append(sentence(e));
    for (const b of actionButtons(e, ctx)) el.append(" ", b);
  }
  show(el, !!e);
}

function hasAction(e, kind) {
  return !!e && typeof e === "object" && Array.isArray(e.actions) && e.actions.some((a) => a.kind === kind);
}

function closeDialogs() {
  for (const d of $$("dialog")) if (d.open) d.close();
}

/**
 * Buttons for an error's actions: `reconnect` and `reissue` open the connection's
 * Reconnect or Replace-token form; `replace` turns the open form into a
 * replace (ctx.replace); `force_revoke` offers "Remove here anyway" (the Revoke dialog has
 * its own button for it). The rest (`retry`, `fix_input`, …) are for the user: no button.
 */
function actionButtons(e, ctx) {
  if (!e || typeof e !== "object" || !Array.isArray(e.actions)) return [];
  const out = [];
  const seen = new Set();
  for (const a of e.actions) {
    const name = a.name || ctx.name || null;
    const v = name ? viewOf(name) : null;
    let b = null;
    switch (a.kind) {
      case "reconnect":
      case "reissue":
        if (v && !seen.has(`open ${name}`)) {
          seen.add(`open ${name}`);
          const label = v.kind === "oauth" ? `Reconnect '${name}'` : `Replace the token of '${name}'…`;
          b = button(label, "small", () => { closeDialogs(); openReplace(name); });
        }
        break;
      case "replace":
        if (ctx.replace && !seen.has("replace")) {
          seen.add("replace");
          b = button(name ? `Replace '${name}'` : "Replace it", "small", ctx.replace);
        }
        break;
      case "force_revoke":
        if (!ctx.inRevoke && v && !seen.has("force")) {
          seen.add("force");
          b = button("Remove here anyway…", "small danger-outline", () => { closeDialogs(); openRevoke(v, true); });
        }
        break;
    }
    if (b) { b.dataset.errorAction = a.kind; out.push(b); }
  }
  return out;
}

// ---------------------------------------------------------------- global error & toasts

function pageError(e, ctx = {}) {
  const box = $("#error");
  box.replaceChildren();
  if (!e) { show(box, false); return; }
  const msg = document.createElement("span");
  msg.className = "msg";
  msg.textContent = sentence(e);
  box.append(msg);
  for (const b of actionButtons(e, ctx)) {
    b.addEventListener("click", () => pageError(null));
    box.append(" ", b);
  }
  const close = button("Dismiss", "icon small", () => pageError(null));
  close.setAttribute("aria-label", "Dismiss the error");
  close.textContent = "✕";
  box.append(" ", close);
  show(box, true);
}

function toast(text, bad = false, ms = 6000) {
  const t = document.createElement("div");
  t.className = bad ? "toast bad" : "toast";
  t.textContent = text;
  $("#toasts").append(t);
  setTimeout(() => t.remove(), ms);
}

function button(label, cls, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  if (cls) b.className = cls;
  if (onClick) b.addEventListener("click", onClick);
  return b;
}

// ---------------------------------------------------------------- time

const now = () => Math.floor(Date.now() / 1000);
const pad = (n) => String(n).padStart(2, "0");

function span(secs) {
  if (secs < 3600) return `${Math.floor(secs / 60)}:${pad(secs % 60)}`;
  if (secs < 2 * 86400) return `${Math.floor(secs / 3600)} h ${pad(Math.floor((secs % 3600) / 60))} min`;
  return `${Math.floor(secs / 86400)} days`;
}

function roughAgo(secs) {
  if (secs < 60) return "just now";
  if (secs < 3600) return `${Math.floor(secs / 60)} min ago`;
  if (secs < 2 * 86400) return `${Math.floor(secs / 3600)} h ago`;
  return `${Math.floor(secs / 86400)} days ago`;
}

function timeLeft(expiresAt) {
  if (expiresAt == null) return { big: "", label: "no expiry date" };
  const s = expiresAt - now();
  if (s <= 0) return { big: "Expired", label: roughAgo(-s) };
  return { big: span(s), label: "left" };
}

function when(ts) {
  const d = new Date(ts * 1000);
  const today = new Date();
  const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  if (d.toDateString() === today.toDateString()) return hm;
  return `${d.toLocaleDateString()} ${hm}`;
}

// ---------------------------------------------------------------- the list

let loading = null;
let reloadAgain = false;

async function reload() {
  if (loading) { reloadAgain = true; return loading; }
  loading = (async () => {
    try {
      state.list = await invoke("list");
      render();
    } catch (e) {
      pageError(e);
    } finally {
      loading = null;
      if (reloadAgain) { reloadAgain = false; reload(); }
    }
  })();
  return loading;
}

function render() {
  const ul = $("#connections");
  const focused = document.activeElement;
  const keep = focused && focused.closest("[data-connection]")
    ? { name: focused.closest("[data-connection]").dataset.connection, action: focused.dataset.action }
    : null;

  // Keep a row's element when nothing in it changed, so a click or focus is never lost
  // to a reload that changed nothing (the store watcher fires after every write).
  const old = new Map($$(":scope > li", ul).map((li) => [li.dataset.connection, li]));
  const rows = state.list.map((v) => {
    const fresh = row(v);
    const prev = old.get(v.name);
    if (prev && prev.dataset.sig === fresh.dataset.sig) return prev;
    return fresh;
  });
  rows.forEach((li, i) => { if (ul.children[i] !== li) ul.insertBefore(li, ul.children[i] || null); });
  while (ul.children.length > rows.length) ul.lastElementChild.remove();
  show($("#empty-state"), state.list.length === 0);
  show(ul, state.list.length > 0);
  tick();

  if (keep) {
    const again = $(`[data-connection="${CSS.escape(keep.name)}"] [data-action="${keep.action}"]`);
    if (again) again.focus();
  }
  if (!state.loaded) {
    state.loaded = true;
    document.documentElement.dataset.readyAt = String(Date.now());
  }
}

function row(v) {
  const li = document.createElement("li");
  li.className = "conn";
  li.dataset.connection = v.name;
  li.dataset.status = v.status;
  li.dataset.vendor = v.vendor;
  if (v.expires_at != null) li.dataset.expiresAt = String(v.expires_at);
  if (v.needs_attention) li.dataset.attention = "";

  const head = document.createElement("div");
  head.className = "conn-head";
  const name = document.createElement("span");
  name.className = "conn-name";
  name.textContent = v.name;
  const badge = document.createElement("span");
  badge.className = "badge";
  badge.dataset.status = v.status;
  badge.textContent = STATUS_LABEL[v.status] || v.status;
  head.append(name, badge);
  if (v.unverified) {
    // Stored untried (the vendor could not be reached): the reason is the tooltip.
    const u = document.createElement("span");
    u.className = "badge unverified";
    u.dataset.unverified = "";
    u.textContent = "Unverified";
    u.title = v.unverified;
    head.append(u);
  }
  if (v.store) {
    // Kept in a shared store (OpenBao / Vault), not this computer's keychain.
    const s = document.createElement("span");
    s.className = "badge shared";
    s.dataset.shared = v.store;
    s.textContent = "Shared";
    s.title = `Lives in ${v.store}` + (v.last_refresh_by ? `; last refreshed by ${v.last_refresh_by}` : "");
    head.append(s);
  }

  const meta = document.createElement("div");
  meta.className = "conn-meta";
  const account = document.createElement("span");
  account.className = "conn-account";
  account.textContent = v.account ? `${v.vendor_label} · ${v.account}` : v.vendor_label;
  // Which account and API it reaches, as the vendor names them (company file, tenant…).
  const details = v.details || [];
  if (details.length) account.title = details.map((d) => `${d.label}: ${d.value}`).join("\n");
  meta.append(account);
  if (v.client) {
    const client = document.createElement("span");
    client.className = "tag conn-client";
    client.title = "Client";
    client.textContent = v.client;
    meta.append(" ", client);
  }

  const text = document.createElement("div");
  text.className = "conn-text";
  if (v.status !== "valid") text.textContent = cap(v.status_text);
  else if (v.deadline_label && v.deadline) text.textContent = `${cap(v.deadline_label)} ${when(v.deadline)}.`;
  else text.textContent = v.base_url || "";
  // Every date by which a person must act, soonest first.
  const deadlines = v.deadlines || [];
  if (deadlines.length) text.title = deadlines.map((d) => `${cap(d.what)} ${when(d.at)}: ${d.todo}`).join("\n");
  const note = document.createElement("div");
  note.className = "conn-note";
  // The note, unless it already is the account line.
  note.textContent = v.note && v.note !== v.account ? v.note : "";
  show(note, !!note.textContent);

  const time = document.createElement("div");
  time.className = "conn-time";
  const left = document.createElement("div");
  left.className = "conn-left";
  left.dataset.left = "";
  const leftLabel = document.createElement("div");
  leftLabel.className = "conn-left-label";
  const refreshed = document.createElement("div");
  refreshed.className = "conn-refreshed";
  refreshed.textContent = v.last_refresh ? `refreshed ${when(v.last_refresh)}` : `added ${when(v.created_at)}`;
  time.append(left, leftLabel, refreshed);

  const actions = document.createElement("div");
  actions.className = "conn-actions";
  const act = (action, label, cls, title) => {
    const b = button(label, cls ? `small ${cls}` : "small");
    b.dataset.action = action;
    if (title) b.title = title;
    return b;
  };
  actions.append(
    act("copy-token", "Copy token", "primary", "Copy the access token; the clipboard is cleared again shortly"),
    act("copy-headers", "Copy headers", "", "Copy the vendor's full header set"),
    act("copy-curl", "Copy as curl", "", "Copy a ready-to-run curl command"),
    act("copy-env", "Copy as .env", "", "Copy the token, base URL and account ids as a .env file (the names keyport env uses)"),
  );
  const spacer = document.createElement("span");
  spacer.className = "spacer";
  actions.append(spacer);
  if (v.kind === "oauth") {
    const r = act("refresh", "Refresh now");
    r.disabled = !v.can_refresh;
    if (!v.can_refresh) r.title = "No refresh token: reconnect to get a new access token";
    actions.append(r);
  }
  actions.append(act("test", "Test", "", "Make a harmless read call with the stored credentials"));
  actions.append(act("edit", "Edit…", "", "Change the note, client, base URL or test path; the secrets stay as they are"));
  actions.append(act("reconnect", v.kind === "oauth" ? "Reconnect" : "Replace token…"));
  actions.append(act("revoke", "Revoke…", "danger-outline"));

  li.append(head, time, meta, text, note, actions);
  li.dataset.sig = JSON.stringify([v.status, v.expires_at, v.last_refresh, v.account, text.textContent, v.can_refresh,
    v.client, v.note, v.unverified, v.test_path, details, deadlines]);
  return li;
}

function cap(s) { return s ? s.charAt(0).toUpperCase() + s.slice(1) : ""; }

/** Updates every row's live countdown from its data-expires-at. */
function tick() {
  for (const li of $$("#connections > li")) {
    const exp = li.dataset.expiresAt ? Number(li.dataset.expiresAt) : null;
    const t = timeLeft(exp);
    const big = $(".conn-left", li);
    if (big.textContent !== t.big) big.textContent = t.big;
    const label = $(".conn-left-label", li);
    if (label.textContent !== t.label) label.textContent = t.label;
  }
}

function viewOf(name) { return state.list.find((v) => v.name === name); }

// Row buttons, delegated.
$("#connections").addEventListener("click", async (ev) => {
  const b = ev.target.closest("button[data-action]");
  if (!b) return;
  const name = b.closest("[data-connection]").dataset.connection;
  const v = viewOf(name);
  const action = b.dataset.action;
  if (action === "reconnect") { openReplace(name); return; }
  if (action === "edit") { openEdit(v); return; }
  if (action === "revoke") { openRevoke(v); return; }
  await busy(b, async () => {
    pageError(null);
    try {
      switch (action) {
        case "copy-token": copied(await invoke("copy_token", { name }), name); break;
        case "copy-headers": copied(await invoke("copy_headers", { name }), name); break;
        case "copy-curl": copied(await invoke("copy_curl", { name }), name); break;
        case "copy-env": copied(await invoke("copy_env", { name }), name); break;
        case "refresh": {
          const nv = await invoke("refresh", { name });
          toast(`Refreshed '${name}': ${nv.status_text}.`);
          await reload();
          break;
        }
        case "test": {
          const r = await invoke("test", { name });
          toast(r.summary, !r.ok, 9000);
          await reload();
          break;
        }
      }
    } catch (e) {
      pageError(e, { name });
      reload();
    }
  });
});

function copied(c, name) {
  const what = {
    token: `The token of '${name}' is`,
    headers: `The headers of '${name}' are`,
    curl: `A curl command for '${name}' is`,
  }[c.what];
  toast(`${what} on the clipboard (${c.preview}). Keyport clears the clipboard in ${c.clear_secs} s.`);
}

async function busy(b, fn) {
  const label = b.textContent;
  b.disabled = true;
  b.textContent = `${label}…`;
  b.setAttribute("aria-busy", "true");
  try { await fn(); } finally {
    // The row may have been re-rendered meanwhile; restore the old button anyway.
    b.disabled = false;
    b.textContent = label;
    b.removeAttribute("aria-busy");
  }
}

// ---------------------------------------------------------------- dialogs (shared)

for (const d of $$("dialog")) {
  for (const c of $$("[data-close]", d)) c.addEventListener("click", () => d.close());
}

// ---------------------------------------------------------------- vendors and their fields

const vendors = () => (state.info ? state.info.vendors : []);
const vendorById = (id) => vendors().find((v) => v.id === id) || null;
const oauthVendors = () => vendors().filter((v) => v.kind === "oauth");
const adminVendors = () => vendors().filter((v) => v.kind === "admin");
const hasField = (vendor, key) => vendor.fields.some((f) => f.key === key);

/** The connection name to suggest for a vendor: its id, or id-2, id-3… when taken. */
function suggestName(vendorId) {
  const base = vendorId;
  if (!viewOf(base)) return base;
  for (let i = 2; ; i++) if (!viewOf(`${base}-${i}`)) return `${base}-${i}`;
}

function setValue(input, value) {
  input.value = value == null ? "" : String(value);
}

/** One `.field` for a vendor field of info(): label, input `${prefix}${key}`, help. */
function fieldRow(f, prefix) {
  const id = `${prefix}${f.key}`;
  const wrap = document.createElement("div");
  wrap.className = "field";
  wrap.dataset.field = f.key;

  const label = document.createElement("label");
  label.htmlFor = id;
  label.textContent = f.label;
  if (!f.required && (f.default == null || f.default === "")) {
    const opt = document.createElement("span");
    opt.className = "muted";
    opt.textContent = "(optional)";
    label.append(" ", opt);
  }

  let input;
  if (f.input === "choice") {
    input = document.createElement("select");
    for (const [value, text] of f.choices || []) {
      const o = document.createElement("option");
      o.value = value;
      o.textContent = text;
      input.append(o);
    }
  } else {
    if (f.input === "lines") {
      input = document.createElement("textarea");
      input.rows = 3;
    } else {
      input = document.createElement("input");
      // URLs are text inputs: the engine checks them, and http://127.0.0.1:8765/callback
      // or http://desktop must go through exactly as typed.
      input.type = f.masked ? "password" : f.input === "number" ? "number" : f.input === "date" ? "date" : "text";
      if (f.input === "url") input.inputMode = "url";
    }
    input.autocomplete = "off";
    input.spellcheck = false;
    if (f.placeholder) input.placeholder = f.placeholder;
  }
  input.id = id;
  input.dataset.key = f.key;
  if (f.required) input.setAttribute("aria-required", "true");
  setValue(input, f.default);
  wrap.append(label, input);

  if (f.help) {
    const hint = document.createElement("small");
    hint.className = "hint";
    hint.id = `${id}-help`;
    hint.textContent = f.help;
    input.setAttribute("aria-describedby", hint.id);
    wrap.append(hint);
  }
  return wrap;
}

/** A vendor's fields in form order; the advanced ones in one closed <details id=detailsId>. */
function buildFields(vendor, prefix, detailsId) {
  const box = document.createElement("div");
  box.className = "vendor-fields";
  box.dataset.vendor = vendor.id;
  const advanced = document.createElement("details");
  advanced.id = detailsId;
  const summary = document.createElement("summary");
  summary.textContent = "Advanced";
  advanced.append(summary);
  for (const f of vendor.fields) (f.advanced ? advanced : box).append(fieldRow(f, prefix));
  if (vendor.fields.some((f) => f.advanced)) box.append(advanced);
  return box;
}

/** The input of field `key` inside a built box (the box may not be in the document). */
function fieldInput(box, prefix, key) {
  return box.querySelector(`#${CSS.escape(`${prefix}${key}`)}`);
}

/** Every field's current value, as the Form's `values`: strings, trimmed unless masked. */
function fieldValues(vendor, box, prefix) {
  const values = {};
  for (const f of vendor.fields) {
    const input = fieldInput(box, prefix, f.key);
    if (!input) continue;
    values[f.key] = f.masked ? input.value : input.value.trim();
  }
  return values;
}

/** Opens the box's <details> when an advanced field holds something other than its default. */
function openAdvancedIfSet(vendor, box, prefix) {
  const details = box.querySelector(":scope > details");
  if (!details) return;
  details.open = vendor.fields.some((f) => {
    if (!f.advanced) return false;
    const input = fieldInput(box, prefix, f.key);
    return !!input && input.value.trim() !== "" && input.value.trim() !== (f.default || "");
  });
}

// ---------------------------------------------------------------- connect

const connectDialog = $("#connect-dialog");
const connectForm = $("#connect-form");
const waiting = $("#waiting");
const SECRET_KEY = "client_secret";
const SECRET_SAVED = "Saved in the keychain — leave empty to use it";

/** Empties the masked inputs of built forms (a Map of vendor → box or {box}). */
function forgetSecrets(boxes) {
  for (const e of boxes.values()) {
    for (const i of $$('input[type="password"]', e.box || e)) i.value = "";
  }
}

function regsFor(vendorId) { return state.registrations.filter((r) => r.vendor === vendorId); }

function regLabel(r) { return r.authority ? `${r.client_id} — ${r.authority}` : r.client_id; }

/** Puts a remembered registration into the fields: every `values[key]`, plus client_id. */
function applyRegistration(vendor, box, reg) {
  for (const f of vendor.fields) {
    const input = fieldInput(box, "f-", f.key);
    if (!input) continue;
    if (f.remember) setValue(input, f.default);
    if (reg && reg.values && Object.prototype.hasOwnProperty.call(reg.values, f.key) && reg.values[f.key] != null) {
      setValue(input, reg.values[f.key]);
    }
  }
  const id = fieldInput(box, "f-", "client_id");
  if (id && reg && reg.client_id) setValue(id, reg.client_id);
  const secret = fieldInput(box, "f-", SECRET_KEY);
  if (secret) {
    const f = vendor.fields.find((x) => x.key === SECRET_KEY);
    secret.value = "";
    secret.placeholder = reg && reg.secret_saved ? SECRET_SAVED : (f && f.placeholder) || "";
  }
  openAdvancedIfSet(vendor, box, "f-");
}

function connectTitle() {
  if (state.connect.replace) return `Reconnect '${$("#conn-name").value}'`;
  const v = vendorById(state.connect.vendor);
  return v ? `Connect ${v.label}` : "Connect";
}

function setVendor(id) {
  const vendor = vendorById(id);
  if (!vendor) return;
  state.connect.vendor = id;
  for (const r of $$('input[name="vendor"]', connectForm)) r.checked = r.value === id;

  const regs = regsFor(id);
  let entry = state.connect.boxes.get(id);
  if (!entry) {
    // A reconnect starts from the registration the connection was made with.
    const wanted = state.connect.clientId;
    entry = { box: buildFields(vendor, "f-", "connect-advanced"), reg: Math.max(0, regs.findIndex((r) => r.client_id === wanted)) };
    state.connect.boxes.set(id, entry);
    applyRegistration(vendor, entry.box, regs[entry.reg] || null);
  }
  $("#connect-fields").replaceChildren(entry.box);

  const sel = $("#registration");
  sel.replaceChildren(...regs.map((r, i) => {
    const o = document.createElement("option");
    o.value = String(i);
    o.textContent = regLabel(r);
    return o;
  }));
  sel.value = String(entry.reg);
  show($("#registration-row"), regs.length > 1);
  show($("#remember-row"), hasField(vendor, SECRET_KEY));

  if (!state.connect.replace && !state.connect.nameTouched) $("#conn-name").value = suggestName(id);
  $("#connect-title").textContent = connectTitle();
  echoName();
}

$("#registration").addEventListener("change", (e) => {
  const vendor = vendorById(state.connect.vendor);
  const entry = state.connect.boxes.get(state.connect.vendor);
  if (!vendor || !entry) return;
  entry.reg = Number(e.target.value);
  applyRegistration(vendor, entry.box, regsFor(vendor.id)[entry.reg] || null);
});
$("#conn-name").addEventListener("input", () => { state.connect.nameTouched = true; echoName(); });
function echoName() { $("[data-name-echo]").textContent = $("#conn-name").value || "NAME"; }

/** The radios of the vendor chooser, one per OAuth vendor of info(). */
function buildVendorChoice() {
  $("#vendor-choice").replaceChildren(...oauthVendors().map((v) => {
    const label = document.createElement("label");
    const input = document.createElement("input");
    input.type = "radio";
    input.name = "vendor";
    input.value = v.id;
    input.id = `vendor-${v.id}`;
    input.addEventListener("change", () => { if (input.checked) setVendor(v.id); });
    const text = document.createElement("span");
    text.textContent = v.label;
    label.append(input, text);
    return label;
  }));
}

async function openConnect({ vendor = null, replace = false, name = null, view = null } = {}) {
  if (state.attempt || state.starting) { showWaiting(true); if (!connectDialog.open) connectDialog.showModal(); return; }
  const id = vendor || (oauthVendors()[0] || {}).id;
  if (!vendorById(id)) return;
  // The registrations as they are now (the CLI may have added one meanwhile).
  await loadRegistrations();
  if (state.attempt || state.starting) return;
  if (connectDialog.open) connectDialog.close();
  forgetSecrets(state.connect.boxes);
  state.connect = { vendor: id, replace, nameTouched: false, clientId: view ? view.client_id : null, boxes: new Map() };
  // A fresh form each time; the remembered registration fills in what it knows.
  connectForm.reset();
  const nameInput = $("#conn-name");
  nameInput.value = name || "";
  nameInput.readOnly = replace;
  show($("#vendor-choice"), !replace && oauthVendors().length > 1);
  showError($("#connect-error"), null);
  $("#connect-submit").disabled = false;
  $("#connect-submit").textContent = "Open sign-in page";
  setVendor(id);
  showWaiting(false);
  connectDialog.showModal();
  const box = state.connect.boxes.get(id).box;
  const first = $$(":scope > .field > input, :scope > .field > textarea", box).find((i) => !i.value && i.type !== "password");
  (replace ? $("#connect-submit") : first || nameInput).focus();
}

/** Reconnect (OAuth) or Replace token (admin) for an existing connection. */
function openReplace(name) {
  const v = viewOf(name);
  if (!v) return;
  if (v.kind === "oauth") openReconnect(v);
  else openAdd({ vendor: v.vendor, replace: true, name, view: v });
}

/**
 * Reconnect: the engine signs in again from the saved registration and the stored
 * secrets; the form shows what it signs in with and asks only for the fields the engine
 * says are missing (usually none).
 */
async function openReconnect(v) {
  if (state.attempt || state.starting) { showWaiting(true); if (!connectDialog.open) connectDialog.showModal(); return; }
  let missing;
  try {
    missing = await invoke("reconnect_needs", { name: v.name });
  } catch (e) {
    pageError(e, { name: v.name });
    return;
  }
  if (state.attempt || state.starting) return;
  if (connectDialog.open) connectDialog.close();
  forgetSecrets(state.connect.boxes);
  const fields = missing.map((f) => ({ ...f, advanced: false, required: true }));
  const box = buildFields({ id: v.vendor, fields }, "f-", "connect-advanced");
  state.connect = { vendor: v.vendor, replace: true, nameTouched: false, clientId: v.client_id, boxes: new Map([["reconnect", { box }]]),
    reconnect: { name: v.name, fields } };
  connectForm.reset();
  const nameInput = $("#conn-name");
  nameInput.value = v.name;
  nameInput.readOnly = true;
  echoName();
  for (const el of [$("#vendor-choice"), $("#registration-row"), $("#remember-row")]) show(el, false);
  const about = document.createElement("p");
  about.className = "note";
  about.id = "reconnect-summary";
  const reg = v.registration;
  const using = reg ? ` (client ID ${reg.client_id}, redirect URI ${reg.redirect_uri})` : "";
  about.textContent = fields.length
    ? `Signs in at ${v.vendor_label} again with the saved app registration${using}. Give what it still needs below.`
    : `Signs in at ${v.vendor_label} again with the saved app registration${using}; nothing to type. The old sign-in is revoked afterwards where the vendor allows it.`;
  $("#connect-fields").replaceChildren(about, box);
  $("#connect-title").textContent = `Reconnect '${v.name}'`;
  showError($("#connect-error"), null);
  $("#connect-submit").disabled = false;
  $("#connect-submit").textContent = "Open sign-in page";
  showWaiting(false);
  connectDialog.showModal();
  const first = $("input, textarea, select", box);
  (first || $("#connect-submit")).focus();
}

/** The `replace` action on a Connect error: the same form, now replacing `name`. */
function connectReplaceMode() {
  state.connect.replace = true;
  $("#conn-name").readOnly = true;
  show($("#vendor-choice"), false);
  $("#connect-title").textContent = connectTitle();
  showError($("#connect-error"), null);
  $("#connect-submit").focus();
}

function connectCtx(name) {
  return { name: name || val("#conn-name") || null, replace: connectReplaceMode };
}

$("#connect-primary").addEventListener("click", () => openConnect({ vendor: (oauthVendors()[0] || {}).id }));
// "Connect…" starts on the next OAuth vendor; the chooser offers all of them.
$("#connect-other").addEventListener("click", () => {
  const oauth = oauthVendors();
  openConnect({ vendor: (oauth[1] || oauth[0] || {}).id });
});

function val(sel) { return $(sel).value.trim(); }

/** The contract's Form for the open Connect dialog. */
function connectFormValue() {
  const vendor = vendorById(state.connect.vendor);
  const entry = state.connect.boxes.get(vendor.id);
  return {
    vendor: vendor.id,
    name: val("#conn-name"),
    replace: state.connect.replace,
    remember_secret: hasField(vendor, SECRET_KEY) && $("#remember-secret").checked,
    note: "",
    values: fieldValues(vendor, entry.box, "f-"),
  };
}

connectForm.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const submit = $("#connect-submit");
  const again = state.connect.reconnect;
  const form = again ? null : connectFormValue();
  const name = again ? again.name : form.name;
  if (!name) { showError($("#connect-error"), `Give the connection a name, e.g. ${form.vendor}.`); $("#conn-name").focus(); return; }
  showError($("#connect-error"), null);
  submit.disabled = true;
  submit.textContent = "Opening…";
  state.starting = true;
  state.early = [];
  try {
    const started = again
      ? await invoke("reconnect_start", { name, values: fieldValues(again, state.connect.boxes.get("reconnect").box, "f-") })
      : await invoke("connect_start", { form });
    state.attempt = { id: started.attempt, name: started.name };
    startWaiting(started);
    for (const [kind, p] of state.early.splice(0)) handleConnectEvent(kind, p);
  } catch (e) {
    showError($("#connect-error"), e, connectCtx(name));
  } finally {
    state.starting = false;
    submit.disabled = false;
    submit.textContent = "Open sign-in page";
  }
});

function showWaiting(on) {
  show(connectForm, !on);
  show(waiting, on);
}

function startWaiting(s) {
  $("#waiting-title").textContent = `Waiting for ${s.vendor_label}`;
  $("#waiting-text").textContent = s.loopback
    ? "Sign in and allow access in the browser window that opened. Keyport picks up the answer by itself."
    : "Sign in and allow access in the browser window that opened.";
  setCountdown(s.left);
  showError($("#browser-error"), s.browser_error ? `${s.browser_error}` : null);
  show($("#paste-row"), !s.loopback);
  $("#paste-redirect").textContent = s.redirect_uri;
  $("#paste-url").value = "";
  showError($("#paste-error"), null);
  show($("#waiting-note"), false);
  showWaiting(true);
  (s.loopback ? $("#connect-cancel") : $("#paste-url")).focus();
}

function setCountdown(left) {
  const c = $("#countdown");
  c.textContent = `${Math.floor(left / 60)}:${pad(left % 60)}`;
  c.classList.toggle("low", left < 30);
}

function handleConnectEvent(kind, p) {
  if (state.starting && !state.attempt) { state.early.push([kind, p]); return; }
  if (!state.attempt || p.attempt !== state.attempt.id) return;
  switch (kind) {
    case "tick": setCountdown(p.left); break;
    case "ignored": {
      const n = $("#waiting-note");
      n.textContent = p.message;
      show(n, true);
      break;
    }
    case "done": {
      state.attempt = null;
      connectDialog.close();
      toast(`Connected '${p.view.name}' (${p.view.vendor_label}): ${p.view.status_text}.`);
      // A replace retires the old sign-in at the vendor, best effort: say what became of it.
      const old = p.view.replaced;
      if (old) {
        for (const step of old.steps) toast(`The old sign-in: ${step}`, false, 10000);
        if (old.problem) toast(`The old sign-in was not revoked: ${old.problem}`, true, 20000);
      }
      reload().then(() => {
        const first = $(`[data-connection="${CSS.escape(p.view.name)}"] [data-action="copy-token"]`);
        if (first) first.focus();
      });
      break;
    }
    case "failed": {
      const name = state.attempt.name;
      state.attempt = null;
      if (p.code === "cancelled" && state.cancelling) return;
      showWaiting(false);
      if (!connectDialog.open) connectDialog.showModal();
      showError($("#connect-error"), p, connectCtx(name));
      $("#connect-submit").focus();
      break;
    }
  }
}

async function cancelAttempt() {
  state.cancelling = true;
  state.attempt = null;
  connectDialog.close();
  try { await invoke("connect_cancel"); } catch (e) { pageError(e); } finally { state.cancelling = false; }
}

$("#connect-cancel").addEventListener("click", cancelAttempt);
// Escape while waiting cancels the attempt (the port is freed at once).
connectDialog.addEventListener("cancel", (ev) => {
  if (!waiting.hidden && state.attempt) { ev.preventDefault(); cancelAttempt(); }
});
$("#reopen-browser").addEventListener("click", async () => {
  try { await invoke("connect_reopen"); } catch (e) { showError($("#browser-error"), e); }
});

async function paste() {
  const url = val("#paste-url");
  if (!url) { showError($("#paste-error"), "Paste the address the browser landed on first."); return; }
  showError($("#paste-error"), null);
  try {
    await invoke("connect_paste", { url }); // success arrives as connect-done
  } catch (e) {
    if (state.attempt) showError($("#paste-error"), e);
  }
}
$("#paste-submit").addEventListener("click", paste);
$("#paste-url").addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); paste(); } });

// ---------------------------------------------------------------- add token

const addDialog = $("#add-dialog");
const addForm = $("#add-form");

function setAddVendor(id) {
  const v = vendorById(id);
  if (!v) return;
  state.add.vendor = id;
  $("#add-vendor").value = id;
  $("#add-summary").textContent = v.summary || "";
  show($("#add-summary"), !!v.summary);
  const warn = $("#add-warning");
  warn.textContent = v.warning || "";
  show(warn, !!v.warning);
  let box = state.add.boxes.get(id);
  if (!box) {
    box = buildFields(v, "a-", "add-advanced");
    state.add.boxes.set(id, box);
    // Replacing a token keeps the connection's address.
    const base = fieldInput(box, "a-", "base_url");
    const view = state.add.view;
    if (base && view && view.vendor === id && view.base_url) setValue(base, view.base_url);
    openAdvancedIfSet(v, box, "a-");
  }
  $("#add-fields").replaceChildren(box);
  if (!state.add.replace && !state.add.nameTouched) $("#add-name").value = suggestName(id);
}

function addTitle() {
  return state.add.replace ? `Replace the token of '${$("#add-name").value}'` : "Add a token";
}

function openAdd({ vendor = null, replace = false, name = null, view = null } = {}) {
  const admin = adminVendors();
  const id = vendor || (admin[0] || {}).id;
  if (!vendorById(id)) return;
  if (addDialog.open) addDialog.close();
  forgetSecrets(state.add.boxes);
  state.add = { vendor: id, replace, nameTouched: false, view, boxes: new Map() };
  const sel = $("#add-vendor");
  sel.replaceChildren(...admin.map((v) => {
    const o = document.createElement("option");
    o.value = v.id;
    o.textContent = v.label;
    return o;
  }));
  sel.disabled = replace;
  $("#add-name").value = name || "";
  $("#add-name").readOnly = replace;
  $("#add-note").value = "";
  $("#add-title").textContent = addTitle();
  $("#add-submit").textContent = replace ? "Replace token" : "Add token";
  showError($("#add-error"), null);
  setAddVendor(id);
  addDialog.showModal();
  const masked = $('#add-fields input[type="password"]');
  (replace && masked ? masked : sel).focus();
}

/** The `replace` action on an Add error: the same form, now replacing `name`. */
function addReplaceMode() {
  state.add.replace = true;
  $("#add-name").readOnly = true;
  $("#add-vendor").disabled = true;
  $("#add-title").textContent = addTitle();
  $("#add-submit").textContent = "Replace token";
  showError($("#add-error"), null);
  $("#add-submit").focus();
}

$("#add-token").addEventListener("click", () => openAdd());
$("#add-vendor").addEventListener("change", (e) => setAddVendor(e.target.value));
$("#add-name").addEventListener("input", () => { state.add.nameTouched = true; });

addForm.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const vendor = vendorById(state.add.vendor);
  const form = {
    vendor: vendor.id,
    name: val("#add-name"),
    replace: state.add.replace,
    remember_secret: false,
    note: val("#add-note"),
    values: fieldValues(vendor, state.add.boxes.get(vendor.id), "a-"),
  };
  if (!form.name) { showError($("#add-error"), `Give the connection a name, e.g. ${vendor.id}.`); $("#add-name").focus(); return; }
  const submit = $("#add-submit");
  submit.disabled = true;
  try {
    const v = await invoke("add_token", { form });
    addDialog.close();
    toast(`Added '${v.name}' (${v.vendor_label}): ${v.status_text}.`);
    for (const w of v.warnings) toast(w.message, false, 10000);
    await reload();
  } catch (e) {
    showError($("#add-error"), e, { name: form.name, replace: addReplaceMode });
  } finally {
    submit.disabled = false;
  }
});
// Secrets typed into the forms do not outlive them.
addDialog.addEventListener("close", () => forgetSecrets(state.add.boxes));
connectDialog.addEventListener("close", () => {
  for (const i of $$('input[type="password"]', connectForm)) i.value = "";
  forgetSecrets(state.connect.boxes);
});

// ---------------------------------------------------------------- edit

const editDialog = $("#edit-dialog");

/**
 * What Edit changes. A vendor field of the same key (base URL, test path, expiry) gives
 * its label and help; the rest are Keyport's own.
 */
const EDIT_FIELDS = [
  { key: "note", label: "Note", help: "Free text shown in the list.", input: "text" },
  { key: "client", label: "Client", help: "The client (customer) this connection works for, shown beside the account.", input: "text" },
  { key: "base_url", label: "Base URL", help: "Where the API is.", input: "url" },
  { key: "test_path", label: "Path Test reads", help: "A harmless read Test makes with the stored credentials.", input: "text" },
  { key: "expires", label: "Expires on", help: "The token's last day, as its admin screen shows it.", input: "date" },
];

/** The date input's YYYY-MM-DD for unix seconds (UTC, as the engine reads it). */
function utcDate(ts) { return ts == null ? "" : new Date(ts * 1000).toISOString().slice(0, 10); }

function openEdit(v) {
  const vendor = vendorById(v.vendor) || { fields: [] };
  const current = { note: v.note, client: v.client, base_url: v.base_url, test_path: v.test_path, expires: utcDate(v.expires_at) };
  const shown = EDIT_FIELDS.filter((f) =>
    (f.key !== "expires" || v.kind === "admin") && (f.key !== "base_url" || hasField(vendor, "base_url") || !!v.base_url));
  const box = document.createElement("div");
  const initial = {};
  for (const generic of shown) {
    const own = vendor.fields.find((f) => f.key === generic.key && !f.secret);
    const f = { ...generic, ...(own || {}), required: !!own && own.required, advanced: false, default: null };
    const rowEl = fieldRow(f, "e-");
    box.append(rowEl);
    initial[f.key] = current[f.key] == null ? "" : String(current[f.key]);
    setValue($("input, textarea, select", rowEl), initial[f.key]);
  }
  state.edit = { name: v.name, initial };
  $("#edit-title").textContent = `Edit '${v.name}'`;
  $("#edit-summary").textContent = `${v.vendor_label}. The secrets stay as they are: to sign in again or give a new token, use ${v.kind === "oauth" ? "Reconnect" : "Replace token"}.`;
  $("#edit-fields").replaceChildren(box);
  showError($("#edit-error"), null);
  $("#edit-submit").disabled = false;
  editDialog.showModal();
  $("#e-note").focus();
}

$("#edit-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const { name, initial } = state.edit;
  // Only what the person changed: `None` leaves a value, an empty string clears it.
  const edit = {};
  for (const [key, was] of Object.entries(initial)) {
    const typed = $(`#e-${key}`).value.trim();
    if (typed !== was) edit[key] = typed;
  }
  if (Object.keys(edit).length === 0) { editDialog.close(); return; }
  const submit = $("#edit-submit");
  submit.disabled = true;
  try {
    const v = await invoke("edit", { name, edit });
    editDialog.close();
    state.list = state.list.map((x) => (x.name === v.name ? v : x));
    render();
    toast(`Saved '${v.name}'.`);
    reload();
  } catch (e) {
    showError($("#edit-error"), e, { name });
  } finally {
    submit.disabled = false;
  }
});

// ---------------------------------------------------------------- revoke

const revokeDialog = $("#revoke-dialog");

/** The Revoke confirmation; `force` shows "Remove here anyway" from the start. */
function openRevoke(v, force = false) {
  state.revokeName = v.name;
  $("#revoke-title").textContent = `Revoke '${v.name}'?`;
  $("#revoke-note").textContent = v.revoke_note;
  showError($("#revoke-error"), null);
  show($("#revoke-force"), force);
  $("#confirm-revoke").disabled = false;
  revokeDialog.showModal();
  $("#revoke-cancel").focus();
}

async function doRevoke(force) {
  const name = state.revokeName;
  const b = force ? $("#revoke-force") : $("#confirm-revoke");
  b.disabled = true;
  try {
    const r = await invoke("revoke", { name, force });
    revokeDialog.close();
    const parts = [...r.vendor_steps];
    if (r.manual_steps) parts.push(`Still to do at the vendor: ${r.manual_steps}`);
    toast(`Revoked '${name}'. ${parts.join(" ")}`, false, 12000);
    await reload();
  } catch (e) {
    showError($("#revoke-error"), e, { name, inRevoke: true });
    // The engine says when removing it here alone is offered (e.g. the vendor is unreachable).
    show($("#revoke-force"), !force && hasAction(e, "force_revoke"));
  } finally {
    b.disabled = false;
  }
}

$("#confirm-revoke").addEventListener("click", () => doRevoke(false));
$("#revoke-force").addEventListener("click", () => doRevoke(true));

// ---------------------------------------------------------------- start

async function loadRegistrations() {
  try { state.registrations = await invoke("registrations"); } catch { state.registrations = []; }
}

/** "A, B or C". */
function orList(words) {
  return words.length < 2 ? words.join("") : `${words.slice(0, -1).join(", ")} or ${words[words.length - 1]}`;
}

function strongEm(parts) {
  // parts: strings, or [tag, text] for <strong>/<em>.
  return parts.map((p) => {
    if (typeof p === "string") return p;
    const el = document.createElement(p[0]);
    el.textContent = p[1];
    return el;
  });
}

/** The top bar, the vendor chooser and the empty state's steps, from info()'s vendors. */
function applyInfo(info) {
  state.info = info;
  $("#metadata-path").textContent = `Metadata: ${info.metadata_path} · secrets in the system keychain`;
  for (const el of $$("[data-clear-secs]")) el.textContent = String(info.clipboard_clear_secs);

  const oauth = oauthVendors();
  const admin = adminVendors();
  const primary = $("#connect-primary");
  const primaryLabel = oauth.length ? `Connect ${oauth[0].label}` : "Connect";
  primary.textContent = primaryLabel;
  primary.disabled = oauth.length === 0;
  show(primary, oauth.length > 0);
  $("#connect-other").disabled = oauth.length < 2;
  show($("#connect-other"), oauth.length > 1);
  $("#add-token").disabled = admin.length === 0;
  show($("#add-token"), admin.length > 0);
  buildVendorChoice();

  const steps = [];
  if (oauth.length) {
    steps.push(strongEm([["strong", `${oauth[0].label}:`], " click ", ["em", primaryLabel],
      ", enter the details of your app registration (its client ID, secret and redirect URI), then allow access in the browser window that opens."]));
  }
  if (oauth.length > 1) {
    steps.push(strongEm([["strong", `${orList(oauth.slice(1).map((v) => v.label))}:`], " use ", ["em", "Connect…"], " and choose it."]));
  }
  if (admin.length) {
    steps.push(strongEm([["strong", `${orList(admin.map((v) => v.label))}:`],
      " issue a token in the vendor's admin screen and paste it with ", ["em", "Add token"], "."]));
  }
  $("#empty-steps").replaceChildren(...steps.map((parts) => {
    const li = document.createElement("li");
    li.append(...parts);
    return li;
  }));
}

/** "Start at login": read from Rust, changed through Keyport's own commands. */
async function loadAutostart() {
  const box = $("#autostart");
  try {
    box.checked = await invoke("autostart_get");
    box.disabled = false;
  } catch (e) {
    box.disabled = true;
    box.parentElement.title = sentence(e);
  }
}

async function setAutostart() {
  const box = $("#autostart");
  const wanted = box.checked;
  box.disabled = true;
  try {
    box.checked = await invoke("autostart_set", { on: wanted });
    toast(box.checked ? "Keyport will start in the tray when you log in." : "Keyport will not start at login.");
  } catch (e) {
    box.checked = !wanted;
    pageError(e);
  } finally {
    box.disabled = false;
  }
}

/** The tray's "needs attention" rows open the window on that connection. */
function focusConnection(name) {
  const el = document.querySelector(`[data-connection="${CSS.escape(name)}"]`);
  if (!el) return;
  el.scrollIntoView({ block: "center" });
  el.classList.add("flash");
  setTimeout(() => el.classList.remove("flash"), 1600);
}

async function start() {
  listen("connect-tick", (e) => handleConnectEvent("tick", e.payload));
  listen("connect-ignored", (e) => handleConnectEvent("ignored", e.payload));
  listen("connect-done", (e) => handleConnectEvent("done", e.payload));
  listen("connect-failed", (e) => handleConnectEvent("failed", e.payload));

  // The vendors first: the empty state and the buttons are written from them.
  try {
    applyInfo(await invoke("info"));
  } catch (e) {
    pageError(e);
  }
  listen("connections-changed", () => reload());
  listen("focus-connection", (e) => focusConnection(e.payload));
  $("#autostart").addEventListener("change", setAutostart);
  loadAutostart();
  await reload();
  loadRegistrations();
  setInterval(tick, 1000);
  // Statuses (valid → expiring → expired) follow the clock too.
  setInterval(reload, 30000);
}

start();
