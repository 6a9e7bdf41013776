// The forms' inputs, built from the vendors' fields that `info` returns (label, help,
// default, kind of input, secret or not): the window knows no vendor.

import type { Field, VendorInfo } from "../ipc";

/** A field as a form uses it (Edit makes its own from Keyport's fields). */
export type FormField = Pick<Field, "key" | "label" | "help" | "input"> &
  Partial<Pick<Field, "default" | "placeholder" | "choices" | "required" | "advanced" | "masked" | "secret">>;

export function setValue(input: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement, value: unknown): void {
  input.value = value == null ? "" : String(value);
}

/** One `.field` for a vendor field: label, input `${prefix}${key}`, help. */
export function fieldRow(f: FormField, prefix: string): HTMLElement {
  const id = `${prefix}${f.key}`;
  const wrap = document.createElement("div");
  wrap.className = "field";
  wrap.dataset.field = f.key;
  const label = document.createElement("label");
  label.htmlFor = id;
  label.textContent = f.label;
  if (!f.required && (f.default == null || f.default === "")) {
    const opt = document.createElement("span");
    opt.className = "muted";
    opt.textContent = "(optional)";
    label.append(" ", opt);
  }
  let input: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;
  if (f.input === "choice") {
    const sel = document.createElement("select");
    for (const [value, text] of f.choices ?? []) {
      const o = document.createElement("option");
      o.value = value;
      o.textContent = text;
      sel.append(o);
    }
    input = sel;
  } else if (f.input === "lines") {
    const ta = document.createElement("textarea");
    ta.rows = 3;
    ta.spellcheck = false;
    if (f.placeholder) ta.placeholder = f.placeholder;
    input = ta;
  } else {
    const i = document.createElement("input");
    // URLs are text inputs: the engine checks them, and http://127.0.0.1:8765/callback or
    // http://desktop must go through exactly as typed.
    i.type = f.masked ? "password" : f.input === "number" ? "number" : f.input === "date" ? "date" : "text";
    if (f.input === "url") i.inputMode = "url";
    i.autocomplete = "off";
    i.spellcheck = false;
    if (f.placeholder) i.placeholder = f.placeholder;
    input = i;
  }
  input.id = id;
  input.dataset.key = f.key;
  if (f.required) input.setAttribute("aria-required", "true");
  setValue(input, f.default);
  wrap.append(label, input);
  if (f.help) {
    const hint = document.createElement("small");
    hint.className = "hint";
    hint.id = `${id}-help`;
    hint.textContent = f.help;
    input.setAttribute("aria-describedby", hint.id);
    wrap.append(hint);
  }
  return wrap;
}

/** A vendor's fields in form order; the advanced ones in one closed <details id=detailsId>. */
export function buildFields(vendor: { id: string; fields: readonly FormField[] }, prefix: string, detailsId: string): HTMLElement {
  const box = document.createElement("div");
  box.className = "vendor-fields";
  box.dataset.vendor = vendor.id;
  const advanced = document.createElement("details");
  advanced.id = detailsId;
  const summary = document.createElement("summary");
  summary.textContent = "Advanced";
  advanced.append(summary);
  for (const f of vendor.fields) (f.advanced ? advanced : box).append(fieldRow(f, prefix));
  if (vendor.fields.some((f) => f.advanced)) box.append(advanced);
  return box;
}

export function fieldInput(box: ParentNode, prefix: string, key: string): HTMLInputElement | null {
  return box.querySelector<HTMLInputElement>(`#${CSS.escape(`${prefix}${key}`)}`);
}

/** Every field's current value, as the Form's `values`: trimmed unless masked. */
export function fieldValues(vendor: { fields: readonly FormField[] }, box: ParentNode, prefix: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const f of vendor.fields) {
    const input = fieldInput(box, prefix, f.key);
    if (!input) continue;
    values[f.key] = f.masked ? input.value : input.value.trim();
  }
  return values;
}

/** Opens the box's <details> when an advanced field holds something other than its default. */
export function openAdvancedIfSet(vendor: { fields: readonly FormField[] }, box: HTMLElement, prefix: string): void {
  const details = box.querySelector<HTMLDetailsElement>(":scope > details");
  if (!details) return;
  details.open = vendor.fields.some((f) => {
    if (!f.advanced) return false;
    const input = fieldInput(box, prefix, f.key);
    return !!input && input.value.trim() !== "" && input.value.trim() !== (f.default ?? "");
  });
}

export function hasField(vendor: VendorInfo, key: string): boolean {
  return vendor.fields.some((f) => f.key === key);
}

/** Empties the masked inputs of built forms. */
export function forgetSecrets(boxes: Iterable<HTMLElement>): void {
  for (const b of boxes) for (const i of b.querySelectorAll<HTMLInputElement>('input[type="password"]')) i.value = "";
}
