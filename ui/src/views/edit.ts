// The Edit dialog: note, client, base URL, test path and an admin-issued token's expiry;
// never a secret. Only what the person changed is sent (`null` leaves a value, an empty
// string clears it).

import { commands, type ConnectionView, type Edit } from "../ipc";
import { putView, state } from "../store";
import { $ } from "./dom";
import { fieldRow, hasField, setValue, type FormField } from "./fields";
import { showError, toast } from "./feedback";
import { reloadList } from "./hooks";

type EditKey = keyof Edit;

/** Keyport's own fields; a vendor field of the same key gives its label and help. */
const EDIT_FIELDS: (FormField & { key: EditKey })[] = [
  { key: "note", label: "Note", help: "Free text shown in the list and found by search.", input: "text" },
  { key: "client", label: "Client", help: "The client (customer) this connection works for: the list groups by it.", input: "text" },
  { key: "base_url", label: "Base URL", help: "Where the API is.", input: "url" },
  { key: "test_path", label: "Path Test reads", help: "A harmless read Test makes with the stored credentials.", input: "text" },
  { key: "expires", label: "Expires on", help: "The token's last day, as its admin screen shows it.", input: "date" },
];

let current: { name: string; initial: Partial<Record<EditKey, string>> } = { name: "", initial: {} };

/** The date input's YYYY-MM-DD for unix seconds (UTC, as the engine reads it). */
export function utcDate(ts: number | null | undefined): string {
  return ts == null ? "" : new Date(ts * 1000).toISOString().slice(0, 10);
}

export function openEdit(v: ConnectionView): void {
  const vendor = state.info?.vendors.find((x) => x.id === v.vendor);
  const values: Record<EditKey, string | null> = { note: v.note, client: v.client, base_url: v.base_url, test_path: v.test_path, expires: utcDate(v.expires_at) };
  const shown = EDIT_FIELDS.filter((f) =>
    (f.key !== "expires" || v.kind === "admin") && (f.key !== "base_url" || (vendor && hasField(vendor, "base_url")) || !!v.base_url));
  const box = document.createElement("div");
  const initial: Partial<Record<EditKey, string>> = {};
  for (const generic of shown) {
    const own = vendor?.fields.find((f) => f.key === generic.key && !f.secret);
    const f: FormField = { ...generic, ...(own ?? {}), required: !!own && own.required, advanced: false, default: null };
    const row = fieldRow(f, "e-");
    box.append(row);
    initial[generic.key] = values[generic.key] ?? "";
    setValue(row.querySelector("input, textarea, select")!, initial[generic.key]);
  }
  current = { name: v.name, initial };
  $("#edit-title").textContent = `Edit '${v.name}'`;
  $("#edit-summary").textContent = `${v.vendor_label}. The secrets stay as they are: to sign in again or give a new token, use ${v.kind === "oauth" ? "Reconnect" : "Replace token"}.`;
  $("#edit-fields").replaceChildren(box);
  showError($("#edit-error"), null);
  $<HTMLButtonElement>("#edit-submit").disabled = false;
  $<HTMLDialogElement>("#edit-dialog").showModal();
  $("#e-note").focus();
}

export function mountEdit(): void {
  $("#edit-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const { name, initial } = current;
    const edit: Edit = { note: null, client: null, base_url: null, test_path: null, expires: null };
    let changed = false;
    for (const [key, was] of Object.entries(initial) as [EditKey, string][]) {
      const typed = $<HTMLInputElement>(`#e-${key}`).value.trim();
      if (typed !== was) { edit[key] = typed; changed = true; }
    }
    const dialog = $<HTMLDialogElement>("#edit-dialog");
    if (!changed) { dialog.close(); return; }
    const submit = $<HTMLButtonElement>("#edit-submit");
    submit.disabled = true;
    try {
      const v = await commands.edit(name, edit);
      dialog.close();
      putView(v);
      toast(`Saved '${v.name}'.`);
      void reloadList();
    } catch (e) {
      showError($("#edit-error"), e, { name });
    } finally {
      submit.disabled = false;
    }
  });
}
