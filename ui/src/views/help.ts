// The keyboard help overlay (`?`).

import { SHORTCUTS } from "../logic/shortcuts";
import { $, el } from "./dom";

export function mountHelp(): void {
  const list = $("#help-list");
  list.replaceChildren(...SHORTCUTS.map((s) => {
    const keys = el("dt");
    s.keys.forEach((k, i) => { if (i) keys.append(" "); keys.append(el("kbd", { text: k })); });
    return el("div", { class: "shortcut", "data-testid": "shortcut" }, keys, el("dd", { text: s.what }));
  }));
  $("#help-open").addEventListener("click", openHelp);
}

export function openHelp(): void {
  const d = $<HTMLDialogElement>("#help");
  if (!d.open) d.showModal();
  $("#help-close").focus();
}
