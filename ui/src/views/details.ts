// The details pane of the selected connection: what `keyport show` shows (the same
// facts in the same order), every deadline with its date in the locale and how far off it
// is, the same actions as the row menu, and the activity log.

import { commands, type ConnectionView, type Event, type EventKind, type Source } from "../ipc";
import { actionsFor } from "../logic/actions";
import { dateWithRelative, formatDateTime } from "../logic/time";
import { selectedView, state } from "../store";
import { $, el } from "./dom";

const WHAT: Record<EventKind, string> = {
  connected: "Connected",
  reconnected: "Reconnected",
  added: "Added",
  imported: "Imported",
  refreshed: "Refreshed",
  tested: "Tested",
  token_copied: "Copied",
  token_replaced: "Token replaced",
  edited: "Edited",
  revoked: "Revoked",
};

const FROM: Record<Source, string> = { window: "window", cli: "command line", agent: "agent" };

const cap = (s: string) => (s ? s.charAt(0).toUpperCase() + s.slice(1) : "");
const now = () => Math.floor(Date.now() / 1000);

let shownFor: string | null = null;
let shownSig = "";
let activityFor: string | null = null;
let activitySeq = 0;

/** The facts of `keyport show`, as [key, label, value]. */
export function facts(v: ConnectionView, locale: string, t: number): [string, string, string][] {
  const when = (ts: number) => dateWithRelative(ts, t, locale);
  const out: [string, string, string][] = [
    ["vendor", "Vendor", v.vendor_label],
    ["status", "Status", cap(v.status_text)],
  ];
  const add = (key: string, label: string, value: string | null | undefined) => {
    if (value != null && value !== "") out.push([key, label, value]);
  };
  add("client", "Client", v.client);
  add("note", "Note", v.note);
  add("base_url", "Base URL", v.base_url);
  for (const d of v.details) add(d.key, d.label, d.value);
  add("expires", "Token expires", v.expires_at != null ? when(v.expires_at) : "no date");
  if (v.kind === "oauth") add("last_refresh", "Last refresh", v.last_refresh != null ? when(v.last_refresh) : "not yet");
  add("store", "Lives in", v.store ?? "this computer (keychain)");
  add("last_refresh_by", "Refreshed by", v.last_refresh_by);
  if (v.shared_at != null) add("shared", "Shared", `${when(v.shared_at)} by ${v.shared_by ?? "?"}`);
  if (v.consented_at != null) add("consented_at", "Signed in", when(v.consented_at));
  add("created_at", "Added", when(v.created_at));
  add("unverified", "Not verified", v.unverified);
  add("test_path", "Test reads", v.test_path);
  if (v.registration) {
    add("client_id", "Client ID", v.registration.client_id);
    add("redirect_uri", "Redirect URI", v.registration.redirect_uri);
    add("token_url", "Token endpoint", v.registration.token_url);
    add("revocation_url", "Revocation", v.registration.revocation_url);
  }
  return out;
}

export function renderDetails(force = false): void {
  const pane = $("#details");
  const v = selectedView();
  if (!v) {
    shownFor = null;
    pane.dataset.for = "";
    pane.replaceChildren(el("p", { class: "muted details-empty", text: state.list.length ? "Select a connection to see its details." : "" }));
    return;
  }
  const sig = JSON.stringify(v);
  if (!force && shownFor === v.name && sig === shownSig) return;
  const sameConn = shownFor === v.name;
  shownFor = v.name;
  shownSig = sig;
  pane.dataset.for = v.name;
  const t = now();
  const locale = state.locale;

  const head = el("header", { class: "details-head" },
    el("h2", { "data-testid": "details-name", text: v.name }),
    el("span", { class: "badge", "data-status": v.status, text: cap(v.status.replace("_", " ")) }));
  const actions = el("div", { class: "details-actions" });
  for (const a of actionsFor(v, { envFiles: state.porting })) {
    const b = el("button", { type: "button", class: a.danger ? "small danger-outline" : a.id === "copy-token" ? "small primary" : "small", "data-action": a.id, text: a.label });
    if (a.title) b.title = a.title + (a.keys ? ` (${a.keys})` : "");
    if (a.disabled) b.disabled = true;
    actions.append(b);
  }
  const dl = el("dl", { class: "facts" });
  for (const [key, label, value] of facts(v, locale, t)) {
    const row = el("div", { "data-testid": "detail-field", "data-key": key },
      el("dt", { "data-testid": "detail-label", text: label }),
      el("dd", { "data-testid": "detail-value", text: value }));
    dl.append(row);
  }
  const parts: Node[] = [head, actions];
  for (const w of v.warnings) parts.push(el("p", { class: "warning", text: w.message }));
  parts.push(dl);
  if (v.deadlines.length) {
    const ul = el("ul", { class: "deadlines" });
    for (const d of v.deadlines) {
      const li = el("li", { "data-testid": "deadline", "data-at": String(d.at) },
        el("strong", { text: `${cap(d.what)}: ` }), `${dateWithRelative(d.at, t, locale)}. `, el("span", { class: "muted", text: d.todo }));
      ul.append(li);
    }
    parts.push(el("h3", { text: "Deadlines" }), ul);
  }
  const log = el("ol", { class: "activity", "data-testid": "activity", "aria-live": "off" });
  parts.push(el("h3", { text: "Activity" }), log);
  // Keep the log already shown while the new one loads (no flicker on each list change).
  const old = sameConn ? pane.querySelector("[data-testid=activity]") : null;
  if (old) log.replaceChildren(...old.childNodes);
  pane.replaceChildren(...parts);
  void loadActivity(v.name);
}

/** Reloads the shown connection's activity log (after an action, or a change elsewhere). */
export function refreshActivity(): void {
  if (shownFor) void loadActivity(shownFor);
}

/** Loads and shows the activity log of `name` (newest first). */
export async function loadActivity(name: string): Promise<void> {
  const seq = ++activitySeq;
  activityFor = name;
  let events: Event[];
  try {
    events = await commands.activity(name);
  } catch {
    events = [];
  }
  if (seq !== activitySeq || activityFor !== name || shownFor !== name) return;
  const log = document.querySelector("#details [data-testid=activity]");
  if (!log) return;
  const locale = state.locale;
  const items = events
    .slice()
    .reverse()
    .map((e) => {
      const li = el("li", { "data-testid": "activity-entry", "data-what": e.what, "data-ok": String(e.ok), "data-from": e.from, "data-at": String(e.at) },
        el("time", { text: formatDateTime(e.at, locale) }), " ",
        el("span", { class: e.ok ? "ok" : "bad", text: `${WHAT[e.what] ?? e.what}${e.ok ? "" : " — failed"}` }),
        e.detail ? el("span", { class: "muted", text: ` (${e.detail})` }) : "",
        el("span", { class: "muted from", text: ` · ${FROM[e.from] ?? e.from}` }));
      return li;
    });
  if (items.length === 0) items.push(el("li", { class: "muted", text: "Nothing yet." }));
  log.replaceChildren(...items);
}
