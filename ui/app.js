// Keyport's window. Talks to Rust only through Keyport's own commands and events; it
// never sees a token (copying happens in Rust). Errors arrive as {code, message}: the
// message is a sentence for people, the code is one of the engine's stable names.

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

const DEFAULT_NAME = { myob: "myob", "myob-advanced": "myob-advanced", oidc: "oidc" };
const MYOB_DEFAULT_API = "https://api.myob.com";

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
  connect: { vendor: "myob", replace: false, nameTouched: false },
  add: { replace: false },
  revokeName: null,
};

/** The sentence to show for anything a command rejected with. */
function sentence(e) {
  if (e && typeof e === "object" && typeof e.message === "string") return e.message;
  if (typeof e === "string") return e;
  return "Something went wrong in the window. Close Keyport and open it again.";
}

function show(el, on = true) { el.hidden = !on; }

function showError(el, e) {
  el.textContent = e ? sentence(e) : "";
  show(el, !!e);
}

// ---------------------------------------------------------------- global error & toasts

function pageError(e) {
  const box = $("#error");
  box.replaceChildren();
  if (!e) { show(box, false); return; }
  const msg = document.createElement("span");
  msg.className = "msg";
  msg.textContent = sentence(e);
  const close = button("Dismiss", "icon small", () => pageError(null));
  close.setAttribute("aria-label", "Dismiss the error");
  close.textContent = "✕";
  box.append(msg, " ", close);
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

  const meta = document.createElement("div");
  meta.className = "conn-meta";
  meta.textContent = v.account ? `${v.vendor_label} · ${v.account}` : v.vendor_label;

  const text = document.createElement("div");
  text.className = "conn-text";
  if (v.status !== "valid") text.textContent = cap(v.status_text);
  else if (v.deadline_label && v.deadline) text.textContent = `${cap(v.deadline_label)} ${when(v.deadline)}.`;
  else text.textContent = v.base_url || "";

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
  );
  const spacer = document.createElement("span");
  spacer.className = "spacer";
  actions.append(spacer);
  if (v.kind === "o_auth") {
    const r = act("refresh", "Refresh now");
    r.disabled = !v.can_refresh;
    if (!v.can_refresh) r.title = "No refresh token: reconnect to get a new access token";
    actions.append(r);
  }
  actions.append(act("test", "Test", "", "Make a harmless read call with the stored credentials"));
  actions.append(act("reconnect", v.kind === "o_auth" ? "Reconnect" : "Replace token…"));
  actions.append(act("revoke", "Revoke…", "danger-outline"));

  li.append(head, time, meta, text, actions);
  li.dataset.sig = JSON.stringify([v.status, v.expires_at, v.last_refresh, v.account, text.textContent, v.can_refresh]);
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
  if (action === "reconnect") {
    if (v.kind === "o_auth") openConnect({ vendor: v.vendor, replace: true, name, view: v });
    else openAdd({ vendor: v.vendor, replace: true, name, view: v });
    return;
  }
  if (action === "revoke") { openRevoke(v); return; }
  await busy(b, async () => {
    pageError(null);
    try {
      switch (action) {
        case "copy-token": copied(await invoke("copy_token", { name }), name); break;
        case "copy-headers": copied(await invoke("copy_headers", { name }), name); break;
        case "copy-curl": copied(await invoke("copy_curl", { name }), name); break;
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
      pageError(e);
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

// ---------------------------------------------------------------- connect

const connectDialog = $("#connect-dialog");
const connectForm = $("#connect-form");
const waiting = $("#waiting");

function regsFor(vendor) { return state.registrations.filter((r) => r.vendor === vendor); }

function suggestName(vendor) {
  const base = DEFAULT_NAME[vendor] || vendor;
  if (!viewOf(base)) return base;
  for (let i = 2; ; i++) if (!viewOf(`${base}-${i}`)) return `${base}-${i}`;
}

function setVendor(vendor) {
  state.connect.vendor = vendor;
  for (const r of $$('input[name="vendor"]', connectForm)) r.checked = r.value === vendor;
  for (const fs of $$("fieldset[data-vendor]", connectForm)) show(fs, fs.dataset.vendor === vendor);
  const title = state.connect.replace
    ? `Reconnect '${$("#conn-name").value}'`
    : { myob: "Connect MYOB", "myob-advanced": "Connect MYOB Advanced", oidc: "Connect an OAuth 2.0 / OIDC provider" }[vendor];
  $("#connect-title").textContent = title;
  if (!state.connect.replace && !state.connect.nameTouched) $("#conn-name").value = suggestName(vendor);
  echoName();

  const regs = regsFor(vendor);
  const sel = $("#registration");
  sel.replaceChildren(...regs.map((r, i) => {
    const o = document.createElement("option");
    o.value = String(i);
    o.textContent = r.instance_url ? `${r.client_id} — ${r.instance_url}` : r.client_id;
    return o;
  }));
  const chosen = Math.max(0, regs.findIndex((r) => r.client_id === state.connect.clientId));
  sel.value = String(chosen);
  show($("#registration-row"), regs.length > 1);
  prefill(regs[chosen] || null);
}

const PREFILL = {
  myob: { client_id: "#myob-client-id", redirect_uri: "#myob-redirect-uri", scopes: "#myob-scopes", secret: "#myob-client-secret" },
  "myob-advanced": { instance_url: "#adv-instance-url", client_id: "#adv-client-id", redirect_uri: "#adv-redirect-uri", scopes: "#adv-scopes", secret: "#adv-client-secret" },
  oidc: { instance_url: "#oidc-issuer", client_id: "#oidc-client-id", redirect_uri: "#oidc-redirect-uri", scopes: "#oidc-scopes", secret: "#oidc-client-secret" },
};

function prefill(reg) {
  const map = PREFILL[state.connect.vendor];
  for (const key of ["client_id", "redirect_uri", "scopes", "instance_url"]) {
    if (map[key] && reg && reg[key]) $(map[key]).value = reg[key];
  }
  const secret = $(map.secret);
  secret.value = "";
  secret.placeholder = reg && reg.secret_saved ? "Saved in the keychain — leave empty to use it" : "";
}

$("#registration").addEventListener("change", (e) => prefill(regsFor(state.connect.vendor)[Number(e.target.value)]));
for (const r of $$('input[name="vendor"]', connectForm)) r.addEventListener("change", () => setVendor(r.value));
$("#conn-name").addEventListener("input", () => { state.connect.nameTouched = true; echoName(); });
function echoName() { $("[data-name-echo]").textContent = $("#conn-name").value || "NAME"; }

function openConnect({ vendor = "myob", replace = false, name = null, view = null } = {}) {
  if (state.attempt || state.starting) { showWaiting(true); connectDialog.showModal(); return; }
  // A reconnect starts from the registration the connection was made with.
  state.connect = { vendor, replace, nameTouched: false, clientId: view ? view.client_id : null };
  // A fresh form each time; the remembered registration fills in what it knows.
  connectForm.reset();
  $("#myob-overrides").open = false;
  const nameInput = $("#conn-name");
  nameInput.value = name || "";
  nameInput.readOnly = replace;
  show($("#vendor-choice"), !replace);
  showError($("#connect-error"), null);
  $("#connect-submit").disabled = false;
  $("#connect-submit").textContent = "Open sign-in page";
  setVendor(vendor);
  if (replace && view && view.vendor === "myob" && view.base_url && view.base_url !== MYOB_DEFAULT_API) {
    $("#myob-api-base").value = view.base_url;
    $("#myob-overrides").open = true;
  }
  showWaiting(false);
  connectDialog.showModal();
  const first = $$("fieldset:not([hidden]) input", connectForm).find((i) => !i.value && i.type !== "password");
  (replace ? $("#connect-submit") : first || $("#conn-name")).focus();
}

$("#connect-myob").addEventListener("click", () => openConnect({ vendor: "myob" }));
$("#connect-other").addEventListener("click", () => openConnect({ vendor: "myob-advanced" }));

function val(sel) { return $(sel).value.trim(); }

function connectFormValue() {
  const vendor = state.connect.vendor;
  const f = {
    vendor,
    name: val("#conn-name"),
    replace: state.connect.replace,
    remember_secret: $("#remember-secret").checked,
  };
  if (vendor === "myob") {
    Object.assign(f, {
      client_id: val("#myob-client-id"), client_secret: $("#myob-client-secret").value,
      redirect_uri: val("#myob-redirect-uri"), scopes: val("#myob-scopes"),
      cf_username: val("#myob-cf-username"), cf_password: $("#myob-cf-password").value,
      auth_base: val("#myob-auth-base"), api_base: val("#myob-api-base"),
    });
  } else if (vendor === "myob-advanced") {
    const days = val("#adv-chain-days");
    Object.assign(f, {
      instance_url: val("#adv-instance-url"), client_id: val("#adv-client-id"),
      client_secret: $("#adv-client-secret").value, redirect_uri: val("#adv-redirect-uri"),
      scopes: val("#adv-scopes"), chain_days: days === "" ? null : Number(days),
    });
  } else {
    Object.assign(f, {
      issuer: val("#oidc-issuer"), client_id: val("#oidc-client-id"),
      client_secret: $("#oidc-client-secret").value, client_auth: $("#oidc-client-auth").value,
      scopes: val("#oidc-scopes"), redirect_uri: val("#oidc-redirect-uri"),
      authorize_url: val("#oidc-authorize-url"), token_url: val("#oidc-token-url"),
      revocation_url: val("#oidc-revocation-url"),
    });
  }
  return f;
}

connectForm.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const submit = $("#connect-submit");
  const form = connectFormValue();
  if (!form.name) { showError($("#connect-error"), "Give the connection a name, e.g. myob."); $("#conn-name").focus(); return; }
  showError($("#connect-error"), null);
  submit.disabled = true;
  submit.textContent = "Opening…";
  state.starting = true;
  state.early = [];
  try {
    const started = await invoke("connect_start", { form });
    state.attempt = { id: started.attempt, name: started.name };
    startWaiting(started);
    for (const [kind, p] of state.early.splice(0)) handleConnectEvent(kind, p);
  } catch (e) {
    showError($("#connect-error"), e);
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
      loadRegistrations();
      reload().then(() => {
        const first = $(`[data-connection="${CSS.escape(p.view.name)}"] [data-action="copy-token"]`);
        if (first) first.focus();
      });
      break;
    }
    case "failed": {
      state.attempt = null;
      if (p.code === "cancelled" && state.cancelling) return;
      showWaiting(false);
      if (!connectDialog.open) connectDialog.showModal();
      showError($("#connect-error"), p);
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
const FIELD_INPUT = { token: "add-secret-token", username: "add-secret-username", password: "add-secret-password", api_key: "add-secret-api-key" };

function manualVendor(slug) { return state.info.manual_vendors.find((v) => v.slug === slug); }

function setAddVendor(slug) {
  const v = manualVendor(slug);
  $("#add-vendor").value = slug;
  const warn = $("#add-warning");
  warn.textContent = v.add_warning || "";
  show(warn, !!v.add_warning);
  const base = $("#add-base-url");
  base.placeholder = v.default_base || "https://yourcompany.example.com";
  $("#add-base-hint").textContent = v.default_base
    ? `Leave empty for ${v.default_base}.`
    : "Required: the address of your instance.";
  const box = $("#add-secrets");
  box.replaceChildren(...v.fields.map(({ field, prompt }) => {
    const wrap = document.createElement("div");
    wrap.className = "field";
    const label = document.createElement("label");
    label.htmlFor = FIELD_INPUT[field];
    label.textContent = prompt;
    const input = document.createElement("input");
    input.id = FIELD_INPUT[field];
    input.type = field === "username" ? "text" : "password";
    input.autocomplete = "off";
    input.spellcheck = false;
    if (field === "password") input.placeholder = "(empty for none)";
    wrap.append(label, input);
    return wrap;
  }));
  show($("#add-company-file-row"), slug === "myob-desktop");
  show($("#add-test-path-row"), slug === "o4");
  show($("#add-expires-row"), slug !== "myob-desktop");
  if (!state.add.replace && !state.add.nameTouched) $("#add-name").value = suggestName(slug);
}

function openAdd({ vendor = "xentral", replace = false, name = null, view = null } = {}) {
  state.add = { replace, nameTouched: false };
  const sel = $("#add-vendor");
  sel.replaceChildren(...state.info.manual_vendors.map((v) => {
    const o = document.createElement("option");
    o.value = v.slug;
    o.textContent = v.label;
    return o;
  }));
  sel.disabled = replace;
  $("#add-name").value = name || "";
  $("#add-name").readOnly = replace;
  for (const id of ["#add-base-url", "#add-expires", "#add-company-file", "#add-test-path", "#add-note"]) $(id).value = "";
  if (view && view.base_url && view.base_url !== (manualVendor(vendor) || {}).default_base) $("#add-base-url").value = view.base_url;
  $("#add-title").textContent = replace ? `Replace the token of '${name}'` : "Add a token";
  $("#add-submit").textContent = replace ? "Replace token" : "Add token";
  showError($("#add-error"), null);
  setAddVendor(vendor);
  addDialog.showModal();
  (replace ? $("#add-secrets input") : sel).focus();
}

$("#add-token").addEventListener("click", () => openAdd());
$("#add-vendor").addEventListener("change", (e) => setAddVendor(e.target.value));
$("#add-name").addEventListener("input", () => { state.add.nameTouched = true; });

addForm.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const form = {
    vendor: $("#add-vendor").value,
    name: val("#add-name"),
    replace: state.add.replace,
    base_url: val("#add-base-url"),
    expires: $("#add-expires-row").hidden ? "" : $("#add-expires").value,
    company_file: $("#add-company-file-row").hidden ? "" : val("#add-company-file"),
    test_path: $("#add-test-path-row").hidden ? "" : val("#add-test-path"),
    note: val("#add-note"),
  };
  for (const [field, id] of Object.entries(FIELD_INPUT)) {
    const input = document.getElementById(id);
    if (input) form[field] = input.value;
  }
  const submit = $("#add-submit");
  submit.disabled = true;
  try {
    const v = await invoke("add_manual", { form });
    addDialog.close();
    toast(`Added '${v.name}' (${v.vendor_label}): ${v.status_text}.`);
    for (const w of v.warnings) toast(w.message, false, 10000);
    await reload();
  } catch (e) {
    showError($("#add-error"), e);
  } finally {
    submit.disabled = false;
  }
});
// Secrets typed into the form do not outlive it.
addDialog.addEventListener("close", () => { for (const i of $$("#add-secrets input")) i.value = ""; });
connectDialog.addEventListener("close", () => {
  for (const i of $$('input[type="password"]', connectForm)) i.value = "";
});

// ---------------------------------------------------------------- revoke

const revokeDialog = $("#revoke-dialog");

function openRevoke(v) {
  state.revokeName = v.name;
  $("#revoke-title").textContent = `Revoke '${v.name}'?`;
  $("#revoke-note").textContent = v.revoke_note;
  showError($("#revoke-error"), null);
  show($("#revoke-force"), false);
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
    showError($("#revoke-error"), e);
    show($("#revoke-force"), !force);
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

async function start() {
  listen("connect-tick", (e) => handleConnectEvent("tick", e.payload));
  listen("connect-ignored", (e) => handleConnectEvent("ignored", e.payload));
  listen("connect-done", (e) => handleConnectEvent("done", e.payload));
  listen("connect-failed", (e) => handleConnectEvent("failed", e.payload));
  listen("connections-changed", () => reload());

  const listed = reload();
  try {
    state.info = await invoke("info");
    $("#metadata-path").textContent = `Metadata: ${state.info.metadata_path} · secrets in the system keychain`;
    for (const el of $$("[data-clear-secs]")) el.textContent = String(state.info.clipboard_clear_secs);
  } catch (e) {
    pageError(e);
  }
  await listed;
  loadRegistrations();
  setInterval(tick, 1000);
  // Statuses (valid → expiring → expired) follow the clock too.
  setInterval(reload, 30000);
}

start();
