/**
 * Everything waiting to go out, across alerts (GET /v1/alerts?state=scheduled), grouped by day on the agency's
 * clock: each step's time, headline (a link to its alert), who scheduled it, and whether a supervisor must approve it
 * first. Read again once a minute, and drawn again only when something changed.
 */
import { call } from '../api';
import type { Context } from '../context';
import { h, show } from '../dom';
import { agencyTimeZone, clockOf, dayOf } from '../schedule';
import type { Alert, ScheduledStep } from '../types';

type Item = Omit<Alert, 'versions'> & { scheduled?: ScheduledStep[] };
const PAGE = 50;
const REFRESH_MS = 60_000;

const STATE_WORDS: Record<ScheduledStep['state'], string> = {
  scheduled: 'scheduled',
  'pending-approval': 'pending approval',
};

export function scheduledView(main: HTMLElement, _ctx: Context): () => void {
  let items: Item[] = [];
  let cursor: string | undefined;
  let pages = 1;
  let timeZone = 'UTC';
  let drawn = '';
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;

  const hint = h('p', { class: 'hint' });
  const count = h('p', { role: 'status', tabindex: '-1' });
  const days = h('div');
  const more = h('div');

  function stepItem(a: Item, s: ScheduledStep): HTMLElement {
    return h(
      'li',
      { class: `step step-${s.state}` },
      h('p', { class: 'step-when' }, clockOf(s.publishAt, timeZone)),
      h('p', { class: 'step-headline' }, h('a', { href: `#/alerts/${a.id}` }, s.headline)),
      h(
        'p',
        { class: 'meta' },
        `Version ${s.version} · ${s.msgType} · ${a.event}${a.status === 'Actual' ? '' : ` · ${a.status} (sandbox only)`} · scheduled by ${s.author} `,
        h('span', { class: `badge state-${s.state}` }, STATE_WORDS[s.state] ?? s.state),
      ),
    );
  }

  function render(): void {
    const steps = items
      .flatMap((a) => (a.scheduled ?? []).map((s) => ({ a, s })))
      .sort((x, y) => Date.parse(x.s.publishAt) - Date.parse(y.s.publishAt) || x.s.version - y.s.version);
    const byDay = new Map<string, typeof steps>();
    for (const step of steps) {
      const day = dayOf(step.s.publishAt, timeZone);
      byDay.set(day, [...(byDay.get(day) ?? []), step]);
    }
    show(
      hint,
      `Every step still to go out, soonest first, on the agency’s clock (${timeZone} time). Steps replaced or withdrawn are on their alert’s timeline.`,
    );
    const alerts = new Set(steps.map((x) => x.a.id)).size;
    show(
      count,
      steps.length
        ? `${steps.length} step${steps.length === 1 ? '' : 's'} waiting, in ${alerts} alert${alerts === 1 ? '' : 's'}${cursor ? '; more can be loaded, and the last day shown may have more' : ''}.`
        : 'Nothing is scheduled.',
    );
    show(
      days,
      steps.length
        ? [...byDay].map(([day, list], i) =>
            h(
              'section',
              { 'aria-labelledby': `day-${i}` },
              h('h2', { id: `day-${i}` }, day),
              h(
                'ul',
                { class: 'timeline' },
                list.map((x) => stepItem(x.a, x.s)),
              ),
            ),
          )
        : h(
            'p',
            null,
            'Steps scheduled from Compose or from an alert’s timeline are listed here by day until they go out.',
          ),
    );
    show(
      more,
      cursor
        ? h(
            'button',
            {
              type: 'button',
              class: 'secondary',
              onclick: () => {
                pages += 1;
                load()
                  .then(() => count.focus())
                  .catch((e: unknown) => show(more, h('p', { class: 'error' }, (e as Error).message)));
              },
            },
            'Load more',
          )
        : null,
    );
  }

  /** Reads the pages shown so far from the start, so a refresh sees steps added, moved or gone on any of them. */
  async function load(): Promise<void> {
    timeZone = await agencyTimeZone();
    const read: Item[] = [];
    let next: string | undefined;
    let n = 0;
    do {
      const params = new URLSearchParams({ state: 'scheduled', limit: String(PAGE) });
      if (next) params.set('cursor', next);
      const { body } = await call<{ items: Item[]; cursor?: string }>('GET', `/v1/alerts?${params}`);
      read.push(...body.items);
      next = body.cursor;
      n += 1;
    } while (next && n < pages);
    if (stopped) return;
    items = read;
    cursor = next;
    const signature = JSON.stringify([timeZone, cursor, items.map((a) => [a.id, a.status, a.scheduled])]);
    if (signature !== drawn) {
      drawn = signature;
      render();
    }
  }

  function keepFresh(): void {
    timer = setTimeout(() => {
      load()
        .catch(() => undefined)
        .finally(() => {
          if (!stopped) keepFresh();
        });
    }, REFRESH_MS);
  }

  show(main, h('h1', { tabindex: '-1' }, 'Scheduled'), hint, count, days, more);
  load()
    .then(keepFresh)
    .catch((e: unknown) => show(days, h('p', { class: 'error' }, (e as Error).message)));
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
