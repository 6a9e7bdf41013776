// Search: every word of the query must appear (case- and accent-insensitive) in the
// connection's name, client, vendor, account context or note. The haystack is built once
// per view object, so a keystroke over 1,000 connections is a loop of `includes`.

import type { ConnectionView } from "../ipc";

const hay = new WeakMap<ConnectionView, string>();

export function fold(s: string): string {
  return s.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
}

/** What a connection is found by. */
export function haystack(v: ConnectionView): string {
  let h = hay.get(v);
  if (h === undefined) {
    const parts = [v.name, v.client ?? "", v.vendor, v.vendor_label, v.account ?? "", v.note ?? ""];
    for (const d of v.details) parts.push(d.value);
    h = fold(parts.join("\n"));
    hay.set(v, h);
  }
  return h;
}

/** The query's words, folded; empty for a blank query. */
export function terms(query: string): string[] {
  return fold(query).split(/\s+/).filter(Boolean);
}

export function matches(v: ConnectionView, words: string[]): boolean {
  if (words.length === 0) return true;
  const h = haystack(v);
  for (const w of words) if (!h.includes(w)) return false;
  return true;
}

export function filter(list: ConnectionView[], query: string): ConnectionView[] {
  const words = terms(query);
  if (words.length === 0) return list;
  return list.filter((v) => matches(v, words));
}
