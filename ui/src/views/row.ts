// One connection's row: name, vendor, account context (company file, tenant, user…),
// status and time left, and the ⋯ button of its menu. ~34 px high.

import type { ConnectionView } from "../ipc";
import { timeLeft } from "../logic/time";
import { el, setText } from "./dom";

export const STATUS_LABEL: Record<ConnectionView["status"], string> = {
  valid: "Valid",
  expiring_soon: "Expiring soon",
  expired: "Expired",
  needs_reconnect: "Needs reconnect",
  refresh_failed: "Refresh failed",
};

/** Which account and API it reaches, as the vendor names them. */
export function accountText(v: ConnectionView): string {
  if (v.account) return v.account;
  return v.details
    .slice(0, 2)
    .map((d) => d.value)
    .join(" · ");
}

export function signature(v: ConnectionView): string {
  return [v.status, v.expires_at, v.account, v.client, v.note, v.unverified, v.store, v.needs_attention, v.vendor_label, v.details.length, v.status_text].join("|");
}

export function rowId(name: string): string {
  return `row-${name}`;
}

export function createRow(v: ConnectionView, now: number): HTMLElement {
  const r = el("div", { class: "conn", role: "option", "data-testid": "row" });
  r.id = rowId(v.name);
  r.dataset.connection = v.name;
  r.dataset.name = v.name;
  fillRow(r, v, now);
  return r;
}

export function fillRow(r: HTMLElement, v: ConnectionView, now: number): void {
  r.dataset.sig = signature(v);
  r.dataset.status = v.status;
  r.dataset.vendor = v.vendor;
  r.dataset.client = v.client ?? "";
  if (v.expires_at != null) r.dataset.expiresAt = String(v.expires_at);
  else delete r.dataset.expiresAt;
  if (v.needs_attention) r.dataset.attention = "true";
  else delete r.dataset.attention;

  const name = el("span", { class: "cell c-name" }, el("span", { class: "conn-name", "data-testid": "row-name", text: v.name }));
  if (v.unverified) {
    const u = el("span", { class: "badge unverified", "data-unverified": "", text: "Unverified" });
    u.title = v.unverified;
    name.append(u);
  }
  if (v.store) {
    const s = el("span", { class: "badge shared", "data-shared": v.store, text: "Shared" });
    s.title = `Lives in ${v.store}` + (v.last_refresh_by ? `; last refreshed by ${v.last_refresh_by}` : "");
    name.append(s);
  }
  const account = el("span", { class: "cell c-account", "data-testid": "row-account" }, accountText(v));
  if (v.details.length) account.title = v.details.map((d) => `${d.label}: ${d.value}`).join("\n");
  if (v.note && v.note !== v.account) {
    account.append(el("span", { class: "conn-note", text: ` — ${v.note}` }));
    account.title = `${account.title ? `${account.title}\n` : ""}Note: ${v.note}`;
  }
  const vendor = el("span", { class: "cell c-vendor", "data-testid": "row-vendor", text: v.vendor_label });
  const status = el("span", { class: "cell c-status", "data-testid": "row-status" }, el("span", { class: "dot", "aria-hidden": "true" }), STATUS_LABEL[v.status] ?? v.status);
  status.title = v.status_text;
  const left = el("span", { class: "cell c-left conn-left", "data-testid": "row-left", "data-left": "", text: timeLeft(v.expires_at, now) });
  const menu = el("button", { class: "icon row-menu-button", type: "button", "data-testid": "row-menu-button", tabindex: "-1", "aria-haspopup": "menu", text: "⋯" });
  menu.setAttribute("aria-label", `Actions for ${v.name}`);
  const client = el("span", { class: "conn-client vh", text: v.client ?? "" });
  r.replaceChildren(name, account, vendor, status, left, menu, client);
}

/** The live countdown of a rendered row. */
export function tickRow(r: HTMLElement, now: number): void {
  const exp = r.dataset.expiresAt ? Number(r.dataset.expiresAt) : null;
  const left = r.querySelector(".conn-left");
  if (left) setText(left, timeLeft(exp, now));
}
