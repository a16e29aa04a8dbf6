/**
 * Every alert, newest first, a page at a time: filters by state and status, and a search over the loaded
 * alerts' text (the API lists without filtering; the page is filtered here). An alert with steps still to go out says
 * when the next goes, on the agency's clock.
 */
import { call } from '../api';
import type { Context } from '../context';
import { formatTime, h, show } from '../dom';
import { field, input, select } from '../form';
import { agencyTimeZone, whenOf } from '../schedule';
import { ALERT_STATES, type Alert, STATUSES } from '../types';
import { stateBadge } from './alert';

type Item = Omit<Alert, 'versions'>;
const PAGE = 50;

export function alertsView(main: HTMLElement, _ctx: Context): undefined {
  const items: Item[] = [];
  let cursor: string | undefined;
  let timeZone = 'UTC';
  const results = h('div');
  const more = h('div');
  const count = h('p', { role: 'status' });
  const filters = h(
    'form',
    { class: 'filters', 'aria-label': 'Alert filters', onsubmit: (e: Event) => e.preventDefault() },
    field('State', select('a-state', ['all', ...ALERT_STATES], 'all')),
    field('Status', select('a-status', ['all', ...STATUSES], 'all')),
    field('Search the loaded alerts', input('a-search', { type: 'search' })),
  );
  filters.addEventListener('input', render);
  filters.addEventListener('change', render);

  function render(): void {
    const state = (filters.querySelector('#a-state') as HTMLSelectElement).value;
    const status = (filters.querySelector('#a-status') as HTMLSelectElement).value;
    const text = (filters.querySelector('#a-search') as HTMLInputElement).value.trim().toLowerCase();
    const shown = items.filter(
      (a) =>
        (state === 'all' || a.state === state) &&
        (status === 'all' || a.status === status) &&
        (!text || `${a.headline} ${a.event} ${a.description} ${a.author}`.toLowerCase().includes(text)),
    );
    show(
      count,
      `${shown.length} of ${items.length} loaded alerts shown${cursor ? '; more can be loaded' : ''}.`,
    );
    show(
      results,
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          null,
          h('caption', null, 'Alerts, newest first'),
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              ['Headline', 'State', 'Status', 'Severity', 'Version', 'Sent', 'Author'].map((c) =>
                h('th', { scope: 'col' }, c),
              ),
            ),
          ),
          h(
            'tbody',
            null,
            shown.map((a) =>
              h(
                'tr',
                null,
                h('td', null, h('a', { href: `#/alerts/${a.id}` }, a.headline)),
                h(
                  'td',
                  null,
                  stateBadge(a.state),
                  a.nextPublishAt
                    ? h(
                        'span',
                        { class: 'next-step' },
                        `${a.state === 'scheduled' ? 'Goes out' : 'Next step'} ${whenOf(a.nextPublishAt, timeZone)} (${timeZone} time)`,
                      )
                    : null,
                ),
                h('td', null, a.status),
                h('td', null, a.severity),
                h('td', null, String(a.version)),
                h('td', null, formatTime(a.sent)),
                h('td', null, a.author),
              ),
            ),
          ),
        ),
      ),
    );
    show(
      more,
      cursor ? h('button', { type: 'button', class: 'secondary', onclick: () => load() }, 'Load more') : null,
    );
  }

  async function load(): Promise<void> {
    const params = new URLSearchParams({ limit: String(PAGE) });
    if (cursor) params.set('cursor', cursor);
    const [{ body }, zone] = await Promise.all([
      call<{ items: Item[]; cursor?: string }>('GET', `/v1/alerts?${params}`),
      agencyTimeZone(),
    ]);
    timeZone = zone;
    items.push(...body.items);
    cursor = body.cursor;
    render();
  }

  show(main, h('h1', { tabindex: '-1' }, 'Alerts'), filters, count, results, more);
  load().catch((e: unknown) => show(results, h('p', { class: 'error' }, (e as Error).message)));
  return undefined;
}
