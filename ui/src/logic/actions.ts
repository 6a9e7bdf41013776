// What can be done to a connection, for its row menu and the details pane (one list, so
// they never disagree). Each becomes a button `[data-action=ACTION]`.

import type { ConnectionView } from "../ipc";

export type ActionId =
  | "copy-token"
  | "copy-headers"
  | "copy-curl"
  | "copy-env"
  | "refresh"
  | "test"
  | "reconnect"
  | "edit"
  | "export-env"
  | "revoke";

export interface ActionSpec {
  id: ActionId;
  label: string;
  title?: string;
  disabled?: boolean;
  danger?: boolean;
  /** The shortcut shown beside it. */
  keys?: string;
}

export function actionsFor(v: ConnectionView, opts: { envFiles?: boolean } = {}): ActionSpec[] {
  const out: ActionSpec[] = [
    { id: "copy-token", label: "Copy token", keys: "Enter", title: "Copy the access token; the clipboard is cleared again shortly" },
    { id: "copy-headers", label: "Copy headers", keys: "Ctrl+Shift+C", title: "Copy the vendor's full header set" },
    { id: "copy-curl", label: "Copy as curl", title: "Copy a ready-to-run curl command" },
    { id: "copy-env", label: "Copy as .env", title: "Copy the token, base URL and account ids as a .env file (the names keyport env uses)" },
  ];
  if (v.kind === "oauth") {
    out.push({
      id: "refresh",
      label: "Refresh now",
      keys: "R",
      disabled: !v.can_refresh,
      title: v.can_refresh ? "Get a new access token now" : "No refresh token: reconnect to get a new access token",
    });
  }
  out.push({ id: "test", label: "Test", keys: "T", title: "Make a harmless read call with the stored credentials" });
  out.push({ id: "edit", label: "Edit…", keys: "E", title: "Change the note, client, base URL or test path; the secrets stay as they are" });
  out.push({ id: "reconnect", label: v.kind === "oauth" ? "Reconnect…" : "Replace token…" });
  if (opts.envFiles) out.push({ id: "export-env", label: "Export for an API tool…", title: "A Postman, Insomnia or Bruno environment file with the base URL and account ids" });
  out.push({ id: "revoke", label: "Revoke…", keys: "Delete", danger: true });
  return out;
}
