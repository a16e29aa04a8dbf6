/**
 * The console's only way to make DOM: elements built from a tag, attributes and children, where every string
 * child becomes a text node. Nothing here parses markup, so a headline such as `<img onerror=…>` is shown as the
 * characters it is (issue 6: every text from an alert rendered as text, never markup).
 */
export type Child = Node | string | number | false | null | undefined | Child[];

type Handler = (event: Event) => void;
export type Props = Record<string, string | number | boolean | Handler | undefined | null>;

/** Properties set as properties (their attribute only sets the initial state). */
const PROPERTIES = new Set(['value', 'checked', 'selected', 'indeterminate', 'srcdoc']);

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props?: Props | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props)
    for (const [name, value] of Object.entries(props)) {
      if (value === undefined || value === null || value === false) continue;
      if (typeof value === 'function') el.addEventListener(name.slice(2).toLowerCase(), value);
      else if (PROPERTIES.has(name)) (el as unknown as Record<string, unknown>)[name] = value;
      else el.setAttribute(name, value === true ? '' : String(value));
    }
  append(el, children);
  return el;
}

export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else parent.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
}

/** Replaces what `parent` shows. */
export function show(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

/** Only http(s) URLs become links or images; anything else is shown as text by the caller. */
export function safeUrl(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const parsed = new URL(url, location.href);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.href : undefined;
  } catch {
    return undefined;
  }
}

let ids = 0;
/** A unique id for label/field pairs made at run time. */
export const uid = (prefix: string): string => `${prefix}-${++ids}`;

export function formatTime(iso: string | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime())
    ? iso
    : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

/** A table with a caption (its accessible name) and column headers; cells are text or nodes. */
export function table(caption: string, head: string[], rows: (string | Node)[][]): HTMLElement {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      null,
      h('caption', null, caption),
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          head.map((c) => h('th', { scope: 'col' }, c)),
        ),
      ),
      h(
        'tbody',
        null,
        rows.map((r) =>
          h(
            'tr',
            null,
            r.map((c) => h('td', null, c)),
          ),
        ),
      ),
    ),
  );
}
