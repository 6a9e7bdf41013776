import { describe, expect, it } from "vitest";
import { errorButtons, hasAction, sentence } from "../src/logic/errors";
import { actionsFor } from "../src/logic/actions";
import { commandFor } from "../src/logic/shortcuts";
import type { CommandError } from "../src/ipc";
import { view } from "./fixture";

const views = new Map([
  ["acme", view({ name: "acme", kind: "oauth", can_refresh: true })],
  ["shop", view({ name: "shop", kind: "admin" })],
]);
const viewOf = (n: string) => views.get(n);
const err = (actions: CommandError["actions"]): CommandError => ({ code: "x", message: "What went wrong. What to do.", actions });

describe("error → buttons", () => {
  it("offers Reconnect for OAuth and Replace token for admin-issued tokens, once each", () => {
    const b = errorButtons(err([{ kind: "reconnect", name: "acme" }, { kind: "reissue", name: "acme" }, { kind: "reissue", name: "shop" }]), {}, viewOf);
    expect(b.map((x) => x.label)).toEqual(["Reconnect 'acme'", "Replace the token of 'shop'…"]);
  });

  it("offers Replace only where the open form can replace, and force revoke outside the Revoke dialog", () => {
    const e = err([{ kind: "replace", name: "acme" }, { kind: "force_revoke", name: "acme" }]);
    expect(errorButtons(e, {}, viewOf).map((x) => x.kind)).toEqual(["force_revoke"]);
    expect(errorButtons(e, { canReplace: true, inRevoke: true }, viewOf).map((x) => x.kind)).toEqual(["replace"]);
  });

  it("gives no button for what only the person can do, and the sentence always", () => {
    const e = err([{ kind: "retry" }, { kind: "unlock_keychain" }, { kind: "fix_input" }]);
    expect(errorButtons(e, {}, viewOf)).toEqual([]);
    expect(sentence(e)).toBe("What went wrong. What to do.");
    expect(sentence("plain")).toBe("plain");
    expect(sentence(null)).toMatch(/open it again/);
    expect(hasAction(e, "retry")).toBe(true);
    expect(hasAction(e, "force_revoke")).toBe(false);
  });

  it("uses the connection the call was about when the action names none", () => {
    const b = errorButtons(err([{ kind: "reconnect" }]), { name: "acme" }, viewOf);
    expect(b).toEqual([{ kind: "open", name: "acme", from: "reconnect", label: "Reconnect 'acme'" }]);
  });
});

describe("row actions and shortcuts", () => {
  it("offers Refresh only for OAuth, disabled without a refresh token", () => {
    expect(actionsFor(views.get("shop")!).map((a) => a.id)).not.toContain("refresh");
    const noRefresh = actionsFor(view({ name: "x", kind: "oauth", can_refresh: false })).find((a) => a.id === "refresh");
    expect(noRefresh?.disabled).toBe(true);
    expect(actionsFor(views.get("acme")!, { envFiles: true }).map((a) => a.id)).toContain("export-env");
  });

  const key = (k: string, m: Partial<{ ctrlKey: boolean; shiftKey: boolean }> = {}) => ({ key: k, ctrlKey: false, shiftKey: false, altKey: false, metaKey: false, ...m });
  it("maps keys to commands, and never single letters while typing a search", () => {
    expect(commandFor(key("/"), "list")).toEqual({ do: "search" });
    expect(commandFor(key("f", { ctrlKey: true }), "control")).toEqual({ do: "search" });
    expect(commandFor(key("C", { ctrlKey: true, shiftKey: true }), "search")).toEqual({ do: "copy-headers" });
    expect(commandFor(key("Enter"), "search")).toEqual({ do: "copy-token" });
    expect(commandFor(key("ArrowDown"), "search")).toEqual({ do: "move", by: 1 });
    expect(commandFor(key("Escape"), "search")).toEqual({ do: "clear-search" });
    expect(commandFor(key("r"), "search")).toBeNull();
    expect(commandFor(key("r"), "list")).toEqual({ do: "refresh" });
    expect(commandFor(key("?"), "list")).toEqual({ do: "help" });
    // On a button, Enter is the button's.
    expect(commandFor(key("Enter"), "control")).toBeNull();
  });
});
