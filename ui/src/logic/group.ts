// Grouping by client: one group per client label (trimmed; case-insensitively the same
// client is one group), sorted by the locale's collation, the connections without a client
// last; rows sorted by name inside a group. Counts and "needs attention" per group.

import type { ConnectionView } from "../ipc";

export interface Group {
  /** The client as first written ("" for no client): the group's key. */
  client: string;
  label: string;
  items: ConnectionView[];
  attention: number;
  collapsed: boolean;
}

export const NO_CLIENT = "No client";

export function clientOf(v: ConnectionView): string {
  return (v.client ?? "").trim();
}

export function groupKey(client: string): string {
  return client.toLocaleLowerCase();
}

export function group(list: ConnectionView[], collapsed: ReadonlySet<string>, locale?: string): Group[] {
  const collator = new Intl.Collator(locale, { sensitivity: "base", numeric: true });
  const byKey = new Map<string, Group>();
  for (const v of list) {
    const client = clientOf(v);
    const key = groupKey(client);
    let g = byKey.get(key);
    if (!g) {
      g = { client, label: client || NO_CLIENT, items: [], attention: 0, collapsed: collapsed.has(key) };
      byKey.set(key, g);
    }
    g.items.push(v);
    if (v.needs_attention) g.attention++;
  }
  const groups = [...byKey.values()];
  for (const g of groups) g.items.sort((a, b) => collator.compare(a.name, b.name));
  groups.sort((a, b) => {
    if (!a.client !== !b.client) return a.client ? -1 : 1;
    return collator.compare(a.client, b.client);
  });
  return groups;
}

/** What the list shows, top to bottom: a header per group, then its rows unless collapsed. */
export type Item = { kind: "group"; group: Group } | { kind: "row"; view: ConnectionView; group: Group };

export function flatten(groups: Group[]): Item[] {
  const out: Item[] = [];
  for (const g of groups) {
    out.push({ kind: "group", group: g });
    if (!g.collapsed) for (const v of g.items) out.push({ kind: "row", view: v, group: g });
  }
  return out;
}

/** The names of the rows shown, in order (for the arrow keys). */
export function visibleNames(items: Item[]): string[] {
  const out: string[] = [];
  for (const it of items) if (it.kind === "row") out.push(it.view.name);
  return out;
}

/** The selection after moving `delta` rows (clamped); the first row when none. */
export function move(names: string[], current: string | null, delta: number): string | null {
  if (names.length === 0) return null;
  const i = current == null ? -1 : names.indexOf(current);
  if (i < 0) return delta < 0 ? names[names.length - 1] : names[0];
  return names[Math.max(0, Math.min(names.length - 1, i + delta))];
}
