/**
 * A chart on the page: a <figure> named by its <figcaption>, the drawing as an SVG with role="img" and a sentence
 * for screen readers, and every number in a real table inside a <details> that starts open. A screen reader user
 * reaches the table as a table (headers, rows) and a sighted user may fold it away. The SVG is built from the
 * renderer's tree with createElementNS and text nodes: nothing is parsed, so a label cannot become markup.
 */
import { h, table } from '../dom';
import { type Chart, clampWidth } from './chart';
import type { SvgNode } from './svg';

const SVG_NS = 'http://www.w3.org/2000/svg';

export function svgElement(node: SvgNode): SVGElement {
  const el = document.createElementNS(SVG_NS, node.tag);
  for (const [name, value] of Object.entries(node.attrs))
    if (name !== 'xmlns') el.setAttribute(name, String(value));
  for (const child of node.children)
    el.append(typeof child === 'string' ? document.createTextNode(child) : svgElement(child));
  return el;
}

/** Redrawn when its box changes by more than this (a phone turned, a window resized), so text keeps its size. */
const REDRAW_PX = 24;

/**
 * The figure for a chart drawn by `draw` at a width in CSS pixels: first at `width` (its container's), then again
 * whenever the figure's own width changes, so the SVG's units stay pixels and its text stays readable.
 */
export function chartFigure(
  draw: (width: number) => Chart,
  width: number,
  options: { tableOpen?: boolean } = {},
): HTMLElement {
  const chart = draw(width);
  const drawing = h('div', { class: 'chart-drawing' }, svgElement(chart.svg));
  let drawnAt = chart.width;
  if (typeof ResizeObserver === 'function')
    new ResizeObserver(() => {
      const now = clampWidth(drawing.clientWidth);
      if (drawing.clientWidth === 0 || Math.abs(now - drawnAt) <= REDRAW_PX) return;
      const next = draw(now);
      drawnAt = next.width;
      drawing.replaceChildren(svgElement(next.svg));
    }).observe(drawing);
  return h(
    'figure',
    { class: 'chart' },
    h('figcaption', null, chart.title),
    drawing,
    h(
      'details',
      { class: 'chart-numbers', open: options.tableOpen ?? true },
      // Several charts on a page: each disclosure says which chart's numbers it holds to a screen reader.
      h(
        'summary',
        null,
        'The numbers in this chart',
        h('span', { class: 'visually-hidden' }, `: ${chart.title}`),
      ),
      table(chart.table.caption, chart.table.head, chart.table.rows),
    ),
  );
}

/**
 * A table of many columns (a report, every channel's figures): on a phone it keeps readable columns and scrolls
 * sideways inside its own box, which takes the keyboard's focus and is named by the caption, so it can be scrolled
 * without a mouse; the page itself never scrolls sideways.
 */
export function wideTable(caption: string, head: string[], rows: (string | Node)[][]): HTMLElement {
  const wrap = table(caption, head, rows);
  wrap.classList.add('wide');
  wrap.setAttribute('role', 'region');
  wrap.setAttribute('aria-label', caption);
  wrap.tabIndex = 0;
  return wrap;
}

/** The width to draw at: the container's, so text in the SVG comes out at its own size. */
export const widthFor = (container: Element): number => container.getBoundingClientRect().width || 320;
