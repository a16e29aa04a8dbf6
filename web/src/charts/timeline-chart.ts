/**
 * The delivery timeline of one alert: messages sent so far per channel (a step line each, since the count jumps
 * when a batch goes out), against the preview's estimate of when the last recipient is reached, drawn as a marked
 * vertical line when the API gives one. Each line has its own dash pattern and marker shape and is labelled at its
 * end with its channel and count, so no one needs its colour to tell the lines apart.
 */
import { type Chart, clampWidth } from './chart';
import {
  ESTIMATE_STYLE,
  fitLabel,
  formatCount,
  formatDuration,
  INK,
  MUTED,
  marker,
  niceTicks,
  round,
  type SvgNode,
  styleOf,
  svg,
  textWidth,
} from './svg';

export interface TimelinePoint {
  at: string;
  channel: string;
  /** Sent so far on this channel (cumulative). */
  sent: number;
}

export interface TimelineEstimate {
  /** Seconds from `from` to the last recipient, as the preview estimated it. */
  seconds: number;
  /** When the estimate starts counting (the channel's first send). */
  from: string;
  /** Who the estimate is about: "last SMS recipient". */
  label: string;
}

export interface TimelineInput {
  title: string;
  points: TimelinePoint[];
  /** A channel's name as people read it. */
  channelName: (channel: string) => string;
  estimate?: TimelineEstimate;
  width: number;
  /** A clock time as the console writes it (the table's second column). */
  clock?: (iso: string) => string;
}

interface Series {
  channel: string;
  name: string;
  points: { t: number; at: string; sent: number }[];
}

const HEIGHT = 260;
const FONT = 12;
/** Time steps an axis may use, in seconds: each tick a round number of seconds, minutes or hours. */
const TIME_STEPS = [
  1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400,
];

/** A round step for about `most` ticks over `span` seconds, and the span rounded up to end on a tick. */
function timeAxis(span: number, most: number): { step: number; end: number } {
  const step = TIME_STEPS.find((s) => span / s <= most) ?? Math.ceil(span / most / 86400) * 86400;
  return { step, end: Math.ceil(span / step - 1e-9) * step };
}

/** Moves labels apart (at least `gap` between centres), keeping them inside [top, bottom]. */
export function spreadLabels(ys: number[], gap: number, top: number, bottom: number): number[] {
  const order = ys.map((y, i) => ({ y, i })).sort((a, b) => a.y - b.y);
  for (let k = 1; k < order.length; k++) order[k]!.y = Math.max(order[k]!.y, order[k - 1]!.y + gap);
  const overflow = (order.at(-1)?.y ?? bottom) - bottom;
  if (overflow > 0) for (const o of order) o.y -= overflow;
  for (let k = 0; k < order.length; k++)
    order[k]!.y = Math.max(order[k]!.y, k === 0 ? top : order[k - 1]!.y + gap);
  const out = new Array<number>(ys.length);
  for (const o of order) out[o.i] = o.y;
  return out;
}

export function timelineChart(input: TimelineInput): Chart {
  const width = clampWidth(input.width);
  const clock = input.clock ?? ((iso: string) => iso);
  const times = input.points.map((p) => Date.parse(p.at)).filter(Number.isFinite);
  const estimateStart = input.estimate ? Date.parse(input.estimate.from) : Number.NaN;
  const starts = [...times, ...(Number.isFinite(estimateStart) ? [estimateStart] : [])];
  const t0 = starts.length ? Math.min(...starts) : 0;
  const byChannel = new Map<string, Series>();
  for (const p of input.points) {
    const t = Date.parse(p.at);
    if (!Number.isFinite(t)) continue;
    let s = byChannel.get(p.channel);
    if (!s) {
      s = { channel: p.channel, name: input.channelName(p.channel), points: [] };
      byChannel.set(p.channel, s);
    }
    s.points.push({ t: (t - t0) / 1000, at: p.at, sent: Math.max(0, p.sent) });
  }
  const series = [...byChannel.values()];
  for (const s of series) s.points.sort((a, b) => a.t - b.t);
  const estimateAt =
    input.estimate && Number.isFinite(estimateStart)
      ? (estimateStart - t0) / 1000 + input.estimate.seconds
      : undefined;
  const lastData = Math.max(0, ...series.flatMap((s) => s.points.map((p) => p.t)));
  const rawSpan = Math.max(1, lastData, estimateAt ?? 0);
  const yTicks = niceTicks(Math.max(1, ...series.flatMap((s) => s.points.map((p) => p.sent))));
  const yTop = yTicks.at(-1)!;

  const endLabels = series.map((s) => `${s.name}: ${formatCount(s.points.at(-1)!.sent)}`);
  const left = Math.max(...yTicks.map((v) => textWidth(formatCount(v), FONT))) + 10;
  // The end labels sit right of the plot; on a narrow screen they may take at most 40% of it.
  // At least room for half of the last time label under the axis's end.
  const right = Math.max(
    40,
    Math.min(width * 0.4, Math.max(0, ...endLabels.map((l) => textWidth(l, FONT))) + 22),
  );
  const top = estimateAt !== undefined ? 34 : 14;
  const bottom = 44;
  const plotW = width - left - right;
  const plotH = HEIGHT - top - bottom;
  const { step, end: span } = timeAxis(rawSpan, Math.max(2, Math.floor(plotW / 70)));
  const x = (t: number) => left + (t / span) * plotW;
  const y = (v: number) => top + plotH - (v / yTop) * plotH;

  const grid: SvgNode[] = yTicks.map((v) =>
    svg(
      'g',
      {},
      svg('line', { x1: left, x2: left + plotW, y1: round(y(v)), y2: round(y(v)), stroke: '#d5d9df' }),
      svg(
        'text',
        { x: left - 6, y: round(y(v) + 4), 'text-anchor': 'end', 'font-size': FONT, fill: INK },
        formatCount(v),
      ),
    ),
  );
  const xTickValues: number[] = [];
  for (let t = 0; t <= span + 1e-9; t += step) xTickValues.push(t);
  const xTicks = xTickValues.map((t) =>
    svg(
      'g',
      {},
      svg('line', { x1: round(x(t)), x2: round(x(t)), y1: top + plotH, y2: top + plotH + 5, stroke: MUTED }),
      svg(
        'text',
        { x: round(x(t)), y: top + plotH + 18, 'text-anchor': 'middle', 'font-size': FONT, fill: INK },
        t === 0 ? '0' : formatDuration(t),
      ),
    ),
  );
  const axes = svg(
    'g',
    {},
    svg('line', { x1: left, x2: left, y1: top, y2: top + plotH, stroke: MUTED }),
    svg('line', { x1: left, x2: left + plotW, y1: top + plotH, y2: top + plotH, stroke: MUTED }),
    svg(
      'text',
      { x: left + plotW / 2, y: HEIGHT - 6, 'text-anchor': 'middle', 'font-size': FONT, fill: INK },
      'Time since the first send',
    ),
  );

  const lines = series.map((s, i) => {
    const style = styleOf(i);
    const first = s.points[0]!;
    let d = `M${round(x(first.t))} ${round(y(0))}`;
    for (const p of s.points) d += `H${round(x(p.t))}V${round(y(p.sent))}`;
    d += `H${round(x(lastData))}`;
    return svg(
      'g',
      { class: 'series', 'data-series': s.channel },
      svg('path', {
        d,
        fill: 'none',
        stroke: style.colour,
        'stroke-width': 2.5,
        'stroke-dasharray': style.dash || undefined,
        'stroke-linejoin': 'round',
      }),
      ...s.points.map((p) => marker(style.marker, x(p.t), y(p.sent), style.colour, p.sent)),
    );
  });
  const labelYs = spreadLabels(
    series.map((s) => y(s.points.at(-1)!.sent)),
    FONT + 4,
    top + 4,
    top + plotH,
  );
  const labels = series.map((s, i) =>
    svg(
      'g',
      { class: 'end-label' },
      marker(styleOf(i).marker, left + plotW + 10, labelYs[i]!, styleOf(i).colour, s.points.at(-1)!.sent),
      svg(
        'text',
        { x: round(left + plotW + 18), y: round(labelYs[i]! + 4), 'font-size': FONT, fill: INK },
        fitLabel(endLabels[i]!, right - 20, FONT),
      ),
    ),
  );

  let estimateMark: SvgNode | null = null;
  let estimateText = '';
  if (input.estimate && estimateAt !== undefined) {
    const ex = round(x(estimateAt));
    estimateText = `Estimate: ${input.estimate.label} at ${formatDuration(estimateAt)}`;
    // The mark's own label is short (the summary and the table say it whole) and kept inside the drawing.
    const mark = `Estimate ${formatDuration(estimateAt)}`;
    const markX = round(
      Math.min(width - textWidth(mark, FONT) - 2, Math.max(2, ex - textWidth(mark, FONT) / 2)),
    );
    estimateMark = svg(
      'g',
      { class: 'estimate' },
      svg('line', {
        x1: ex,
        x2: ex,
        y1: top - 8,
        y2: top + plotH,
        stroke: ESTIMATE_STYLE.colour,
        'stroke-width': 2,
        'stroke-dasharray': ESTIMATE_STYLE.dash,
      }),
      svg('text', { x: markX, y: 14, 'font-size': FONT, fill: INK }, mark),
    );
  }

  const said = series.map((s) => {
    const last = s.points.at(-1)!;
    return `${s.name}: ${formatCount(last.sent)} sent, the last ${formatDuration(last.t)} after the first send`;
  });
  const summary = series.length
    ? `${input.title}. ${said.join('; ')}.${estimateText ? ` ${estimateText}.` : ''} Every point is in the table.`
    : `${input.title}: nothing sent yet.`;

  const rows: string[][] = series
    .flatMap((s) => s.points.map((p) => ({ ...p, name: s.name })))
    .sort((a, b) => a.t - b.t)
    .map((p) => [formatDuration(p.t), clock(p.at), p.name, formatCount(p.sent)]);
  if (input.estimate && estimateAt !== undefined)
    rows.push([
      formatDuration(estimateAt),
      clock(new Date(t0 + estimateAt * 1000).toISOString()),
      `Estimate: ${input.estimate.label}`,
      '',
    ]);

  return {
    title: input.title,
    width,
    height: HEIGHT,
    summary,
    svg: svg(
      'svg',
      {
        xmlns: 'http://www.w3.org/2000/svg',
        viewBox: `0 0 ${width} ${HEIGHT}`,
        role: 'img',
        'aria-label': summary,
        class: 'chart-svg',
        focusable: 'false',
      },
      svg('title', {}, summary),
      ...grid,
      axes,
      ...xTicks,
      estimateMark,
      ...lines,
      ...labels,
    ),
    table: {
      caption: `${input.title}: every point`,
      head: ['Time since the first send', 'At', 'Channel', 'Sent so far'],
      rows,
    },
  };
}
