// The Add token dialog (admin-issued tokens): the vendor's fields and its warning; also
// "Replace token" for an existing connection.

import { commands, type ConnectionView } from "../ipc";
import { $, show } from "./dom";
import { adminVendors, suggestName, vendorById } from "./connect";
import { buildFields, fieldInput, fieldValues, forgetSecrets, openAdvancedIfSet, setValue } from "./fields";
import { showError, toast } from "./feedback";
import { reloadList, selectAndFocus } from "./hooks";

let as: { vendor: string; replace: boolean; nameTouched: boolean; view: ConnectionView | null; boxes: Map<string, HTMLElement> } = {
  vendor: "", replace: false, nameTouched: false, view: null, boxes: new Map(),
};

const dialog = () => $<HTMLDialogElement>("#add-dialog");

function setAddVendor(id: string): void {
  const v = vendorById(id);
  if (!v) return;
  as.vendor = id;
  $<HTMLSelectElement>("#add-vendor").value = id;
  $("#add-summary").textContent = v.summary || "";
  show($("#add-summary"), !!v.summary);
  const warn = $("#add-warning");
  warn.textContent = v.warning ?? "";
  show(warn, !!v.warning);
  let box = as.boxes.get(id);
  if (!box) {
    box = buildFields(v, "a-", "add-advanced");
    as.boxes.set(id, box);
    const base = fieldInput(box, "a-", "base_url");
    if (base && as.view && as.view.vendor === id && as.view.base_url) setValue(base, as.view.base_url);
    openAdvancedIfSet(v, box, "a-");
  }
  $("#add-fields").replaceChildren(box);
  if (!as.replace && !as.nameTouched) $<HTMLInputElement>("#add-name").value = suggestName(id);
}

function title(): string {
  return as.replace ? `Replace the token of '${$<HTMLInputElement>("#add-name").value}'` : "Add a token";
}

export function openAdd(opts: { vendor?: string; replace?: boolean; name?: string; view?: ConnectionView } = {}): void {
  const admin = adminVendors();
  const id = opts.vendor ?? admin[0]?.id;
  if (!id || !vendorById(id)) return;
  if (dialog().open) dialog().close();
  forgetSecrets(as.boxes.values());
  as = { vendor: id, replace: !!opts.replace, nameTouched: false, view: opts.view ?? null, boxes: new Map() };
  const sel = $<HTMLSelectElement>("#add-vendor");
  sel.replaceChildren(...admin.map((v) => {
    const o = document.createElement("option");
    o.value = v.id;
    o.textContent = v.label;
    return o;
  }));
  sel.disabled = as.replace;
  const name = $<HTMLInputElement>("#add-name");
  name.value = opts.name ?? "";
  name.readOnly = as.replace;
  $<HTMLInputElement>("#add-note").value = "";
  $<HTMLInputElement>("#add-client").value = opts.view?.client ?? "";
  $("#add-title").textContent = title();
  $("#add-submit").textContent = as.replace ? "Replace token" : "Add token";
  showError($("#add-error"), null);
  setAddVendor(id);
  dialog().showModal();
  const masked = document.querySelector<HTMLInputElement>('#add-fields input[type="password"]');
  (as.replace && masked ? masked : sel).focus();
}

function replaceMode(): void {
  as.replace = true;
  $<HTMLInputElement>("#add-name").readOnly = true;
  $<HTMLSelectElement>("#add-vendor").disabled = true;
  $("#add-title").textContent = title();
  $("#add-submit").textContent = "Replace token";
  showError($("#add-error"), null);
  $("#add-submit").focus();
}

export function mountAdd(): void {
  $("#add-token").addEventListener("click", () => openAdd());
  $("#add-vendor").addEventListener("change", (e) => setAddVendor((e.target as HTMLSelectElement).value));
  $("#add-name").addEventListener("input", () => { as.nameTouched = true; });
  $("#add-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const vendor = vendorById(as.vendor)!;
    const form = {
      vendor: vendor.id,
      name: $<HTMLInputElement>("#add-name").value.trim(),
      replace: as.replace,
      remember_secret: false,
      note: $<HTMLInputElement>("#add-note").value.trim(),
      client: $<HTMLInputElement>("#add-client").value.trim(),
      skip_test: false,
      reuse_secrets: false,
      values: fieldValues(vendor, as.boxes.get(vendor.id)!, "a-"),
    };
    if (!form.name) {
      showError($("#add-error"), `Give the connection a name, e.g. ${vendor.id}.`);
      $("#add-name").focus();
      return;
    }
    const submit = $<HTMLButtonElement>("#add-submit");
    submit.disabled = true;
    try {
      const v = await commands.addToken(form);
      dialog().close();
      toast(`Added '${v.name}' (${v.vendor_label}): ${v.status_text}.`);
      for (const w of v.warnings) toast(w.message, "info", 10000);
      await reloadList();
      selectAndFocus(v.name);
    } catch (e) {
      showError($("#add-error"), e, { name: form.name, replace: replaceMode });
    } finally {
      submit.disabled = false;
    }
  });
  dialog().addEventListener("close", () => forgetSecrets(as.boxes.values()));
}
