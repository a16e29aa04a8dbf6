/**
 * The console's charts (web/src/charts), without a browser: the drawing and its table carry the same numbers, the
 * series are told apart by dash, marker and fill as well as colour, every colour keeps 3:1 against the page,
 * everything drawn stays inside the viewBox at phone widths, labels stay text, and none of this is in the console's
 * first load.
 */
import { describe, expect, it } from 'vitest';
import { buildConsole } from '../../web/build';
import { barChart } from '../../web/src/charts/bar-chart';
import {
  BACKGROUND,
  contrastRatio,
  ESTIMATE_STYLE,
  INK,
  MUTED,
  SERIES_STYLES,
  type SvgNode,
  svgMarkup,
  textOf,
  textWidth,
  walk,
} from '../../web/src/charts/svg';
import { spreadLabels, type TimelinePoint, timelineChart } from '../../web/src/charts/timeline-chart';

const NAMES: Record<string, string> = { sms: 'SMS', x: 'X', facebook: 'Facebook', instagram: 'Instagram' };
const channelName = (c: string) => NAMES[c] ?? c;
const START = Date.parse('2026-11-20T10:00:00Z');
const at = (seconds: number) => new Date(START + seconds * 1000).toISOString();

/** An SMS fan-out of 2,000 in batches of 500, and two social posts. */
const POINTS: TimelinePoint[] = [
  { at: at(0), channel: 'x', sent: 1 },
  { at: at(1), channel: 'facebook', sent: 1 },
  ...[1, 2, 3, 4].map((n) => ({ at: at(n * 50), channel: 'sms', sent: n * 500 })),
];

/** Markers drawn for data points (the end labels' markers are in `g.end-label`). */
function dataMarkers(chart: SvgNode): SvgNode[] {
  return [...walk(chart)]
    .filter((n) => n.tag === 'g' && n.attrs.class === 'series')
    .flatMap((g) => g.children.filter((c): c is SvgNode => typeof c !== 'string' && 'data-value' in c.attrs));
}

/** The y of a marker's centre, whatever its shape. */
function centreY(n: SvgNode): number {
  if (n.tag === 'circle') return Number(n.attrs.cy);
  if (n.tag === 'rect') return Number(n.attrs.y) + Number(n.attrs.height) / 2;
  const ys = String(n.attrs.points ?? n.attrs.d)
    .match(/-?[\d.]+/g)!
    .map(Number)
    .filter((_, i) => i % 2 === 1);
  return (Math.min(...ys) + Math.max(...ys)) / 2;
}

/** Every coordinate drawn, and each text's extent as drawn (start-anchored unless it says otherwise). */
function extents(chart: SvgNode): { xs: number[]; ys: number[] } {
  const xs: number[] = [];
  const ys: number[] = [];
  // Fill patterns tile their own small box (defs); everything else is drawn on the chart's.
  const drawn = (node: SvgNode): SvgNode[] =>
    node.tag === 'defs'
      ? []
      : [node, ...node.children.flatMap((c) => (typeof c === 'string' ? [] : drawn(c)))];
  for (const n of drawn(chart)) {
    if (n.tag === 'svg') continue;
    const a = n.attrs;
    if (n.tag === 'text') {
      const w = textWidth(textOf(n), Number(a['font-size'] ?? 12));
      const x = Number(a.x);
      const left = a['text-anchor'] === 'end' ? x - w : a['text-anchor'] === 'middle' ? x - w / 2 : x;
      xs.push(left, left + w);
      ys.push(Number(a.y) - Number(a['font-size'] ?? 12), Number(a.y) + 3);
      continue;
    }
    for (const k of ['x', 'x1', 'x2', 'cx']) if (k in a) xs.push(Number(a[k]));
    for (const k of ['y', 'y1', 'y2', 'cy']) if (k in a) ys.push(Number(a[k]));
    if (n.tag === 'rect') {
      xs.push(Number(a.x) + Number(a.width));
      ys.push(Number(a.y) + Number(a.height));
    }
    for (const k of ['points', 'd']) {
      if (!(k in a)) continue;
      // Path commands H and V carry one coordinate; M, L and polygon points carry pairs.
      for (const m of String(a[k]).matchAll(/([MLHV]?)\s*(-?[\d.]+)(?:[ ,](-?[\d.]+))?/g)) {
        if (m[1] === 'H') xs.push(Number(m[2]));
        else if (m[1] === 'V') ys.push(Number(m[2]));
        else if (m[3] !== undefined) {
          xs.push(Number(m[2]));
          ys.push(Number(m[3]));
        }
      }
    }
  }
  return { xs, ys };
}

function expectInside(chart: { svg: SvgNode; width: number; height: number }): void {
  const { xs, ys } = extents(chart.svg);
  expect(chart.svg.attrs.viewBox).toBe(`0 0 ${chart.width} ${chart.height}`);
  expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
  expect(Math.max(...xs)).toBeLessThanOrEqual(chart.width);
  expect(Math.min(...ys)).toBeGreaterThanOrEqual(0);
  expect(Math.max(...ys)).toBeLessThanOrEqual(chart.height);
}

describe('Charts: the delivery timeline', () => {
  it('draws a marker per point at the height of its count, and the table lists the same counts', () => {
    // Act
    const chart = timelineChart({ title: 'Sent so far', points: POINTS, channelName, width: 640 });
    const markers = dataMarkers(chart.svg);

    // Assess: one row and one marker per point, with the same numbers
    expect(chart.table.head).toEqual(['Time since the first send', 'At', 'Channel', 'Sent so far']);
    expect(chart.table.rows.map((r) => [r[2], r[3]])).toEqual([
      ['X', '1'],
      ['Facebook', '1'],
      ['SMS', '500'],
      ['SMS', '1,000'],
      ['SMS', '1,500'],
      ['SMS', '2,000'],
    ]);
    expect(chart.table.rows.map((r) => r[0])).toEqual([
      '0 s',
      '1 s',
      '50 s',
      '1 min 40 s',
      '2 min 30 s',
      '3 min 20 s',
    ]);
    expect(markers.map((m) => Number(m.attrs['data-value'])).sort((a, b) => a - b)).toEqual([
      1, 1, 500, 1000, 1500, 2000,
    ]);
    // Heights are linear in the count: the same pixels per message for every marker.
    const zeroY =
      centreY(markers.find((m) => m.attrs['data-value'] === 500)!) * 2 -
      centreY(markers.find((m) => m.attrs['data-value'] === 1000)!);
    const perMessage = markers
      .filter((m) => Number(m.attrs['data-value']) >= 500)
      .map((m) => (zeroY - centreY(m)) / Number(m.attrs['data-value']));
    for (const p of perMessage) expect(p).toBeCloseTo(perMessage[0]!, 2);
    // Each line is labelled at its end with its channel and its count.
    const endLabels = [...walk(chart.svg)].filter((n) => n.tag === 'text').map(textOf);
    expect(endLabels).toEqual(expect.arrayContaining(['SMS: 2,000', 'X: 1', 'Facebook: 1']));
    expect(chart.summary).toContain('SMS: 2,000 sent, the last 3 min 20 s after the first send');
    expect(chart.svg.attrs).toMatchObject({ role: 'img', 'aria-label': chart.summary });
  });

  it('marks the estimate of the last recipient only when it is given, and lists it in the table', () => {
    // Act
    const without = timelineChart({ title: 'Sent so far', points: POINTS, channelName, width: 640 });
    const withEstimate = timelineChart({
      title: 'Sent so far',
      points: POINTS,
      channelName,
      width: 640,
      estimate: { seconds: 240, from: at(50), label: 'last SMS recipient' },
    });
    const marks = (c: SvgNode) => [...walk(c)].filter((n) => n.attrs.class === 'estimate');

    // Assess: 50 s after the start plus 240 s
    expect(marks(without.svg)).toHaveLength(0);
    expect(marks(withEstimate.svg)).toHaveLength(1);
    const line = marks(withEstimate.svg)[0]!.children[0] as SvgNode;
    expect(line.attrs['stroke-dasharray']).toBe(ESTIMATE_STYLE.dash);
    expect(textOf(marks(withEstimate.svg)[0]!)).toBe('Estimate 4 min 50 s');
    expect(withEstimate.summary).toContain('Estimate: last SMS recipient at 4 min 50 s');
    expect(withEstimate.table.rows.at(-1)).toEqual([
      '4 min 50 s',
      at(290),
      'Estimate: last SMS recipient',
      '',
    ]);
  });

  it.each([280, 320, 360, 720])('keeps every mark and label inside its viewBox at %i units wide', (width) => {
    // Arrange: long names and a large count, the estimate at the far right
    const points = [...POINTS, { at: at(30), channel: 'instagram', sent: 12345 }];

    // Act
    const chart = timelineChart({
      title: 'Sent so far',
      points,
      channelName,
      width,
      estimate: { seconds: 7200, from: at(0), label: 'last SMS recipient' },
    });

    // Assess
    expectInside(chart);
  });

  it('keeps end labels apart and inside the plot when lines end at the same count', () => {
    // Act
    const ys = spreadLabels([100, 100, 101, 30], 16, 10, 120);

    // Assess
    const sorted = [...ys].sort((a, b) => a - b);
    for (let i = 1; i < sorted.length; i++) expect(sorted[i]! - sorted[i - 1]!).toBeGreaterThanOrEqual(16);
    expect(Math.min(...ys)).toBeGreaterThanOrEqual(10);
    expect(Math.max(...ys)).toBeLessThanOrEqual(120);
  });

  it('says that nothing was sent when there is no point', () => {
    const chart = timelineChart({ title: 'Sent so far', points: [], channelName, width: 320 });
    expect(chart.summary).toBe('Sent so far: nothing sent yet.');
    expect(chart.table.rows).toEqual([]);
  });
});

describe('Charts: bars', () => {
  const input = {
    title: 'Subscribers gained and lost',
    categoryHeading: 'Period',
    categories: ['2026-09', '2026-10', '2026-11'],
    series: [
      { name: 'Gained', values: [120, 0, 37] },
      { name: 'Lost', values: [4, 9, 0] },
    ],
    idPrefix: 'test',
  };

  it('draws one bar per value, as long as its value, labelled with its series and value; the table has the same', () => {
    // Act
    const chart = barChart({ ...input, width: 600 });
    const bars = [...walk(chart.svg)].filter((n) => 'data-value' in n.attrs);
    const labels = [...walk(chart.svg)].filter((n) => n.tag === 'text').map(textOf);

    // Assess
    expect(chart.table).toEqual({
      caption: 'Subscribers gained and lost',
      head: ['Period', 'Gained', 'Lost'],
      rows: [
        ['2026-09', '120', '4'],
        ['2026-10', '0', '9'],
        ['2026-11', '37', '0'],
      ],
    });
    expect(bars.map((b) => Number(b.attrs['data-value']))).toEqual([120, 4, 0, 9, 37, 0]);
    const rects = bars.filter((b) => b.tag === 'rect');
    const perUnit = Number(rects[0]!.attrs.width) / 120;
    for (const r of rects)
      expect(Number(r.attrs.width)).toBeCloseTo(Number(r.attrs['data-value']) * perUnit, 0);
    // A zero is drawn as an upright mark, not left out.
    expect(bars.filter((b) => b.tag === 'line')).toHaveLength(2);
    expect(labels).toEqual(
      expect.arrayContaining([
        '2026-09',
        'Gained: 120',
        'Lost: 4',
        'Gained: 0',
        'Lost: 9',
        'Gained: 37',
        'Lost: 0',
      ]),
    );
    expect(chart.summary).toContain('Gained: highest 120 (2026-09)');
  });

  it('fills each series with its own pattern, outlined in its colour', () => {
    // Act
    const chart = barChart({ ...input, width: 600 });
    const patterns = [...walk(chart.svg)].filter((n) => n.tag === 'pattern');
    const rects = [...walk(chart.svg)].filter((n) => n.tag === 'rect' && 'data-value' in n.attrs);

    // Assess
    expect(patterns.map((p) => p.attrs.id)).toEqual(['test-fill-0', 'test-fill-1']);
    expect(svgMarkup(patterns[0]!)).not.toBe(svgMarkup(patterns[1]!).replace('test-fill-1', 'test-fill-0'));
    expect(new Set(rects.map((r) => `${r.attrs.fill} ${r.attrs.stroke}`)).size).toBe(2);
  });

  it.each([280, 320, 360])(
    'fits its viewBox at %i units wide, cutting a long label (the table keeps it whole)',
    (width) => {
      // Act
      const chart = barChart({
        ...input,
        categories: ['2026-W47 · Ciutat Vella and the whole old harbour district', '2026-W48', '2026-W49'],
        series: [
          { name: 'Gained', values: [12345, 2, 3] },
          { name: 'Lost', values: [1, 0, 99999] },
        ],
        width,
      });

      // Assess
      expectInside(chart);
      expect(chart.table.rows[0]![0]).toBe('2026-W47 · Ciutat Vella and the whole old harbour district');
    },
  );
});

describe('Charts: told apart without colour, and colours that keep 3:1', () => {
  it('computes WCAG contrast ratios', () => {
    expect(contrastRatio('#000000', '#ffffff')).toBeCloseTo(21, 5);
    expect(contrastRatio('#ffffff', '#ffffff')).toBeCloseTo(1, 5);
    // The WCAG's own borderline grey: #767676 just passes 4.5:1 on white, #777777 just fails.
    expect(contrastRatio('#767676', '#ffffff')).toBeGreaterThan(4.5);
    expect(contrastRatio('#777777', '#ffffff')).toBeLessThan(4.5);
  });

  it('gives every series colour, the estimate and the axes at least 3:1 against the page, and text 4.5:1', () => {
    for (const s of SERIES_STYLES)
      expect(contrastRatio(s.colour, BACKGROUND), s.colour).toBeGreaterThanOrEqual(3);
    expect(contrastRatio(ESTIMATE_STYLE.colour, BACKGROUND)).toBeGreaterThanOrEqual(3);
    expect(contrastRatio(MUTED, BACKGROUND)).toBeGreaterThanOrEqual(3);
    expect(contrastRatio(INK, BACKGROUND)).toBeGreaterThanOrEqual(4.5);
  });

  it('draws every text in a colour that passes 4.5:1, and every line and marker in one that passes 3:1', () => {
    // Arrange
    const timeline = timelineChart({
      title: 'Sent so far',
      points: POINTS,
      channelName,
      width: 360,
      estimate: { seconds: 100, from: at(0), label: 'last SMS recipient' },
    });
    const bars = barChart({ ...input(), width: 360 });

    // Assess
    for (const chart of [timeline, bars])
      for (const n of walk(chart.svg)) {
        if (n.tag === 'text')
          expect(contrastRatio(String(n.attrs.fill), BACKGROUND)).toBeGreaterThanOrEqual(4.5);
        else if (n.attrs['data-value'] !== undefined)
          expect(contrastRatio(String(n.attrs.stroke), BACKGROUND)).toBeGreaterThanOrEqual(3);
      }

    function input() {
      return {
        title: 'Reach',
        categoryHeading: 'Channel',
        categories: ['SMS', 'X'],
        series: [{ name: 'Sent', values: [2000, 1] }],
        idPrefix: 'r',
      };
    }
  });

  it('gives no two styles the same dash and marker, and the first six all different dashes, markers and fills', () => {
    const pairs = SERIES_STYLES.map((s) => `${s.dash}|${s.marker}`);
    expect(new Set(pairs).size).toBe(SERIES_STYLES.length);
    const six = SERIES_STYLES.slice(0, 6);
    for (const key of ['dash', 'marker', 'fill'] as const)
      expect(new Set(six.map((s) => s[key])).size).toBe(6);
    // The estimate's dash is no series' dash.
    expect(SERIES_STYLES.map((s) => s.dash)).not.toContain(ESTIMATE_STYLE.dash);
  });

  it('draws the channels of one alert each with its own dash and marker shape', () => {
    // Act
    const chart = timelineChart({ title: 'Sent so far', points: POINTS, channelName, width: 640 });
    const series = [...walk(chart.svg)].filter((n) => n.attrs.class === 'series');

    // Assess
    const looks = series.map((g) => {
      const [path, first] = g.children as SvgNode[];
      return `${path!.attrs['stroke-dasharray'] ?? 'solid'} ${first!.tag} ${first!.attrs.points ? 'polygon' : ''}`;
    });
    expect(new Set(looks).size).toBe(3);
    expect(
      new Set(series.map((g) => (g.children[0] as SvgNode).attrs['stroke-dasharray'] ?? 'solid')).size,
    ).toBe(3);
  });
});

describe('Charts: labels are text', () => {
  const hostile = '<script>alert(1)</script> & "quoted" <img src=x onerror=alert(2)>';

  it('escapes a channel or category name in the markup and keeps it a text child in the tree', () => {
    // Act
    const timeline = timelineChart({
      title: 'Sent so far',
      points: [{ at: at(0), channel: 'evil', sent: 3 }],
      channelName: () => hostile,
      width: 720,
    });
    const bars = barChart({
      title: hostile,
      categoryHeading: 'Zone',
      categories: [hostile],
      series: [{ name: hostile, values: [1] }],
      width: 720,
      idPrefix: 'x',
    });

    // Assess
    for (const chart of [timeline, bars]) {
      const markup = svgMarkup(chart.svg);
      expect(markup).not.toMatch(/<script|<img/);
      expect(markup).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quoted&quot;');
      // Nothing but the known attributes: a name can never become an attribute or an element.
      for (const n of walk(chart.svg))
        expect([
          'svg',
          'title',
          'g',
          'text',
          'line',
          'path',
          'rect',
          'circle',
          'polygon',
          'defs',
          'pattern',
        ]).toContain(n.tag);
      // No inline style attribute: the console's CSP may be tightened without breaking the charts.
      expect(markup).not.toContain(' style=');
    }
    expect(bars.table.rows[0]![0]).toBe(hostile);
  });
});

describe('Charts: loaded only when needed', () => {
  it('keeps the chart, impact, reports and audit code out of the first load, in chunks fetched on demand', async () => {
    // Act
    const build = await buildConsole();
    const text = (path: string) => new TextDecoder().decode(build.files.find((f) => f.path === path)!.body);
    const firstScripts = build.firstLoad.filter((p) => p.endsWith('.js'));
    const firstLoad = firstScripts.map(text).join('\n');
    const later = build.files
      .filter((f) => f.path.endsWith('.js') && !build.firstLoad.includes(f.path))
      .map((f) => text(f.path))
      .join('\n');
    const html = text('/index.html');

    // Assess: strings only the charts and the lazy pages hold
    const lazyOnly = [
      'http://www.w3.org/2000/svg',
      'Time since the first send',
      'The numbers in this chart',
      '/v1/reports?',
      '/v1/audit/verify',
      '}/impact',
    ];
    for (const s of lazyOnly) {
      expect(firstLoad, s).not.toContain(s);
      expect(later, s).toContain(s);
    }
    expect(firstScripts[0]).toMatch(/^\/assets\/main-\w+\.js$/);
    // The first load is what index.html asks for: the script, the chunks it imports (preloaded), the stylesheet.
    for (const p of build.firstLoad.filter((x) => x !== '/index.html')) expect(html).toContain(`"${p}"`);
    for (const f of build.files.filter((x) => !build.firstLoad.includes(x.path)))
      expect(html).not.toContain(f.path);
    expect(build.size.gzip).toBeLessThan(40 * 1024);
  });
});
