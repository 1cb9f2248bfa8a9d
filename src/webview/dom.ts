// A tiny element builder: text always goes through textContent, never HTML, so server data cannot inject markup.
type Child = Node | string | null | undefined | false;

export interface ElementProps {
  className?: string;
  text?: string;
  /** Attributes set with setAttribute (aria-*, role, data-*, title...). */
  attrs?: Record<string, string | undefined>;
  on?: { [K in keyof HTMLElementEventMap]?: (event: HTMLElementEventMap[K]) => void };
}

/** Creates an element with properties and children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: ElementProps = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (props.className) element.className = props.className;
  if (props.text !== undefined) element.textContent = props.text;
  for (const [name, value] of Object.entries(props.attrs ?? {})) if (value !== undefined) element.setAttribute(name, value);
  for (const [name, listener] of Object.entries(props.on ?? {})) element.addEventListener(name, listener as EventListener);
  for (const child of children) if (child !== null && child !== undefined && child !== false) element.append(child);
  return element;
}

/** Replaces the children of `parent`, keeping keyboard focus on the element with the same data-focus-key. */
export function replaceChildrenKeepingFocus(parent: Element, ...children: Node[]): void {
  const active = document.activeElement;
  const key = active instanceof HTMLElement && parent.contains(active) ? active.dataset.focusKey : undefined;
  parent.replaceChildren(...children);
  if (key) parent.querySelector<HTMLElement>(`[data-focus-key="${CSS.escape(key)}"]`)?.focus();
}

/** Sets text only when it changed (the countdown runs every second). */
export function setText(element: Element, text: string): void {
  if (element.textContent !== text) element.textContent = text;
}
