// Toasts (in their own reserved row of the layout, so they never cover a control) and
// errors: the sentence, then buttons for the engine's actions the window can take.

import { errorButtons, sentence, type ErrorContext } from "../logic/errors";
import { viewOf } from "../store";
import { $, button, show } from "./dom";

export type ToastKind = "ok" | "error" | "info";

export function toast(text: string, kind: ToastKind = "ok", ms = 6000): void {
  const box = $("#toasts");
  const t = document.createElement("div");
  t.className = kind === "error" ? "toast bad" : "toast";
  t.dataset.testid = "toast";
  t.dataset.kind = kind;
  t.textContent = text;
  box.append(t);
  // At most four at a time: the oldest goes first.
  while (box.children.length > 4) box.firstElementChild?.remove();
  setTimeout(() => t.remove(), ms);
}

/** What the window does for an error's buttons; set by main.ts (no import circle). */
export const errorHandlers = {
  open: (_name: string) => {},
  forceRevoke: (_name: string) => {},
};

/** Shows `e` in `el` with its buttons (`replace` calls ctx.replace). */
export function showError(el: HTMLElement, e: unknown, ctx: ErrorContext & { replace?: () => void } = {}): void {
  el.replaceChildren();
  if (e) {
    el.append(sentence(e));
    for (const b of buttonsFor(e, ctx)) el.append(" ", b);
  }
  show(el, !!e);
}

function buttonsFor(e: unknown, ctx: ErrorContext & { replace?: () => void }): HTMLButtonElement[] {
  return errorButtons(e, { ...ctx, canReplace: !!ctx.replace }, viewOf).map((spec) => {
    const b = button(spec.label, spec.kind === "force_revoke" ? "small danger-outline" : "small", () => {
      if (spec.kind === "open") errorHandlers.open(spec.name);
      else if (spec.kind === "replace") ctx.replace?.();
      else errorHandlers.forceRevoke(spec.name);
    });
    b.dataset.errorAction = spec.from;
    return b;
  });
}

/** The page's error banner (not inside a dialog). */
export function pageError(e: unknown, ctx: ErrorContext = {}): void {
  const box = $("#error");
  box.replaceChildren();
  if (!e) {
    show(box, false);
    return;
  }
  const msg = document.createElement("span");
  msg.className = "msg";
  msg.textContent = sentence(e);
  box.append(msg);
  for (const b of buttonsFor(e, ctx)) {
    b.addEventListener("click", () => pageError(null));
    box.append(" ", b);
  }
  const close = button("✕", "icon small", () => pageError(null));
  close.setAttribute("aria-label", "Dismiss the error");
  box.append(" ", close);
  show(box, true);
}
