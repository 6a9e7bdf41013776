// The row menu: one popup shared by every row, opened by a row's ⋯ button, a right
// click, or `m` / Shift+F10 / the menu key on the selected row. Arrow keys move, Enter
// runs, Esc closes and gives the focus back to the list.

import { actionsFor, type ActionId } from "../logic/actions";
import { state, viewOf } from "../store";
import { $, el } from "./dom";

let onRun: (name: string, id: ActionId) => void = () => {};
let returnFocus: HTMLElement | null = null;

export function mountMenu(run: (name: string, id: ActionId) => void): void {
  onRun = run;
  const menu = $("#row-menu");
  menu.addEventListener("click", (ev) => {
    const b = (ev.target as HTMLElement).closest<HTMLButtonElement>("button[data-action]");
    if (!b || b.disabled) return;
    const name = menu.dataset.for!;
    closeMenu();
    onRun(name, b.dataset.action as ActionId);
  });
  menu.addEventListener("keydown", (ev) => {
    const items = [...menu.querySelectorAll<HTMLButtonElement>("button[data-action]:not(:disabled)")];
    const i = items.indexOf(document.activeElement as HTMLButtonElement);
    if (ev.key === "ArrowDown") items[(i + 1) % items.length]?.focus();
    else if (ev.key === "ArrowUp") items[(i - 1 + items.length) % items.length]?.focus();
    else if (ev.key === "Home") items[0]?.focus();
    else if (ev.key === "End") items[items.length - 1]?.focus();
    else if (ev.key === "Escape" || ev.key === "Tab") closeMenu();
    else return;
    ev.preventDefault();
    ev.stopPropagation();
  });
  document.addEventListener("mousedown", (ev) => {
    if (!menu.hidden && !menu.contains(ev.target as Node)) closeMenu(false);
  });
  window.addEventListener("blur", () => closeMenu(false));
}

export function menuOpen(): boolean {
  return !$("#row-menu").hidden;
}

export function openMenu(name: string, anchor: HTMLElement | null): void {
  const v = viewOf(name);
  if (!v) return;
  const menu = $("#row-menu");
  returnFocus = document.activeElement as HTMLElement | null;
  menu.dataset.for = name;
  menu.setAttribute("aria-label", `Actions for ${name}`);
  menu.replaceChildren(
    ...actionsFor(v, { envFiles: state.porting }).map((a) => {
      const b = el("button", { type: "button", role: "menuitem", "data-action": a.id, class: a.danger ? "danger-text" : "" },
        el("span", { text: a.label }), el("kbd", { text: a.keys ?? "" }));
      if (a.title) b.title = a.title;
      if (a.disabled) b.disabled = true;
      return b;
    }),
  );
  menu.hidden = false;
  // Below the anchor, kept inside the window.
  const r = (anchor ?? document.body).getBoundingClientRect();
  const mw = menu.offsetWidth;
  const mh = menu.offsetHeight;
  const left = Math.max(4, Math.min(window.innerWidth - mw - 4, r.right - mw));
  let top = r.bottom + 2;
  if (top + mh > window.innerHeight - 4) top = Math.max(4, r.top - mh - 2);
  menu.style.left = `${left}px`;
  menu.style.top = `${top}px`;
  menu.querySelector<HTMLButtonElement>("button:not(:disabled)")?.focus();
}

export function closeMenu(restore = true): void {
  const menu = $("#row-menu");
  if (menu.hidden) return;
  menu.hidden = true;
  delete menu.dataset.for;
  if (restore) (returnFocus && returnFocus.isConnected ? returnFocus : $("#connections")).focus({ preventScroll: true });
  returnFocus = null;
}
