// Keyport's window. It talks to Rust only through the generated bindings (`ipc/`); it
// never sees a token (copying happens in Rust). One store (`store.ts`) holds the state;
// the views under `views/` draw it; `logic/` holds what is pure (and unit-tested).

import "./style.css";
import { commands, on, type Info } from "./ipc";
import { move } from "./logic/group";
import { commandFor } from "./logic/shortcuts";
import { sentence } from "./logic/errors";
import { run, openReplace } from "./actions";
import { select, selectedView, setInfo, setList, setQuery, state, subscribe, toggleGroup } from "./store";
import { mountAdd, openAdd } from "./views/add";
import { adminVendors, buildVendorChoice, handleEvent, loadRegistrations, mountConnect, oauthVendors, openConnect } from "./views/connect";
import { refreshActivity, renderDetails } from "./views/details";
import { $, $$, anyDialogOpen, show } from "./views/dom";
import { mountEdit } from "./views/edit";
import { errorHandlers, pageError, toast } from "./views/feedback";
import { mountHelp, openHelp } from "./views/help";
import { hooks } from "./views/hooks";
import { markSelection, mountList, pageRows, renderList, revealSelection, rowElement, rowsInDom, tickRows } from "./views/list";
import { closeMenu, menuOpen, mountMenu, openMenu } from "./views/menu";
import { mountPorting } from "./views/porting";
import { mountRevoke, openRevoke } from "./views/revoke";
import { viewOf } from "./store";

// ------------------------------------------------------------ the performance hook

interface Perf {
  listRenderMs: number | null;
  listRenders: number;
  searchMs: number | null;
  searchSamples: number[];
  rowsInDom: number;
  rowsMatched: number;
}

const perf: Perf = { listRenderMs: null, listRenders: 0, searchMs: null, searchSamples: [], rowsInDom: 0, rowsMatched: 0 };
let readyResolve: () => void = () => {};
const ready = new Promise<void>((r) => { readyResolve = r; });

declare global {
  interface Window {
    __keyport: { perf: Perf; ready: () => Promise<void>; select: (name: string) => boolean };
  }
}
window.__keyport = {
  perf,
  ready: () => ready,
  select: (name: string) => {
    if (!state.names.includes(name)) return false;
    select(name);
    revealSelection();
    return true;
  },
};

// ------------------------------------------------------------ the list

let loading: Promise<void> | null = null;
let again = false;
let listVersion = 0;

async function reload(): Promise<void> {
  if (loading) { again = true; return loading; }
  loading = (async () => {
    try {
      const list = await commands.list();
      const t0 = performance.now();
      setList(list);
      requestAnimationFrame(() => {
        perf.listRenderMs = performance.now() - t0;
        perf.listRenders++;
        perf.rowsInDom = rowsInDom;
        perf.rowsMatched = state.matched;
      });
      document.documentElement.dataset.listVersion = String(++listVersion);
      if (!document.documentElement.dataset.readyAt) {
        document.documentElement.dataset.readyAt = String(Date.now());
        readyResolve();
      }
    } catch (e) {
      pageError(e);
    } finally {
      loading = null;
      if (again) { again = false; void reload(); }
    }
  })();
  return loading;
}

subscribe((change) => {
  if (change === "info") return;
  if (change === "selection") {
    markSelection();
    revealSelection();
  } else {
    renderList();
  }
  renderDetails();
  // A change made elsewhere (the CLI, the agent, the background refresh) may have added
  // to the log while the view itself stayed the same.
  if (change === "list") refreshActivity();
});

function selectAndFocus(name: string): void {
  if (!state.names.includes(name) && state.query) setQuery("");
  select(name);
  revealSelection();
  $("#connections").focus({ preventScroll: true });
}

function focusConnection(name: string): void {
  selectAndFocus(name);
  const r = rowElement(name);
  if (r) {
    r.classList.add("flash");
    setTimeout(() => r.classList.remove("flash"), 1600);
  }
}

// ------------------------------------------------------------ search and keys

function mountSearch(): void {
  const box = $<HTMLInputElement>("#search");
  box.addEventListener("input", (ev) => {
    const t0 = ev.timeStamp > 0 && ev.timeStamp <= performance.now() ? ev.timeStamp : performance.now();
    setQuery(box.value);
    requestAnimationFrame(() => {
      const ms = performance.now() - t0;
      perf.searchMs = ms;
      perf.searchSamples.push(ms);
      if (perf.searchSamples.length > 50) perf.searchSamples.shift();
      perf.rowsInDom = rowsInDom;
      perf.rowsMatched = state.matched;
    });
  });
}

function focusSearch(): void {
  const box = $<HTMLInputElement>("#search");
  box.focus();
  box.select();
}

function where(target: EventTarget | null): "search" | "control" | "list" {
  const t = target as HTMLElement | null;
  if (!t || t === document.body) return "list";
  if (t.id === "search") return "search";
  if (t.id === "connections") return "list";
  if (t.closest("#details") && t.tagName !== "BUTTON") return "list";
  return "control";
}

function isTextField(t: EventTarget | null): boolean {
  const e = t as HTMLElement | null;
  if (!e) return false;
  return (e.tagName === "INPUT" && !["checkbox", "radio", "button", "submit"].includes((e as HTMLInputElement).type)) || e.tagName === "TEXTAREA" || e.tagName === "SELECT" || e.isContentEditable;
}

function onKey(ev: KeyboardEvent): void {
  if (anyDialogOpen() || menuOpen()) return;
  const w = where(ev.target);
  if (w === "control" && isTextField(ev.target)) return;
  const cmd = commandFor(ev, w);
  if (!cmd) return;
  const v = selectedView();
  switch (cmd.do) {
    case "search": focusSearch(); break;
    case "clear-search": {
      const box = $<HTMLInputElement>("#search");
      if (box.value) { box.value = ""; setQuery(""); }
      else $("#connections").focus({ preventScroll: true });
      break;
    }
    case "move": select(move(state.names, state.selected, cmd.by)); break;
    case "page": select(move(state.names, state.selected, cmd.by * pageRows())); break;
    case "first": select(state.names[0] ?? null); break;
    case "last": select(state.names[state.names.length - 1] ?? null); break;
    case "copy-token": if (v) void run(v.name, "copy-token"); break;
    case "copy-headers": if (v) void run(v.name, "copy-headers"); break;
    case "collapse": if (v) toggleGroup(v.client ?? "", cmd.collapsed); break;
    case "menu": if (v) openMenu(v.name, rowElement(v.name)?.querySelector<HTMLElement>("[data-testid=row-menu-button]") ?? null); break;
    case "refresh": if (v) void run(v.name, "refresh"); break;
    case "test": if (v) void run(v.name, "test"); break;
    case "edit": if (v) void run(v.name, "edit"); break;
    case "revoke": if (v) void run(v.name, "revoke"); break;
    case "connect": if (oauthVendors().length) void openConnect(oauthVendors()[0].id); break;
    case "add": if (adminVendors().length) openAdd(); break;
    case "help": openHelp(); break;
  }
  ev.preventDefault();
}

// ------------------------------------------------------------ info, autostart, start

function orList(words: string[]): string {
  return words.length < 2 ? words.join("") : `${words.slice(0, -1).join(", ")} or ${words[words.length - 1]}`;
}

function strongEm(parts: (string | [string, string])[]): (string | HTMLElement)[] {
  return parts.map((p) => {
    if (typeof p === "string") return p;
    const e = document.createElement(p[0]);
    e.textContent = p[1];
    return e;
  });
}

function applyInfo(info: Info): void {
  setInfo(info);
  document.documentElement.lang = state.locale;
  $("#metadata-path").textContent = `Metadata: ${info.metadata_path} · secrets in the system keychain`;
  for (const e of $$("[data-clear-secs]")) e.textContent = String(info.clipboard_clear_secs);
  const oauth = oauthVendors();
  const admin = adminVendors();
  const primary = $<HTMLButtonElement>("#connect-primary");
  const primaryLabel = oauth.length ? `Connect ${oauth[0].label}` : "Connect";
  primary.textContent = primaryLabel;
  primary.disabled = oauth.length === 0;
  show(primary, oauth.length > 0);
  $<HTMLButtonElement>("#connect-other").disabled = oauth.length < 2;
  show($("#connect-other"), oauth.length > 1);
  $<HTMLButtonElement>("#add-token").disabled = admin.length === 0;
  show($("#add-token"), admin.length > 0);
  buildVendorChoice();
  const steps: (string | HTMLElement)[][] = [];
  if (oauth.length) {
    steps.push(strongEm([["strong", `${oauth[0].label}:`], " click ", ["em", primaryLabel],
      ", enter the details of your app registration (its client ID, secret and redirect URI), then allow access in the browser window that opens."]));
  }
  if (oauth.length > 1) steps.push(strongEm([["strong", `${orList(oauth.slice(1).map((v) => v.label))}:`], " use ", ["em", "Connect…"], " and choose it."]));
  if (admin.length) {
    steps.push(strongEm([["strong", `${orList(admin.map((v) => v.label))}:`], " issue a token in the vendor's admin screen and paste it with ", ["em", "Add token"], "."]));
  }
  $("#empty-steps").replaceChildren(...steps.map((parts) => {
    const li = document.createElement("li");
    li.append(...parts);
    return li;
  }));
}

async function loadAutostart(): Promise<void> {
  const box = $<HTMLInputElement>("#autostart");
  try {
    box.checked = await commands.autostartGet();
    box.disabled = false;
  } catch (e) {
    box.disabled = true;
    box.parentElement!.title = sentence(e);
  }
}

async function setAutostart(): Promise<void> {
  const box = $<HTMLInputElement>("#autostart");
  const wanted = box.checked;
  box.disabled = true;
  try {
    box.checked = await commands.autostartSet(wanted);
    toast(box.checked ? "Keyport will start in the tray when you log in." : "Keyport will not start at login.");
  } catch (e) {
    box.checked = !wanted;
    pageError(e);
  } finally {
    box.disabled = false;
  }
}

async function start(): Promise<void> {
  hooks.reload = reload;
  hooks.select = selectAndFocus;
  errorHandlers.open = (name) => { for (const d of $$<HTMLDialogElement>("dialog")) if (d.open) d.close(); openReplace(name); };
  errorHandlers.forceRevoke = (name) => { for (const d of $$<HTMLDialogElement>("dialog")) if (d.open) d.close(); const v = viewOf(name); if (v) openRevoke(v, true); };
  for (const d of $$<HTMLDialogElement>("dialog")) {
    for (const c of $$("[data-close]", d)) c.addEventListener("click", () => d.close());
  }
  mountList((name, anchor) => openMenu(name, anchor), (name) => void run(name, "copy-token"));
  mountMenu((name, id) => void run(name, id));
  mountConnect();
  mountAdd();
  mountEdit();
  mountRevoke();
  mountHelp();
  mountPorting();
  mountSearch();
  $("#details").addEventListener("click", (ev) => {
    const b = (ev.target as HTMLElement).closest<HTMLButtonElement>("button[data-action]");
    const name = $("#details").dataset.for;
    if (b && name && !b.disabled) void run(name, b.dataset.action as never);
  });
  document.addEventListener("keydown", onKey);
  document.addEventListener("keydown", (ev) => { if (ev.key === "Escape" && menuOpen()) closeMenu(); }, true);

  on("connect-tick", (p) => handleEvent("tick", p));
  on("connect-ignored", (p) => handleEvent("ignored", p));
  on("connect-done", (p) => handleEvent("done", p));
  on("connect-failed", (p) => handleEvent("failed", p));
  try {
    applyInfo(await commands.info());
  } catch (e) {
    pageError(e);
  }
  on("connections-changed", () => void reload());
  on("focus-connection", (name) => focusConnection(name));
  $("#autostart").addEventListener("change", () => void setAutostart());
  void loadAutostart();
  await reload();
  void loadRegistrations();
  setInterval(tickRows, 1000);
  // Statuses (valid → expiring → expired) follow the clock too.
  setInterval(() => void reload(), 30000);
}

void start();
