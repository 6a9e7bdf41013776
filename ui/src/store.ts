// The one store: the connections, the vendors, the search, the selection and what is
// collapsed. Views read `state` and re-render on `subscribe`; only the functions here
// change it.

import type { ConnectionView, Info, Registration } from "./ipc";
import { filter } from "./logic/search";
import { flatten, group, groupKey, type Group, type Item, visibleNames } from "./logic/group";

export interface State {
  list: ConnectionView[];
  byName: Map<string, ConnectionView>;
  info: Info | null;
  locale: string;
  registrations: Registration[];
  query: string;
  selected: string | null;
  collapsed: Set<string>;
  /** Derived: the groups and rows shown. */
  groups: Group[];
  items: Item[];
  names: string[];
  matched: number;
  loaded: boolean;
  /** Whether the engine offers export/import and environment files. */
  porting: boolean;
}

export const state: State = {
  list: [],
  byName: new Map(),
  info: null,
  locale: navigator.language || "en-US",
  registrations: [],
  query: "",
  selected: null,
  collapsed: new Set(),
  groups: [],
  items: [],
  names: [],
  matched: 0,
  loaded: false,
  porting: false,
};

export type Change = "list" | "search" | "selection" | "collapse" | "info";
type Listener = (change: Change) => void;
const listeners: Listener[] = [];

export function subscribe(fn: Listener): void {
  listeners.push(fn);
}

function emit(change: Change): void {
  for (const fn of listeners) fn(change);
}

function derive(): void {
  const shown = filter(state.list, state.query);
  state.matched = shown.length;
  state.groups = group(shown, state.collapsed, state.locale);
  state.items = flatten(state.groups);
  state.names = visibleNames(state.items);
  // Keep the selection while it is shown; else the first row shown.
  if (state.selected == null || !state.names.includes(state.selected)) {
    state.selected = state.names[0] ?? null;
  }
}

export function setList(list: ConnectionView[]): void {
  state.list = list;
  state.byName = new Map(list.map((v) => [v.name, v]));
  state.loaded = true;
  derive();
  emit("list");
}

/** One connection changed (an edit, a refresh): replace it in place. */
export function putView(v: ConnectionView): void {
  setList(state.list.map((x) => (x.name === v.name ? v : x)));
}

export function setInfo(info: Info): void {
  state.info = info;
  if (info.locale) state.locale = info.locale;
  emit("info");
}

export function setQuery(q: string): void {
  if (q === state.query) return;
  state.query = q;
  derive();
  emit("search");
}

export function select(name: string | null): void {
  if (name === state.selected) return;
  state.selected = name;
  emit("selection");
}

export function toggleGroup(client: string, collapsed?: boolean): void {
  const key = groupKey(client);
  const now = collapsed ?? !state.collapsed.has(key);
  if (now) state.collapsed.add(key);
  else state.collapsed.delete(key);
  const keep = state.selected;
  derive();
  // A collapsed group's selected row hands the selection to the next row shown.
  if (keep && !state.names.includes(keep)) state.selected = state.names[0] ?? null;
  emit("collapse");
}

export function viewOf(name: string): ConnectionView | undefined {
  return state.byName.get(name);
}

export function selectedView(): ConnectionView | undefined {
  return state.selected ? state.byName.get(state.selected) : undefined;
}
