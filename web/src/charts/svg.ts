/**
 * The charts' building blocks, with no DOM: a chart is drawn as a small tree of SVG nodes (tag, attributes, text
 * children) that a unit test can read in Node, that ./figure.ts turns into elements (text as text nodes, never
 * parsed), and that `svgMarkup` writes out escaped. Also the series styles, told apart by shape and dash pattern as
 * well as colour (WCAG 1.4.1), each colour at least 3:1 against the page (WCAG 1.4.11), and the number formats the
 * chart and its table share, so they cannot disagree.
 */

export interface SvgNode {
  tag: string;
  attrs: Record<string, string | number>;
  children: (SvgNode | string)[];
}

export const svg = (
  tag: string,
  attrs: Record<string, string | number | undefined> = {},
  ...children: (SvgNode | string | null | undefined | false)[]
): SvgNode => ({
  tag,
  attrs: Object.fromEntries(Object.entries(attrs).filter(([, v]) => v !== undefined)) as Record<
    string,
    string | number
  >,
  children: children.filter((c): c is SvgNode | string => c !== null && c !== undefined && c !== false),
});

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
export const escapeXml = (text: string): string => text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

/** The tree as markup, every text and attribute value escaped (a label such as `<script>` stays characters). */
export function svgMarkup(node: SvgNode): string {
  const attrs = Object.entries(node.attrs)
    .map(([k, v]) => ` ${k}="${escapeXml(String(v))}"`)
    .join('');
  const inner = node.children.map((c) => (typeof c === 'string' ? escapeXml(c) : svgMarkup(c))).join('');
  return `<${node.tag}${attrs}>${inner}</${node.tag}>`;
}

/** Every node of the tree, depth first (for tests and for summing up what was drawn). */
export function* walk(node: SvgNode): Generator<SvgNode> {
  yield node;
  for (const c of node.children) if (typeof c !== 'string') yield* walk(c);
}

/** The text a node shows, its children's text joined. */
export const textOf = (node: SvgNode): string =>
  node.children.map((c) => (typeof c === 'string' ? c : textOf(c))).join('');

/** The page the charts are drawn on (styles.css `--paper`). */
export const BACKGROUND = '#ffffff';
/** Axes, ticks and labels (styles.css `--ink` and `--muted`). */
export const INK = '#1b1f24';
export const MUTED = '#4a5260';

export type Marker = 'circle' | 'square' | 'triangle' | 'diamond' | 'cross' | 'triangle-down';
export type Fill = 'solid' | 'diagonal' | 'dots' | 'cross-hatch' | 'horizontal' | 'vertical';

export interface SeriesStyle {
  colour: string;
  /** stroke-dasharray of a line; '' is solid. */
  dash: string;
  marker: Marker;
  /** How a bar is filled, in its colour on the page, inside a solid outline in its colour. */
  fill: Fill;
}

/**
 * Ten styles, one for each of the ten channels an alert can name. No two share a dash and marker pair, the first six
 * differ in all three of dash, marker and fill, so the few series a chart usually has are told apart without colour.
 */
export const SERIES_STYLES: readonly SeriesStyle[] = [
  { colour: '#0b4a8b', dash: '', marker: 'circle', fill: 'solid' },
  { colour: '#b3400b', dash: '8 4', marker: 'square', fill: 'diagonal' },
  { colour: '#13622f', dash: '2 3', marker: 'triangle', fill: 'dots' },
  { colour: '#6d28d9', dash: '10 3 2 3', marker: 'diamond', fill: 'cross-hatch' },
  { colour: '#a1161f', dash: '4 4', marker: 'cross', fill: 'horizontal' },
  { colour: '#0f6b63', dash: '12 3 2 3 2 3', marker: 'triangle-down', fill: 'vertical' },
  { colour: '#4a5260', dash: '8 4', marker: 'circle', fill: 'diagonal' },
  { colour: '#9d174d', dash: '2 3', marker: 'square', fill: 'dots' },
  { colour: '#7a4b00', dash: '10 3 2 3', marker: 'triangle', fill: 'cross-hatch' },
  { colour: '#1b1f24', dash: '4 4', marker: 'diamond', fill: 'horizontal' },
];

export const styleOf = (index: number): SeriesStyle => SERIES_STYLES[index % SERIES_STYLES.length]!;

/** The estimate line: the ink colour, a long dash no series uses. */
export const ESTIMATE_STYLE = { colour: INK, dash: '14 4' };

/** WCAG 2.x relative luminance of an sRGB colour written #rrggbb. */
export function luminance(hex: string): number {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (!m) throw new Error(`not a #rrggbb colour: ${hex}`);
  const [r, g, b] = m.slice(1).map((x) => {
    const c = Number.parseInt(x, 16) / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** WCAG contrast ratio of two colours, 1 to 21. */
export function contrastRatio(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

/** A marker centred on (x, y), in the series' colour: its shape says which series it is. */
export function marker(kind: Marker, x: number, y: number, colour: string, value: number): SvgNode {
  const r = 4;
  const common = { fill: colour, stroke: colour, 'stroke-width': 1.5, 'data-value': value };
  const p = (points: [number, number][]) =>
    svg('polygon', { ...common, points: points.map(([px, py]) => `${round(px)},${round(py)}`).join(' ') });
  switch (kind) {
    case 'circle':
      return svg('circle', { ...common, cx: round(x), cy: round(y), r });
    case 'square':
      return svg('rect', { ...common, x: round(x - r), y: round(y - r), width: 2 * r, height: 2 * r });
    case 'triangle':
      return p([
        [x, y - r - 1],
        [x + r + 1, y + r],
        [x - r - 1, y + r],
      ]);
    case 'triangle-down':
      return p([
        [x - r - 1, y - r],
        [x + r + 1, y - r],
        [x, y + r + 1],
      ]);
    case 'diamond':
      return p([
        [x, y - r - 1],
        [x + r + 1, y],
        [x, y + r + 1],
        [x - r - 1, y],
      ]);
    case 'cross':
      return svg('path', {
        ...common,
        fill: 'none',
        'stroke-width': 2.5,
        d: `M${round(x - r)} ${round(y - r)}L${round(x + r)} ${round(y + r)}M${round(x - r)} ${round(y + r)}L${round(x + r)} ${round(y - r)}`,
      });
  }
}

/** A fill pattern for bars, drawn in the series' colour over the page. */
export function fillPattern(id: string, fill: Fill, colour: string): SvgNode {
  const base = { id, width: 6, height: 6, patternUnits: 'userSpaceOnUse' };
  const line = (d: string) => svg('path', { d, stroke: colour, 'stroke-width': 1.5, fill: 'none' });
  const shapes: Record<Fill, SvgNode[]> = {
    solid: [svg('rect', { width: 6, height: 6, fill: colour })],
    diagonal: [line('M-1 1L1 -1M0 6L6 0M5 7L7 5')],
    dots: [svg('circle', { cx: 3, cy: 3, r: 1.4, fill: colour })],
    'cross-hatch': [line('M0 0L6 6M6 0L0 6')],
    horizontal: [line('M0 3H6')],
    vertical: [line('M3 0V6')],
  };
  return svg('pattern', base, svg('rect', { width: 6, height: 6, fill: BACKGROUND }), ...shapes[fill]);
}

export const round = (n: number): number => Math.round(n * 10) / 10;

/** Tick values from 0 to at least `max`, in steps of 1, 2 or 5 times a power of ten, about `count` of them. */
export function niceTicks(max: number, count = 4): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const ticks: number[] = [];
  for (let v = 0; v < max + step - 1e-9; v += step) ticks.push(Math.round(v * 1e6) / 1e6);
  return ticks;
}

/** Whole numbers as the table and the chart both write them: 2,000. */
export const formatCount = (n: number): string => n.toLocaleString('en');

/** "2 h 47 min", "4 min 10 s", "12 s" (as the preview says its estimate). */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const hours = Math.floor(s / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  if (hours > 0) return minutes ? `${hours} h ${minutes} min` : `${hours} h`;
  return s % 60 ? `${minutes} min ${s % 60} s` : `${minutes} min`;
}

/** About how wide a text is at `size` units (no DOM to measure with): enough to keep labels apart. */
export const textWidth = (text: string, size = 12): number => text.length * size * 0.58;

/** Cuts a label to what fits in `width` units, with an ellipsis (the table has it whole). */
export function fitLabel(text: string, width: number, size = 12): string {
  const most = Math.floor(width / (size * 0.58));
  return text.length <= most ? text : `${text.slice(0, Math.max(1, most - 1))}…`;
}
