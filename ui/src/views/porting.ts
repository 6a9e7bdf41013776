// Export / import of connections (metadata and registrations, never a secret: the other
// computer reconnects or asks for the admin-issued tokens), and a connection as an
// environment file for Postman, Insomnia or Bruno (written by Rust: a token, when asked
// for, never crosses to the window).

import { commands, type ConnectionView, type EnvTool, type OnConflict } from "../ipc";
import { state } from "../store";
import { $, show } from "./dom";
import { showError, toast } from "./feedback";
import { reloadList } from "./hooks";

let envFor = "";

function result(sel: string, text: string): void {
  const p = $(sel);
  p.textContent = text;
  show(p, !!text);
}

function openExport(): void {
  const n = state.list.length;
  $("#export-summary").textContent = `${n} connection${n === 1 ? "" : "s"} and the app registrations they use.`;
  $<HTMLInputElement>("#export-only-shown").checked = false;
  show($<HTMLElement>("#export-only-shown").parentElement!, !!state.query);
  result("[data-testid=export-result]", "");
  showError($("#export-error"), null);
  $<HTMLDialogElement>("#export-dialog").showModal();
  $("#export-path").focus();
}

function openImport(): void {
  result("[data-testid=import-result]", "");
  showError($("#import-error"), null);
  $<HTMLDialogElement>("#import-dialog").showModal();
  $("#import-path").focus();
}

async function suggestEnvPath(): Promise<void> {
  const tool = $<HTMLSelectElement>("#envfile-format").value as EnvTool;
  try {
    $<HTMLInputElement>("#envfile-path").value = `~/${await commands.envFileName(envFor, tool)}`;
  } catch {
    /* the name stays as typed */
  }
}

export function openEnvFile(v: ConnectionView): void {
  envFor = v.name;
  $("#envfile-title").textContent = `Export '${v.name}' for an API tool`;
  $<HTMLInputElement>("#envfile-include-token").checked = false;
  show($("[data-testid=envfile-token-warning]"), false);
  result("[data-testid=envfile-result]", "");
  showError($("#envfile-error"), null);
  void suggestEnvPath();
  $<HTMLDialogElement>("#envfile-dialog").showModal();
  $("#envfile-format").focus();
}

export function mountPorting(): void {
  state.porting = true;
  show($("#export-open"), true);
  show($("#import-open"), true);
  $("#export-open").addEventListener("click", openExport);
  $("#import-open").addEventListener("click", openImport);
  $("#export-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const path = $<HTMLInputElement>("#export-path").value.trim();
    const names = $<HTMLInputElement>("#export-only-shown").checked ? state.names : [];
    const b = $<HTMLButtonElement>("#export-submit");
    b.disabled = true;
    showError($("#export-error"), null);
    try {
      const n = await commands.exportConnections(path, names);
      result("[data-testid=export-result]", `Exported ${n} connection${n === 1 ? "" : "s"} to ${path}. No secret is in the file: import it on the other computer, then reconnect or give each token.`);
    } catch (e) {
      showError($("#export-error"), e);
    } finally {
      b.disabled = false;
    }
  });
  $("#import-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const path = $<HTMLInputElement>("#import-path").value.trim();
    const onConflict = $<HTMLSelectElement>("#import-conflict").value as OnConflict;
    const b = $<HTMLButtonElement>("#import-submit");
    b.disabled = true;
    showError($("#import-error"), null);
    try {
      const r = await commands.importConnections(path, onConflict);
      const names = r.imported.map((i) => (i.name === i.from ? i.name : `${i.from} as ${i.name}`));
      const parts = [`Imported ${r.imported.length} connection${r.imported.length === 1 ? "" : "s"}${names.length ? `: ${names.join(", ")}` : ""}.`];
      if (r.skipped.length) parts.push(`Left alone (already here): ${r.skipped.join(", ")}.`);
      if (r.imported.length) parts.push("Each needs a new sign-in or its token: use Reconnect or Replace token in its menu.");
      result("[data-testid=import-result]", parts.join(" "));
      toast(parts[0]);
      await reloadList();
    } catch (e) {
      showError($("#import-error"), e);
    } finally {
      b.disabled = false;
    }
  });
  $("#envfile-format").addEventListener("change", () => void suggestEnvPath());
  $("#envfile-include-token").addEventListener("change", (e) => show($("[data-testid=envfile-token-warning]"), (e.target as HTMLInputElement).checked));
  $("#envfile-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const tool = $<HTMLSelectElement>("#envfile-format").value as EnvTool;
    const withToken = $<HTMLInputElement>("#envfile-include-token").checked;
    const path = $<HTMLInputElement>("#envfile-path").value.trim();
    const b = $<HTMLButtonElement>("#envfile-submit");
    b.disabled = true;
    showError($("#envfile-error"), null);
    try {
      const f = await commands.writeEnvFile(envFor, tool, withToken, path);
      result("[data-testid=envfile-result]", `Wrote ${path} with ${f.variables.join(", ")}${f.with_token ? " (the token included: delete the file when done)" : ""}.`);
    } catch (e) {
      showError($("#envfile-error"), e, { name: envFor });
    } finally {
      b.disabled = false;
    }
  });
}
