// The keyboard shortcuts: one table for the help overlay and the key handler.

export interface Shortcut {
  keys: string[];
  what: string;
}

export const SHORTCUTS: Shortcut[] = [
  { keys: ["/", "Ctrl+F"], what: "Search (name, client, vendor, account, note)" },
  { keys: ["Esc"], what: "Clear the search; again: back to the list" },
  { keys: ["↑", "↓"], what: "Select the previous / next connection" },
  { keys: ["Home", "End", "PgUp", "PgDn"], what: "First / last / a page up or down" },
  { keys: ["Enter"], what: "Copy the selected connection's token" },
  { keys: ["Ctrl+Shift+C"], what: "Copy its headers" },
  { keys: ["←", "→"], what: "Collapse / expand its client's group" },
  { keys: ["M", "Shift+F10"], what: "Open its menu (all actions)" },
  { keys: ["R"], what: "Refresh it now" },
  { keys: ["T"], what: "Test it" },
  { keys: ["E"], what: "Edit it" },
  { keys: ["Delete"], what: "Revoke it (asks first)" },
  { keys: ["Ctrl+N"], what: "Connect…" },
  { keys: ["Ctrl+T"], what: "Add a token" },
  { keys: ["?"], what: "This help" },
];

export type Command =
  | { do: "search" }
  | { do: "clear-search" }
  | { do: "move"; by: number }
  | { do: "first" }
  | { do: "last" }
  | { do: "page"; by: number }
  | { do: "copy-token" }
  | { do: "copy-headers" }
  | { do: "collapse"; collapsed: boolean }
  | { do: "menu" }
  | { do: "refresh" }
  | { do: "test" }
  | { do: "edit" }
  | { do: "revoke" }
  | { do: "connect" }
  | { do: "add" }
  | { do: "help" };

export interface KeyLike {
  key: string;
  ctrlKey: boolean;
  shiftKey: boolean;
  altKey: boolean;
  metaKey: boolean;
}

/**
 * What a key press means. `where`: in the search box, on a button or other control, or
 * on the list / nowhere. Single letters never act while typing in the search box.
 */
export function commandFor(e: KeyLike, where: "search" | "control" | "list"): Command | null {
  const ctrl = e.ctrlKey || e.metaKey;
  const k = e.key;
  if (ctrl && !e.altKey) {
    if (e.shiftKey && (k === "C" || k === "c")) return { do: "copy-headers" };
    if (!e.shiftKey && (k === "f" || k === "F")) return { do: "search" };
    if (!e.shiftKey && (k === "n" || k === "N")) return { do: "connect" };
    if (!e.shiftKey && (k === "t" || k === "T")) return { do: "add" };
    return null;
  }
  if (e.altKey) return null;
  if (e.shiftKey && k === "F10") return { do: "menu" };
  if (k === "ContextMenu") return { do: "menu" };
  if (where === "search") {
    switch (k) {
      case "Escape": return { do: "clear-search" };
      case "ArrowDown": return { do: "move", by: 1 };
      case "ArrowUp": return { do: "move", by: -1 };
      case "PageDown": return { do: "page", by: 1 };
      case "PageUp": return { do: "page", by: -1 };
      case "Enter": return { do: "copy-token" };
      default: return null;
    }
  }
  if (where === "control") {
    // Buttons keep Enter and Space; only the global keys apply.
    if (k === "/") return { do: "search" };
    if (k === "?") return { do: "help" };
    return null;
  }
  switch (k) {
    case "/": return { do: "search" };
    case "?": return { do: "help" };
    case "Escape": return { do: "clear-search" };
    case "ArrowDown": return { do: "move", by: 1 };
    case "ArrowUp": return { do: "move", by: -1 };
    case "Home": return { do: "first" };
    case "End": return { do: "last" };
    case "PageDown": return { do: "page", by: 1 };
    case "PageUp": return { do: "page", by: -1 };
    case "Enter": return { do: "copy-token" };
    case "ArrowLeft": return { do: "collapse", collapsed: true };
    case "ArrowRight": return { do: "collapse", collapsed: false };
    case "Delete": return { do: "revoke" };
    case "m": case "M": return { do: "menu" };
    case "r": case "R": return { do: "refresh" };
    case "t": case "T": return { do: "test" };
    case "e": case "E": return { do: "edit" };
    default: return null;
  }
}
