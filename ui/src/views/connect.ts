// The Connect dialog: the vendor chooser, the vendor's fields (a remembered app
// registration fills in what it knows), then the waiting panel with the countdown and,
// when the redirect URI is not on this computer, the field for the pasted address.
// Reconnect signs in again from the saved registration and asks only what is missing.

import { commands, type ConnectionView, type Done, type Failed, type Form, type Ignored, type Registration, type Started, type Tick, type VendorInfo } from "../ipc";
import { countdown } from "../logic/time";
import { state, viewOf } from "../store";
import { $, $$, show } from "./dom";
import { reloadList, selectAndFocus } from "./hooks";
import { buildFields, fieldInput, fieldValues, forgetSecrets, hasField, openAdvancedIfSet, setValue, type FormField } from "./fields";
import { pageError, showError, toast } from "./feedback";

const SECRET_KEY = "client_secret";
const SECRET_SAVED = "Saved in the keychain — leave empty to use it";

interface Entry { box: HTMLElement; reg: number }
interface ConnectState {
  vendor: string;
  replace: boolean;
  nameTouched: boolean;
  clientId: string | null;
  boxes: Map<string, Entry>;
  reconnect?: { name: string; fields: FormField[] };
}

let cs: ConnectState = { vendor: "", replace: false, nameTouched: false, clientId: null, boxes: new Map() };
let attempt: { id: number; name: string } | null = null;
let starting = false;
let cancelling = false;
let early: [string, Tick | Ignored | Done | Failed][] = [];

const vendors = (): VendorInfo[] => state.info?.vendors ?? [];
export const vendorById = (id: string) => vendors().find((v) => v.id === id) ?? null;
export const oauthVendors = () => vendors().filter((v) => v.kind === "oauth");
export const adminVendors = () => vendors().filter((v) => v.kind === "admin");

/** The name to suggest for a vendor: its id, or id-2, id-3… when taken. */
export function suggestName(vendorId: string): string {
  if (!viewOf(vendorId)) return vendorId;
  for (let i = 2; ; i++) if (!viewOf(`${vendorId}-${i}`)) return `${vendorId}-${i}`;
}

const dialog = () => $<HTMLDialogElement>("#connect-dialog");
const form = () => $<HTMLFormElement>("#connect-form");
const val = (sel: string) => $<HTMLInputElement>(sel).value.trim();

function regsFor(vendorId: string): Registration[] {
  return state.registrations.filter((r) => r.vendor === vendorId);
}

function regLabel(r: Registration): string {
  return r.authority ? `${r.client_id} — ${r.authority}` : r.client_id;
}

function applyRegistration(vendor: VendorInfo, box: HTMLElement, reg: Registration | null): void {
  for (const f of vendor.fields) {
    const input = fieldInput(box, "f-", f.key);
    if (!input) continue;
    if (f.remember) setValue(input, f.default);
    const v = reg?.values?.[f.key];
    if (v != null) setValue(input, v);
  }
  const id = fieldInput(box, "f-", "client_id");
  if (id && reg?.client_id) setValue(id, reg.client_id);
  const secret = fieldInput(box, "f-", SECRET_KEY);
  if (secret) {
    const f = vendor.fields.find((x) => x.key === SECRET_KEY);
    secret.value = "";
    secret.placeholder = reg?.secret_saved ? SECRET_SAVED : (f?.placeholder ?? "");
  }
  openAdvancedIfSet(vendor, box, "f-");
}

function title(): string {
  if (cs.replace) return `Reconnect '${$<HTMLInputElement>("#conn-name").value}'`;
  const v = vendorById(cs.vendor);
  return v ? `Connect ${v.label}` : "Connect";
}

function echoName(): void {
  $("[data-name-echo]").textContent = $<HTMLInputElement>("#conn-name").value || "NAME";
}

function setVendor(id: string): void {
  const vendor = vendorById(id);
  if (!vendor) return;
  cs.vendor = id;
  for (const r of $$<HTMLInputElement>('input[name="vendor"]', form())) r.checked = r.value === id;
  const regs = regsFor(id);
  let entry = cs.boxes.get(id);
  if (!entry) {
    const wanted = cs.clientId;
    entry = { box: buildFields(vendor, "f-", "connect-advanced"), reg: Math.max(0, regs.findIndex((r) => r.client_id === wanted)) };
    cs.boxes.set(id, entry);
    applyRegistration(vendor, entry.box, regs[entry.reg] ?? null);
  }
  $("#connect-fields").replaceChildren(entry.box);
  const sel = $<HTMLSelectElement>("#registration");
  sel.replaceChildren(...regs.map((r, i) => {
    const o = document.createElement("option");
    o.value = String(i);
    o.textContent = regLabel(r);
    return o;
  }));
  sel.value = String(entry.reg);
  show($("#registration-row"), regs.length > 1);
  show($("#remember-row"), hasField(vendor, SECRET_KEY));
  if (!cs.replace && !cs.nameTouched) $<HTMLInputElement>("#conn-name").value = suggestName(id);
  $("#connect-title").textContent = title();
  echoName();
}

export function buildVendorChoice(): void {
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

export async function loadRegistrations(): Promise<void> {
  try { state.registrations = await commands.registrations(); } catch { state.registrations = []; }
}

function busyAttempt(): boolean {
  if (attempt || starting) {
    showWaiting(true);
    if (!dialog().open) dialog().showModal();
    return true;
  }
  return false;
}

export async function openConnect(vendor?: string): Promise<void> {
  if (busyAttempt()) return;
  const id = vendor ?? oauthVendors()[0]?.id;
  if (!id || !vendorById(id)) return;
  await loadRegistrations();
  if (attempt || starting) return;
  if (dialog().open) dialog().close();
  forgetSecrets([...cs.boxes.values()].map((e) => e.box));
  cs = { vendor: id, replace: false, nameTouched: false, clientId: null, boxes: new Map() };
  form().reset();
  const nameInput = $<HTMLInputElement>("#conn-name");
  nameInput.value = "";
  nameInput.readOnly = false;
  show($("#conn-client-row"), true);
  show($("#vendor-choice"), oauthVendors().length > 1);
  showError($("#connect-error"), null);
  resetSubmit();
  setVendor(id);
  showWaiting(false);
  dialog().showModal();
  const box = cs.boxes.get(id)!.box;
  const first = $$<HTMLInputElement>(":scope > .field > input, :scope > .field > textarea", box).find((i) => !i.value && i.type !== "password");
  (first ?? nameInput).focus();
}

/** Reconnect: the saved registration and stored secrets sign in again. */
export async function openReconnect(v: ConnectionView): Promise<void> {
  if (busyAttempt()) return;
  let missing;
  try {
    missing = await commands.reconnectNeeds(v.name);
  } catch (e) {
    pageError(e, { name: v.name });
    return;
  }
  if (attempt || starting) return;
  if (dialog().open) dialog().close();
  forgetSecrets([...cs.boxes.values()].map((e) => e.box));
  const fields: FormField[] = missing.map((f) => ({ ...f, advanced: false, required: true }));
  const box = buildFields({ id: v.vendor, fields }, "f-", "connect-advanced");
  cs = { vendor: v.vendor, replace: true, nameTouched: false, clientId: v.client_id, boxes: new Map([["reconnect", { box, reg: 0 }]]), reconnect: { name: v.name, fields } };
  form().reset();
  const nameInput = $<HTMLInputElement>("#conn-name");
  nameInput.value = v.name;
  nameInput.readOnly = true;
  echoName();
  for (const e of [$("#vendor-choice"), $("#registration-row"), $("#remember-row"), $("#conn-client-row")]) show(e, false);
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
  resetSubmit();
  showWaiting(false);
  dialog().showModal();
  const first = box.querySelector<HTMLElement>("input, textarea, select");
  (first ?? $<HTMLButtonElement>("#connect-submit")).focus();
}

function replaceMode(): void {
  cs.replace = true;
  $<HTMLInputElement>("#conn-name").readOnly = true;
  show($("#vendor-choice"), false);
  $("#connect-title").textContent = title();
  showError($("#connect-error"), null);
  $("#connect-submit").focus();
}

function ctx(name?: string | null) {
  return { name: name || val("#conn-name") || null, replace: replaceMode };
}

function resetSubmit(): void {
  const s = $<HTMLButtonElement>("#connect-submit");
  s.disabled = false;
  s.textContent = "Open sign-in page";
}

function formValue(): Form {
  const vendor = vendorById(cs.vendor)!;
  const entry = cs.boxes.get(vendor.id)!;
  return {
    vendor: vendor.id,
    name: val("#conn-name"),
    replace: cs.replace,
    remember_secret: hasField(vendor, SECRET_KEY) && $<HTMLInputElement>("#remember-secret").checked,
    note: "",
    client: val("#conn-client"),
    skip_test: false,
    reuse_secrets: false,
    values: fieldValues(vendor, entry.box, "f-"),
  };
}

async function submit(ev: SubmitEvent): Promise<void> {
  ev.preventDefault();
  const button = $<HTMLButtonElement>("#connect-submit");
  const again = cs.reconnect;
  const f = again ? null : formValue();
  const name = again ? again.name : f!.name;
  if (!name) {
    showError($("#connect-error"), `Give the connection a name, e.g. ${f!.vendor}.`);
    $("#conn-name").focus();
    return;
  }
  showError($("#connect-error"), null);
  button.disabled = true;
  button.textContent = "Opening…";
  starting = true;
  early = [];
  try {
    const started: Started = again
      ? await commands.reconnectStart(name, fieldValues(again, cs.boxes.get("reconnect")!.box, "f-"))
      : await commands.connectStart(f!);
    attempt = { id: started.attempt, name: started.name };
    startWaiting(started);
    for (const [kind, p] of early.splice(0)) handleEvent(kind, p);
  } catch (e) {
    showError($("#connect-error"), e, ctx(name));
  } finally {
    starting = false;
    resetSubmit();
  }
}

function showWaiting(on: boolean): void {
  show(form(), !on);
  show($("#waiting"), on);
}

function startWaiting(s: Started): void {
  $("#waiting-title").textContent = `Waiting for ${s.vendor_label}`;
  $("#waiting-text").textContent = s.loopback
    ? "Sign in and allow access in the browser window that opened. Keyport picks up the answer by itself."
    : "Sign in and allow access in the browser window that opened.";
  setCountdown(s.left);
  showError($("#browser-error"), s.browser_error ?? null);
  show($("#paste-row"), !s.loopback);
  $("#paste-redirect").textContent = s.redirect_uri;
  $<HTMLInputElement>("#paste-url").value = "";
  showError($("#paste-error"), null);
  show($("#waiting-note"), false);
  showWaiting(true);
  (s.loopback ? $("#connect-cancel") : $("#paste-url")).focus();
}

function setCountdown(left: number): void {
  const c = $("#countdown");
  c.textContent = countdown(left);
  c.classList.toggle("low", left < 30);
}

export function handleEvent(kind: string, p: Tick | Ignored | Done | Failed): void {
  if (starting && !attempt) { early.push([kind, p]); return; }
  if (!attempt || p.attempt !== attempt.id) return;
  switch (kind) {
    case "tick": setCountdown((p as Tick).left); break;
    case "ignored": {
      const n = $("#waiting-note");
      n.textContent = (p as Ignored).message;
      show(n, true);
      break;
    }
    case "done": {
      const view = (p as Done).view;
      attempt = null;
      dialog().close();
      toast(`Connected '${view.name}' (${view.vendor_label}): ${view.status_text}.`);
      const old = view.replaced;
      if (old) {
        for (const step of old.steps) toast(`The old sign-in: ${step}`, "info", 10000);
        if (old.problem) toast(`The old sign-in was not revoked: ${old.problem}`, "error", 20000);
      }
      void reloadList().then(() => selectAndFocus(view.name));
      break;
    }
    case "failed": {
      const name = attempt.name;
      attempt = null;
      const e = p as Failed;
      if (e.code === "cancelled" && cancelling) return;
      showWaiting(false);
      if (!dialog().open) dialog().showModal();
      showError($("#connect-error"), e, ctx(name));
      $("#connect-submit").focus();
      break;
    }
  }
}

async function cancelAttempt(): Promise<void> {
  cancelling = true;
  attempt = null;
  dialog().close();
  try { await commands.connectCancel(); } catch (e) { pageError(e); } finally { cancelling = false; }
}

async function paste(): Promise<void> {
  const url = val("#paste-url");
  if (!url) { showError($("#paste-error"), "Paste the address the browser landed on first."); return; }
  showError($("#paste-error"), null);
  try {
    await commands.connectPaste(url); // success arrives as connect-done
  } catch (e) {
    if (attempt) showError($("#paste-error"), e);
  }
}

export function mountConnect(): void {
  form().addEventListener("submit", (ev) => void submit(ev));
  $("#registration").addEventListener("change", (e) => {
    const vendor = vendorById(cs.vendor);
    const entry = cs.boxes.get(cs.vendor);
    if (!vendor || !entry) return;
    entry.reg = Number((e.target as HTMLSelectElement).value);
    applyRegistration(vendor, entry.box, regsFor(vendor.id)[entry.reg] ?? null);
  });
  $("#conn-name").addEventListener("input", () => { cs.nameTouched = true; echoName(); });
  $("#connect-primary").addEventListener("click", () => void openConnect(oauthVendors()[0]?.id));
  // "Connect…" starts on the next OAuth vendor; the chooser offers all of them.
  $("#connect-other").addEventListener("click", () => {
    const o = oauthVendors();
    void openConnect((o[1] ?? o[0])?.id);
  });
  $("#connect-cancel").addEventListener("click", () => void cancelAttempt());
  dialog().addEventListener("cancel", (ev) => {
    if (!$("#waiting").hidden && attempt) { ev.preventDefault(); void cancelAttempt(); }
  });
  $("#reopen-browser").addEventListener("click", async () => {
    try { await commands.connectReopen(); } catch (e) { showError($("#browser-error"), e); }
  });
  $("#paste-submit").addEventListener("click", () => void paste());
  $("#paste-url").addEventListener("keydown", (e) => { if ((e as KeyboardEvent).key === "Enter") { e.preventDefault(); void paste(); } });
  dialog().addEventListener("close", () => {
    for (const i of $$<HTMLInputElement>('input[type="password"]', form())) i.value = "";
    forgetSecrets([...cs.boxes.values()].map((e) => e.box));
  });
}
