/**
 * A horizontal bar chart: one row per category (a channel, or a period and zone), one bar per series in it. Bars
 * run sideways so a long label gets the whole width above its bars on a phone. Each series has its own fill pattern
 * inside a solid outline of its colour, and every bar is labelled with its series and value, so neither colour nor a
 * legend is needed to read it.
 */
import { type Chart, clampWidth } from './chart';
import { fillPattern, fitLabel, formatCount, INK, round, type SvgNode, styleOf, svg, textWidth } from './svg';

export interface BarSeries {
  name: string;
  /** One value per category, in the categories' order. */
  values: number[];
}

export interface BarInput {
  title: string;
  /** The first column's heading in the table ("Channel", "Period and zone"). */
  categoryHeading: string;
  categories: string[];
  series: BarSeries[];
  width: number;
  /** Makes the fill patterns' ids unique in the page. */
  idPrefix: string;
  format?: (n: number) => string;
}

const FONT = 12;
const BAR = 16;
const BAR_GAP = 4;
const LABEL_ROW = 18;
const GROUP_GAP = 12;

export function barChart(input: BarInput): Chart {
  const width = clampWidth(input.width);
  const format = input.format ?? formatCount;
  const many = input.series.length > 1;
  const valueLabel = (s: BarSeries, v: number) => (many ? `${s.name}: ${format(v)}` : format(v));
  const labelRoom =
    Math.max(0, ...input.series.flatMap((s) => s.values.map((v) => textWidth(valueLabel(s, v), FONT)))) + 8;
  const left = 2;
  const plotW = Math.max(40, width - left - labelRoom);
  const max = Math.max(0, ...input.series.flatMap((s) => s.values.filter(Number.isFinite)));
  const scale = (v: number) => (max > 0 ? (Math.max(0, v) / max) * plotW : 0);

  const patterns = input.series.map((_, i) =>
    fillPattern(`${input.idPrefix}-fill-${i}`, styleOf(i).fill, styleOf(i).colour),
  );
  const groups: SvgNode[] = [];
  let y = 4;
  input.categories.forEach((category, c) => {
    const parts: SvgNode[] = [
      svg(
        'text',
        { x: left, y: y + FONT, 'font-size': FONT, 'font-weight': 600, fill: INK },
        fitLabel(category, width - left),
      ),
    ];
    y += LABEL_ROW;
    input.series.forEach((s, i) => {
      const v = s.values[c] ?? 0;
      const w = round(scale(v));
      const style = styleOf(i);
      parts.push(
        w > 0
          ? svg('rect', {
              x: left,
              y,
              width: w,
              height: BAR,
              fill: `url(#${input.idPrefix}-fill-${i})`,
              stroke: style.colour,
              'stroke-width': 1.5,
              'data-value': v,
            })
          : // Nothing to draw for a zero: a short upright mark says the bar is there and empty.
            svg('line', {
              x1: left + 1,
              x2: left + 1,
              y1: y,
              y2: y + BAR,
              stroke: style.colour,
              'stroke-width': 2,
              'data-value': v,
            }),
        svg(
          'text',
          { x: round(left + w + 6), y: y + BAR - 4, 'font-size': FONT, fill: INK },
          valueLabel(s, v),
        ),
      );
      y += BAR + BAR_GAP;
    });
    groups.push(svg('g', { class: 'bar-group' }, ...parts));
    y += GROUP_GAP - BAR_GAP;
  });
  const height = Math.max(40, y);

  const said = input.series.map((s) => {
    const best = s.values.reduce((b, v, i) => (v > (s.values[b] ?? -Infinity) ? i : b), 0);
    return s.values.length
      ? `${s.name}: highest ${format(s.values[best]!)} (${input.categories[best]})`
      : `${s.name}: no data`;
  });
  const summary = input.categories.length
    ? `${input.title}, ${input.categories.length} rows. ${said.join('; ')}. Every value is in the table.`
    : `${input.title}: no data for this choice.`;

  return {
    title: input.title,
    width,
    height,
    summary,
    svg: svg(
      'svg',
      {
        xmlns: 'http://www.w3.org/2000/svg',
        viewBox: `0 0 ${width} ${height}`,
        role: 'img',
        'aria-label': summary,
        class: 'chart-svg',
        focusable: 'false',
      },
      svg('title', {}, summary),
      svg('defs', {}, ...patterns),
      ...groups,
    ),
    table: {
      caption: input.title,
      head: [input.categoryHeading, ...input.series.map((s) => s.name)],
      rows: input.categories.map((c, i) => [c, ...input.series.map((s) => format(s.values[i] ?? 0))]),
    },
  };
}
