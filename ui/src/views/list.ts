// The grouped list: a header per client (toggle, count, needs-attention badge), then its
// rows. Rows have a fixed height, so only the rows in view (plus a margin) are in the DOM
// once the list is long: 1,000 connections cost the same to draw as 30. Elements are kept
// per connection and re-filled only when what they show changed.

import { state, select, toggleGroup } from "../store";
import type { Group, Item } from "../logic/group";
import { groupKey } from "../logic/group";
import { createRow, fillRow, rowId, signature, tickRow } from "./row";
import { $, el, setText, show } from "./dom";

export const ROW_H = 34;
export const GROUP_H = 30;
/** Up to this many items everything is in the DOM; above it, only what is in view. */
export const ALL_BELOW = 150;
const OVERSCAN = 12;

let scroller: HTMLElement;
let sizer: HTMLElement;
const rows = new Map<string, HTMLElement>();
const groups = new Map<string, HTMLElement>();
/** Each header's badge, in the DOM only while some connection needs attention. */
const attentionOf = new WeakMap<HTMLElement, HTMLElement>();
let offsets: number[] = [];
let total = 0;
export let rowsInDom = 0;

const now = () => Math.floor(Date.now() / 1000);

export function mountList(onMenu: (name: string, anchor: HTMLElement) => void, onActivate: (name: string) => void): void {
  scroller = $("#connections");
  sizer = el("div", { class: "list-sizer" });
  scroller.append(sizer);
  scroller.addEventListener("scroll", () => renderWindow(), { passive: true });
  new ResizeObserver(() => renderWindow()).observe(scroller);
  scroller.addEventListener("click", (ev) => {
    const t = ev.target as HTMLElement;
    const toggle = t.closest<HTMLElement>("[data-testid=group-toggle]");
    if (toggle) {
      const g = toggle.closest<HTMLElement>("[data-testid=group]");
      if (g) toggleGroup(g.dataset.client ?? "");
      return;
    }
    const row = t.closest<HTMLElement>("[data-connection]");
    if (!row) return;
    const name = row.dataset.connection!;
    select(name);
    const menu = t.closest<HTMLElement>("[data-testid=row-menu-button]");
    if (menu) onMenu(name, menu);
    else scroller.focus({ preventScroll: true });
  });
  scroller.addEventListener("dblclick", (ev) => {
    const row = (ev.target as HTMLElement).closest<HTMLElement>("[data-connection]");
    if (row && !(ev.target as HTMLElement).closest("button")) onActivate(row.dataset.connection!);
  });
  scroller.addEventListener("contextmenu", (ev) => {
    const row = (ev.target as HTMLElement).closest<HTMLElement>("[data-connection]");
    if (!row) return;
    ev.preventDefault();
    select(row.dataset.connection!);
    onMenu(row.dataset.connection!, row.querySelector<HTMLElement>("[data-testid=row-menu-button]") ?? row);
  });
}

function layout(items: Item[]): void {
  offsets = new Array(items.length);
  let y = 0;
  for (let i = 0; i < items.length; i++) {
    offsets[i] = y;
    y += items[i].kind === "group" ? GROUP_H : ROW_H;
  }
  total = y;
  sizer.style.height = `${total}px`;
}

/** The whole list after new data, a search, or a collapse. */
export function renderList(): void {
  layout(state.items);
  const empty = state.loaded && state.list.length === 0;
  show($("#empty-state"), empty);
  show(scroller, !empty);
  show($("[data-testid=no-match]"), !empty && state.list.length > 0 && state.matched === 0);
  const count = $("[data-testid=search-count]");
  setText(count, state.query ? `${state.matched} of ${state.list.length}` : `${state.list.length}`);
  renderWindow();
  markSelection();
}

function firstIndexAt(y: number): number {
  let lo = 0;
  let hi = offsets.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (offsets[mid] <= y) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

function renderWindow(): void {
  const items = state.items;
  let from = 0;
  let to = items.length - 1;
  if (items.length > ALL_BELOW) {
    const top = scroller.scrollTop;
    const h = scroller.clientHeight || 600;
    from = Math.max(0, firstIndexAt(top) - OVERSCAN);
    to = Math.min(items.length - 1, firstIndexAt(top + h) + OVERSCAN);
  }
  const t = now();
  const keepRows = new Set<string>();
  const keepGroups = new Set<string>();
  let prev: Element | null = null;
  // Every group header is drawn (a few per client); rows only within [from, to].
  for (let i = 0; i < items.length; i++) {
    const it = items[i];
    if (it.kind === "row" && (i < from || i > to)) continue;
    let e: HTMLElement;
    if (it.kind === "group") {
      const key = groupKey(it.group.client);
      keepGroups.add(key);
      e = groups.get(key) ?? makeGroup(key);
      fillGroup(e, it.group);
    } else {
      const v = it.view;
      keepRows.add(v.name);
      const had = rows.get(v.name);
      if (!had) {
        e = createRow(v, t);
        rows.set(v.name, e);
      } else {
        e = had;
        if (e.dataset.sig !== signature(v)) fillRow(e, v, t);
      }
    }
    const top = `${offsets[i]}px`;
    if (e.style.top !== top) e.style.top = top;
    // Keep DOM order = visual order (screen readers, WebDriver text).
    const want: Element | null = prev ? prev.nextElementSibling : sizer.firstElementChild;
    if (want !== e) sizer.insertBefore(e, want);
    prev = e;
  }
  for (const [name, e] of rows) if (!keepRows.has(name)) { e.remove(); rows.delete(name); }
  for (const [key, e] of groups) if (!keepGroups.has(key)) { e.remove(); groups.delete(key); }
  rowsInDom = rows.size;
  markSelection();
}

function makeGroup(key: string): HTMLElement {
  const g = el("div", { class: "group", "data-testid": "group", role: "presentation" });
  const toggle = el("button", { type: "button", class: "group-toggle", "data-testid": "group-toggle", tabindex: "-1" },
    el("span", { class: "chev", "aria-hidden": "true", text: "▾" }), el("span", { "data-testid": "group-name" }));
  const count = el("span", { class: "group-count", "data-testid": "group-count" });
  const attention = el("span", { class: "group-attention", "data-testid": "group-attention" });
  g.append(toggle, count);
  attentionOf.set(g, attention);
  groups.set(key, g);
  return g;
}

function fillGroup(g: HTMLElement, grp: Group): void {
  g.dataset.client = grp.client;
  g.dataset.count = String(grp.items.length);
  g.dataset.attention = String(grp.attention);
  g.dataset.collapsed = String(grp.collapsed);
  const toggle = g.querySelector<HTMLElement>("[data-testid=group-toggle]")!;
  toggle.setAttribute("aria-expanded", String(!grp.collapsed));
  setText(toggle.querySelector("[data-testid=group-name]")!, grp.label);
  setText(g.querySelector("[data-testid=group-count]")!, String(grp.items.length));
  const att = attentionOf.get(g)!;
  if (grp.attention > 0) {
    setText(att, String(grp.attention));
    att.title = `${grp.attention} need${grp.attention === 1 ? "s" : ""} attention`;
    if (!att.isConnected) g.append(att);
  } else if (att.isConnected) {
    att.remove();
  }
}

let marked: string | null = null;

/** The selected row's look and the listbox's active descendant. */
export function markSelection(): void {
  const sel = state.selected;
  if (marked && marked !== sel) {
    const old = rows.get(marked);
    if (old) { old.removeAttribute("aria-selected"); delete old.dataset.selected; }
  }
  if (sel) {
    const r = rows.get(sel);
    if (r) { r.setAttribute("aria-selected", "true"); r.dataset.selected = "true"; }
    scroller.setAttribute("aria-activedescendant", rowId(sel));
  } else {
    scroller.removeAttribute("aria-activedescendant");
  }
  marked = sel;
}

/** Scrolls so the selected row is in view (then draws what came into view). */
export function revealSelection(): void {
  const sel = state.selected;
  if (!sel) return;
  const i = state.items.findIndex((it) => it.kind === "row" && it.view.name === sel);
  if (i < 0) return;
  const y = offsets[i];
  const h = scroller.clientHeight;
  if (y < scroller.scrollTop) scroller.scrollTop = Math.max(0, y - GROUP_H);
  else if (y + ROW_H > scroller.scrollTop + h) scroller.scrollTop = y + ROW_H - h;
  renderWindow();
}

/** Rows per page, for PageUp/PageDown. */
export function pageRows(): number {
  return Math.max(1, Math.floor((scroller.clientHeight || 300) / ROW_H) - 1);
}

export function tickRows(): void {
  const t = now();
  for (const r of rows.values()) tickRow(r, t);
}

export function rowElement(name: string): HTMLElement | undefined {
  return rows.get(name);
}
