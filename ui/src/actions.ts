// What the row menu, the details pane's buttons and the shortcuts do to a connection.

import { commands, type Copied } from "./ipc";
import type { ActionId } from "./logic/actions";
import { putView, viewOf } from "./store";
import { openAdd } from "./views/add";
import { openReconnect } from "./views/connect";
import { openEdit } from "./views/edit";
import { pageError, toast } from "./views/feedback";
import { reloadList } from "./views/hooks";
import { openRevoke } from "./views/revoke";
import { openEnvFile } from "./views/porting";
import { refreshActivity } from "./views/details";

function copied(c: Copied, name: string): void {
  const what: Record<string, string> = {
    token: `The token of '${name}' is`,
    headers: `The headers of '${name}' are`,
    curl: `A curl command for '${name}' is`,
    env: `A .env file for '${name}' is`,
  };
  toast(`${what[c.what] ?? "It is"} on the clipboard (${c.preview}). Keyport clears the clipboard in ${c.clear_secs} s.`);
}

/** Reconnect (OAuth) or Replace token (admin-issued) for an existing connection. */
export function openReplace(name: string): void {
  const v = viewOf(name);
  if (!v) return;
  if (v.kind === "oauth") void openReconnect(v);
  else openAdd({ vendor: v.vendor, replace: true, name, view: v });
}

const running = new Set<string>();

export async function run(name: string, id: ActionId): Promise<void> {
  const v = viewOf(name);
  if (!v) return;
  switch (id) {
    case "reconnect": openReplace(name); return;
    case "edit": openEdit(v); return;
    case "revoke": openRevoke(v); return;
    case "export-env": openEnvFile(v); return;
  }
  const key = `${id} ${name}`;
  if (running.has(key)) return;
  running.add(key);
  pageError(null);
  try {
    switch (id) {
      case "copy-token": copied(await commands.copyToken(name), name); break;
      case "copy-headers": copied(await commands.copyHeaders(name), name); break;
      case "copy-curl": copied(await commands.copyCurl(name), name); break;
      case "copy-env": copied(await commands.copyEnv(name), name); break;
      case "refresh": {
        if (v.kind !== "oauth" || !v.can_refresh) return;
        const nv = await commands.refresh(name);
        putView(nv);
        toast(`Refreshed '${name}': ${nv.status_text}.`);
        await reloadList();
        break;
      }
      case "test": {
        const r = await commands.test(name);
        toast(r.summary, r.ok ? "ok" : "error", 9000);
        await reloadList();
        break;
      }
    }
  } catch (e) {
    pageError(e, { name });
    void reloadList();
  } finally {
    running.delete(key);
    refreshActivity();
  }
}
