/**
 * Reports for supervisors and auditors (GET /v1/reports): per week or month and zone, alerts sent, recipients,
 * delivery rate, median time to the last recipient, and subscribers gained and lost, as charts, as a table and as
 * CSV (fetched with the session's token and saved as a file). The choice rides in the hash (`#/reports?from=…`) so a
 * report can be bookmarked. Loaded on demand with its chart code (main.ts).
 */
import { call, rawCall } from '../api';
import { barChart } from '../charts/bar-chart';
import { chartFigure, wideTable, widthFor } from '../charts/figure';
import { formatCount, formatDuration } from '../charts/svg';
import type { Context } from '../context';
import { h, show } from '../dom';
import { field, input, select } from '../form';
import { type Report, type ReportFigures, type ReportRow, readReport } from '../impact-data';
import type { Zone } from '../types';

const ALL = 'all';
const PERIODS = ['week', 'month'] as const;

interface Choice {
  from: string;
  to: string;
  period: string;
  zone: string;
}

const isoDay = (d: Date): string =>
  `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;

/** By default the last three calendar months, this one included, a bar per month. */
function defaults(now = new Date()): Choice {
  return {
    from: isoDay(new Date(now.getFullYear(), now.getMonth() - 2, 1)),
    to: isoDay(now),
    period: 'month',
    zone: ALL,
  };
}

function readChoice(hash: string): Choice {
  const q = new URLSearchParams(hash.split('?')[1] ?? '');
  const d = defaults();
  const day = (v: string | null, fallback: string) => (v && /^\d{4}-\d{2}-\d{2}$/.test(v) ? v : fallback);
  const period = q.get('period') ?? '';
  return {
    from: day(q.get('from'), d.from),
    to: day(q.get('to'), d.to),
    period: (PERIODS as readonly string[]).includes(period) ? period : d.period,
    zone: q.get('zone') || ALL,
  };
}

const percent = (rate: number | undefined): string =>
  rate === undefined ? '—' : `${(Math.round(rate * 1000) / 10).toLocaleString('en')} %`;

export function reportsView(main: HTMLElement, ctx: Context): () => void {
  let choice = readChoice(location.hash);
  let report: Report | undefined;
  const zoneNames = new Map<string, string>();
  let generation = 0;
  const zoneName = (id: string, row?: ReportRow) =>
    id === '*' ? 'Agency-wide' : (row?.zoneName ?? zoneNames.get(id) ?? id);

  const status = h('p', { role: 'status', class: 'live' });
  const output = h('div', { id: 'report-output' });
  const zoneSelect = select('rp-zone', [ALL], ALL);
  const periodSelect = select('rp-period', PERIODS, choice.period);
  const form = h(
    'form',
    { class: 'filters', 'aria-label': 'Report period and zone' },
    field('From', input('rp-from', { type: 'date', value: choice.from, required: true })),
    field('To', input('rp-to', { type: 'date', value: choice.to, required: true })),
    field('Period', periodSelect),
    field('Zone', zoneSelect),
    h('button', { type: 'submit', class: 'primary' }, 'Show report'),
  );
  const csv = h(
    'button',
    { type: 'button', class: 'secondary', onclick: () => downloadCsv() },
    'Download CSV (all zones)',
  );
  show(
    main,
    h('h1', { tabindex: '-1' }, 'Reports'),
    h(
      'p',
      { class: 'hint' },
      'What Herald sent and how the service grows, per week or month and zone, on the agency’s clock.',
    ),
    form,
    status,
    output,
    h('div', { class: 'actions' }, csv),
  );
  const zoneLabels = () => {
    for (const o of zoneSelect.options) o.textContent = o.value === ALL ? 'All zones' : zoneName(o.value);
  };

  function readForm(): Choice {
    const value = (id: string) =>
      (form.querySelector(`#${id}`) as HTMLInputElement | HTMLSelectElement).value;
    return { from: value('rp-from'), to: value('rp-to'), period: value('rp-period'), zone: value('rp-zone') };
  }

  const query = (c: Choice, csvFormat = false) => {
    const q = new URLSearchParams({ from: c.from, to: c.to, period: c.period });
    if (csvFormat) q.set('format', 'csv');
    return q;
  };

  function draw(): void {
    if (!report) return;
    const rows = report.rows.filter((r) => choice.zone === ALL || r.zone === choice.zone);
    // All zones: the agency-wide figures per period, where an alert to two zones counts once; else that zone's rows.
    const agencyWide = choice.zone === ALL && report.periods.length > 0;
    const bars: ReportFigures[] = agencyWide ? report.periods : rows;
    const label = (r: ReportFigures) =>
      choice.zone === ALL && !agencyWide
        ? `${r.period} · ${zoneName((r as ReportRow).zone, r as ReportRow)}`
        : r.period;
    const width = widthFor(output);
    const per = choice.period === 'week' ? 'week' : 'month';
    const where = agencyWide
      ? ', agency-wide'
      : choice.zone === ALL
        ? ' and zone'
        : ` in ${zoneName(choice.zone)}`;
    const range = `${choice.from} to ${choice.to}`;
    const totals = report.totals;
    show(
      output,
      choice.zone === ALL && Object.keys(totals).length
        ? h(
            'dl',
            { class: 'facts', id: 'report-totals' },
            (
              [
                ['Alerts sent', 'alertsSent'],
                ['Recipients', 'recipients'],
                ['Delivered', 'delivered'],
                ['Subscribers gained', 'subscribersGained'],
                ['Subscribers lost', 'subscribersLost'],
              ] as const
            ).flatMap(([name, key]) =>
              totals[key] === undefined ? [] : [h('dt', null, name), h('dd', null, formatCount(totals[key]))],
            ),
            totals.deliveryRate === undefined
              ? null
              : [h('dt', null, 'Delivery rate'), h('dd', null, percent(totals.deliveryRate))],
          )
        : null,
      rows.length
        ? [
            chartFigure(
              (w) =>
                barChart({
                  title: `Alerts sent per ${per}${where}, ${range}`,
                  categoryHeading: choice.zone === ALL && !agencyWide ? 'Period and zone' : 'Period',
                  categories: bars.map(label),
                  series: [{ name: 'Alerts sent', values: bars.map((r) => r.alertsSent) }],
                  width: w,
                  idPrefix: 'report-sent',
                }),
              width,
            ),
            chartFigure(
              (w) =>
                barChart({
                  title: `Subscribers gained and lost per ${per}${where}, ${range}`,
                  categoryHeading: choice.zone === ALL && !agencyWide ? 'Period and zone' : 'Period',
                  categories: bars.map(label),
                  series: [
                    { name: 'Gained', values: bars.map((r) => r.subscribersGained) },
                    { name: 'Lost', values: bars.map((r) => r.subscribersLost) },
                  ],
                  width: w,
                  idPrefix: 'report-subscribers',
                }),
              width,
            ),
            wideTable(
              `Per ${per} and zone, ${range}${report.timeZone ? ` (${report.timeZone} time)` : ''}`,
              [
                'Period',
                'Zone',
                'Alerts sent',
                'Recipients',
                'Delivered',
                'Delivery rate',
                'Median time to last recipient',
                'Subscribers gained',
                'Subscribers lost',
              ],
              rows.map((r) => [
                r.period,
                zoneName(r.zone, r),
                formatCount(r.alertsSent),
                formatCount(r.recipients),
                formatCount(r.delivered),
                percent(r.deliveryRate),
                r.medianSecondsToLastRecipient === undefined
                  ? '—'
                  : formatDuration(r.medianSecondsToLastRecipient),
                formatCount(r.subscribersGained),
                formatCount(r.subscribersLost),
              ]),
            ),
          ]
        : h('p', null, 'Nothing to report for this choice: no alert sent and no subscriber gained or lost.'),
    );
    show(status, `${rows.length} row${rows.length === 1 ? '' : 's'}, ${range}.`);
  }

  async function load(): Promise<void> {
    const mine = ++generation;
    show(status, 'Loading the report…');
    try {
      const { body } = await call<unknown>('GET', `/v1/reports?${query(choice)}`);
      if (mine !== generation) return;
      report = readReport(body);
      for (const r of report.rows)
        if (r.zoneName && !zoneNames.has(r.zone)) zoneNames.set(r.zone, r.zoneName);
      // Zones that only the report names (one since removed) are offered too.
      const known = new Set([...zoneSelect.options].map((o) => o.value));
      for (const r of report.rows)
        if (r.zone && !known.has(r.zone)) {
          known.add(r.zone);
          zoneSelect.append(h('option', { value: r.zone }, zoneName(r.zone, r)));
        }
      zoneSelect.value = choice.zone;
      draw();
    } catch (error) {
      if (mine !== generation) return;
      show(status, '');
      show(output, h('p', { class: 'error', role: 'alert' }, `No report: ${(error as Error).message}`));
    }
  }

  async function downloadCsv(): Promise<void> {
    const c = readForm();
    try {
      const res = await rawCall('GET', `/v1/reports?${query(c, true)}`);
      const url = URL.createObjectURL(await res.blob());
      const link = h('a', {
        href: url,
        download: `herald-report-${c.from}-${c.to}-${c.period}.csv`,
        hidden: true,
      });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      ctx.announce('CSV downloaded.');
    } catch (error) {
      show(status, `The CSV could not be downloaded: ${(error as Error).message}`);
    }
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const next = readForm();
    if (next.from > next.to) {
      show(status, 'The first day comes after the last: swap them or pick again.');
      return;
    }
    const reload = next.from !== choice.from || next.to !== choice.to || next.period !== choice.period;
    choice = next;
    const q = query(choice);
    if (choice.zone !== ALL) q.set('zone', choice.zone);
    // The hash follows the choice without routing again (which would draw the page anew).
    history.replaceState(null, '', `#/reports?${q}`);
    if (reload || !report) load().catch(() => undefined);
    else draw();
  });

  call<{ zones: Zone[] }>('GET', '/v1/zones')
    .then(({ body }) => {
      for (const z of body.zones) zoneNames.set(z.id, z.name);
      const known = new Set([...zoneSelect.options].map((o) => o.value));
      for (const z of body.zones)
        if (!known.has(z.id)) zoneSelect.append(h('option', { value: z.id }, z.name));
      zoneLabels();
      zoneSelect.value = choice.zone;
      if (report) draw();
    })
    .catch(() => undefined);
  load().catch(() => undefined);
  return () => {
    generation++;
  };
}
