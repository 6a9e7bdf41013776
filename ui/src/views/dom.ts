// Small DOM helpers shared by the views.

export function $<T extends Element = HTMLElement>(sel: string, root: ParentNode = document): T {
  const el = root.querySelector<T>(sel);
  if (!el) throw new Error(`the window has no ${sel}`);
  return el;
}

export function $$<T extends Element = HTMLElement>(sel: string, root: ParentNode = document): T[] {
  return [...root.querySelectorAll<T>(sel)];
}

export function show(el: HTMLElement, on = true): void {
  el.hidden = !on;
}

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else e.setAttribute(k, v);
  }
  e.append(...children);
  return e;
}

export function button(label: string, cls: string, onClick?: (ev: MouseEvent) => void): HTMLButtonElement {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  if (cls) b.className = cls;
  if (onClick) b.addEventListener("click", onClick);
  return b;
}

export function setText(e: Element, text: string): void {
  if (e.textContent !== text) e.textContent = text;
}

export function closeDialogs(): void {
  for (const d of $$<HTMLDialogElement>("dialog")) if (d.open) d.close();
}

export function anyDialogOpen(): boolean {
  return $$<HTMLDialogElement>("dialog").some((d) => d.open);
}

export async function busy(b: HTMLButtonElement, fn: () => Promise<void>): Promise<void> {
  const was = b.disabled;
  b.disabled = true;
  b.setAttribute("aria-busy", "true");
  try {
    await fn();
  } finally {
    b.disabled = was;
    b.removeAttribute("aria-busy");
  }
}
