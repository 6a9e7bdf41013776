// The Revoke confirmation: what happens at the vendor (its own words) and on this
// computer; "Remove here anyway" when the engine offers it.

import { commands, type ConnectionView } from "../ipc";
import { hasAction } from "../logic/errors";
import { $, show } from "./dom";
import { showError, toast } from "./feedback";
import { reloadList } from "./hooks";

let revokeName = "";

export function openRevoke(v: ConnectionView, force = false): void {
  revokeName = v.name;
  $("#revoke-title").textContent = `Revoke '${v.name}'?`;
  $("#revoke-note").textContent = v.revoke_note;
  showError($("#revoke-error"), null);
  show($("#revoke-force"), force);
  $<HTMLButtonElement>("#confirm-revoke").disabled = false;
  $<HTMLDialogElement>("#revoke-dialog").showModal();
  $("#revoke-cancel").focus();
}

async function doRevoke(force: boolean): Promise<void> {
  const name = revokeName;
  const b = $<HTMLButtonElement>(force ? "#revoke-force" : "#confirm-revoke");
  b.disabled = true;
  try {
    const r = await commands.revoke(name, force);
    $<HTMLDialogElement>("#revoke-dialog").close();
    const parts = [...r.vendor_steps];
    if (r.manual_steps) parts.push(`Still to do at the vendor: ${r.manual_steps}`);
    toast(`Revoked '${name}'. ${parts.join(" ")}`, "ok", 12000);
    await reloadList();
  } catch (e) {
    showError($("#revoke-error"), e, { name, inRevoke: true });
    show($("#revoke-force"), !force && hasAction(e, "force_revoke"));
  } finally {
    b.disabled = false;
  }
}

export function mountRevoke(): void {
  $("#confirm-revoke").addEventListener("click", () => void doRevoke(false));
  $("#revoke-force").addEventListener("click", () => void doRevoke(true));
}
