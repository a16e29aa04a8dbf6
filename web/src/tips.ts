/**
 * What the inbox, a tip's thread, the alert page and the navigation share: how a tip is named and listed, the poll
 * that keeps them fresh while the tab is visible, and the count of open tips shown beside "Inbox".
 */
import { call } from './api';
import { formatTime, h, show } from './dom';
import type { Tip, TipList } from './types';

export const POLL_MS = 10_000;

const SOURCE_NAMES: Record<string, string> = {
  sms: 'SMS',
  web: 'Web form',
  x: 'X',
  facebook: 'Facebook',
  instagram: 'Instagram',
  mastodon: 'Mastodon',
  bluesky: 'Bluesky',
  threads: 'Threads',
  telegram: 'Telegram',
};
/** Every source the API names: SMS, the web form, and each social channel Herald posts to. */
export const SOURCES = Object.keys(SOURCE_NAMES);
export const sourceName = (source: string): string => SOURCE_NAMES[source] ?? source;
/** A tip that came as a reply under one of the agency's posts: answering it is public. */
export const isSocial = (source: string): boolean => source !== 'sms' && source !== 'web';

/**
 * Who sent it, as the API names them: an alias ("Tipster 4F2K") or a public handle. Officers must never see a
 * tipster's number or address (api.md), so should one ever come through, the console does not show it.
 */
export function fromLabel(tip: Pick<Tip, 'from'>): string {
  const from = tip.from.trim();
  if (/^\+?[\d\s().-]{6,}$/.test(from) || /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(from)) return 'Tipster';
  return from;
}

export const excerpt = (text: string, max = 140): string =>
  text.length > max ? `${text.slice(0, max - 1).trimEnd()}…` : text;

export const tipState = (state: string): HTMLElement => h('span', { class: `badge tip-${state}` }, state);

export const time = (iso: string): HTMLElement => h('time', { datetime: iso }, formatTime(iso));

/**
 * One tip in a list: its heading links to the thread (and carries the tip's id, so a refresh can give focus back to
 * the same link); the alert it answers is linked when the list is not already the alert's own.
 */
export function tipItem(
  t: Tip,
  options: { level: 'h2' | 'h3'; alertName?: (id: string) => string | undefined; fresh?: boolean },
): HTMLElement {
  return h(
    'li',
    { class: 'tip' },
    h(
      options.level,
      null,
      h(
        'a',
        { href: `#/tips/${encodeURIComponent(t.id)}`, 'data-tip': t.id },
        `${t.reference} · ${fromLabel(t)}`,
      ),
      options.fresh ? [' ', h('span', { class: 'tag new' }, 'new')] : null,
    ),
    h(
      'p',
      { class: 'meta' },
      `${sourceName(t.source)} · `,
      time(t.receivedAt),
      ' · ',
      tipState(t.state),
      ` · ${t.assignee ? `assigned to ${t.assignee}` : 'unassigned'}`,
    ),
    h('p', { class: 'excerpt' }, excerpt(t.text)),
    options.alertName && t.alertId
      ? h(
          'p',
          { class: 'meta' },
          'About: ',
          h(
            'a',
            { href: `#/alerts/${t.alertId}` },
            options.alertName(t.alertId) ?? `alert ${t.alertId.slice(-6)}`,
          ),
        )
      : null,
  );
}

/**
 * Calls `tick` every `ms` while the tab is visible, and at once when it becomes visible again; a hidden tab asks
 * nothing. One tick at a time, so a slow answer never stacks requests. The returned function stops it.
 */
export function poll(tick: () => Promise<void>, ms = POLL_MS): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  let running = false;
  const run = async (): Promise<void> => {
    clearTimeout(timer);
    if (stopped || running || document.visibilityState !== 'visible') return;
    running = true;
    try {
      await tick();
    } catch {
      // The next tick tries again; the view already shows what it last knew.
    } finally {
      running = false;
    }
    if (!stopped) timer = setTimeout(run, ms);
  };
  const onVisibility = () => {
    run().catch(() => undefined);
  };
  document.addEventListener('visibilitychange', onVisibility);
  timer = setTimeout(run, ms);
  return () => {
    stopped = true;
    clearTimeout(timer);
    document.removeEventListener('visibilitychange', onVisibility);
  };
}

// The count of open tips beside "Inbox" in the navigation. The navigation is redrawn on every route, so the last
// count known is kept here and shown at once, then refreshed.
let openCount: number | undefined;
let badge: HTMLElement | undefined;
/** Which of the API's two answers holds the count, once found: the list's `openCount`, or /v1/tips/count. */
let countFrom: 'list' | 'count' | undefined;

const countText = (): string => (openCount === undefined ? '' : ` (${openCount} open)`);

/** The link's badge: words, not a colour or a dot, so its accessible name reads "Inbox (3 open)". */
export function openCountBadge(): HTMLElement {
  badge = h('span', { class: 'count' }, countText());
  return badge;
}

export function forgetOpenCount(): void {
  openCount = undefined;
  countFrom = undefined;
}

async function fetchOpenCount(): Promise<number | undefined> {
  if (countFrom !== 'count') {
    const { body } = await call<TipList>('GET', '/v1/tips?state=open&limit=1');
    if (typeof body.openCount === 'number') {
      countFrom = 'list';
      return body.openCount;
    }
    countFrom = 'count';
  }
  const { body } = await call<{ count?: number; open?: number; openCount?: number }>(
    'GET',
    '/v1/tips/count?state=open',
  );
  const n = body.count ?? body.openCount ?? body.open;
  return typeof n === 'number' ? n : undefined;
}

export async function refreshOpenCount(): Promise<void> {
  try {
    openCount = await fetchOpenCount();
  } catch {
    // No count (the API is unreachable or has none): the link says just "Inbox" rather than a wrong number.
    openCount = undefined;
  }
  if (badge && badge.textContent !== countText()) badge.textContent = countText();
}

/** Every page of a list, up to `max` tips: a small alert's tips fit in one or two pages. */
export async function tipsOf(query: URLSearchParams, max = 200): Promise<{ items: Tip[]; more: boolean }> {
  const items: Tip[] = [];
  let cursor: string | undefined;
  do {
    const params = new URLSearchParams(query);
    params.set('limit', '100');
    if (cursor) params.set('cursor', cursor);
    const { body } = await call<TipList>('GET', `/v1/tips?${params}`);
    items.push(...body.items);
    cursor = body.cursor;
  } while (cursor && items.length < max);
  return { items, more: cursor !== undefined };
}

/** An alert's tips on its page, each linking to its thread, and the same list in the inbox to work through. */
export async function renderAlertTips(section: HTMLElement, alertId: string): Promise<void> {
  const { items, more } = await tipsOf(new URLSearchParams({ alertId }));
  const open = items.filter((t) => t.state === 'open').length;
  show(
    section,
    h('h2', { id: 'alert-tips-title' }, 'Tips from residents'),
    h(
      'p',
      null,
      items.length
        ? `${more ? 'The latest ' : ''}${items.length} tip${items.length === 1 ? '' : 's'}, ${open} open.`
        : 'No tips about this alert yet.',
    ),
    items.length
      ? h(
          'ol',
          { class: 'tips' },
          items.map((t) => tipItem(t, { level: 'h3' })),
        )
      : null,
    h(
      'p',
      null,
      h(
        'a',
        { href: `#/inbox?alert=${encodeURIComponent(alertId)}&state=any` },
        'Work through them in the inbox',
      ),
    ),
  );
}
