// What an error offers: its sentence, and buttons for the engine's actions that the window
// can carry out. `reconnect`/`reissue` open the connection's Reconnect or Replace-token
// form, `replace` turns the open form into a replace, `force_revoke` offers "Remove here
// anyway". The others (`retry`, `fix_input`, `unlock_keychain`…) are for the person: the
// sentence says what to do, and no button pretends to do it.

import type { ActionKind, CommandError, ConnectionView } from "../ipc";

export type ErrorButton =
  | { kind: "open"; label: string; name: string; from: ActionKind }
  | { kind: "replace"; label: string; from: ActionKind }
  | { kind: "force_revoke"; label: string; name: string; from: ActionKind };

export interface ErrorContext {
  /** The connection the failed call was about. */
  name?: string | null;
  /** The open form can turn into a replace. */
  canReplace?: boolean;
  /** Inside the Revoke dialog (it has its own "Remove here anyway"). */
  inRevoke?: boolean;
}

export function isCommandError(e: unknown): e is CommandError {
  return !!e && typeof e === "object" && typeof (e as CommandError).message === "string" && Array.isArray((e as CommandError).actions);
}

/** The sentence to show for anything a command rejected with. */
export function sentence(e: unknown): string {
  if (e && typeof e === "object" && typeof (e as { message?: unknown }).message === "string") return (e as { message: string }).message;
  if (typeof e === "string") return e;
  return "Something went wrong in the window. Close Keyport and open it again.";
}

export function hasAction(e: unknown, kind: ActionKind): boolean {
  return isCommandError(e) && e.actions.some((a) => a.kind === kind);
}

export function errorButtons(e: unknown, ctx: ErrorContext, viewOf: (name: string) => ConnectionView | undefined): ErrorButton[] {
  if (!isCommandError(e)) return [];
  const out: ErrorButton[] = [];
  const seen = new Set<string>();
  for (const a of e.actions) {
    const name = a.name ?? ctx.name ?? null;
    const v = name ? viewOf(name) : undefined;
    switch (a.kind) {
      case "reconnect":
      case "reissue":
        if (v && name && !seen.has(`open ${name}`)) {
          seen.add(`open ${name}`);
          out.push({ kind: "open", name, from: a.kind, label: v.kind === "oauth" ? `Reconnect '${name}'` : `Replace the token of '${name}'…` });
        }
        break;
      case "replace":
        if (ctx.canReplace && !seen.has("replace")) {
          seen.add("replace");
          out.push({ kind: "replace", from: a.kind, label: name ? `Replace '${name}'` : "Replace it" });
        }
        break;
      case "force_revoke":
        if (!ctx.inRevoke && v && name && !seen.has("force")) {
          seen.add("force");
          out.push({ kind: "force_revoke", name, from: a.kind, label: "Remove here anyway…" });
        }
        break;
      case "revoke":
      case "unlock_keychain":
      case "retry":
      case "fix_input":
      case "free_port":
      case "list":
      case "move_metadata_aside":
        break;
      default: {
        // A new action kind in the engine must be decided on here: this fails `tsc`.
        const never: never = a.kind;
        void never;
      }
    }
  }
  return out;
}
