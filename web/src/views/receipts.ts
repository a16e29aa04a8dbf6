/**
 * An alert's receipts for auditors: filtered, paged, downloadable as CSV. Each names its recipient as the API does
 * (a masked address, the subscriber's id, a media outlet's name) and says in words, not colour, what an auditor must
 * not miss: a sandbox receipt reached no one, a possible duplicate may have reached someone twice.
 */
import { call, rawCall } from '../api';
import type { Context } from '../context';
import { type Child, formatTime, h, show, table } from '../dom';
import { field, select } from '../form';
import { type Alert, CHANNEL_NAMES, DELIVERY_STATUSES, type Delivery, type DeliveryReport } from '../types';

const RECEIPTS_PAGE = 50;

/** A small labelled mark beside a status: its words carry the meaning, the style only draws the eye. */
export const tag = (text: string, kind: string): HTMLElement => h('span', { class: `tag ${kind}` }, text);

/** What an auditor must know about a receipt beyond its status, each after a space so it reads as its own word. */
export function receiptTags(d: Delivery): Child[] {
  return [
    d.sandbox ? tag('sandbox', 'sandbox') : null,
    d.possibleDuplicate ? tag('possible duplicate', 'duplicate') : null,
    d.outcomeUnknown ? tag('outcome unknown', 'unknown') : null,
  ].flatMap((t) => (t ? [' ', t] : []));
}

/** A receipt's status in words: one that waits says until when, one superseded that it never went out. */
export const statusText = (d: Delivery): string =>
  d.status === 'deferred'
    ? `deferred until ${formatTime(d.nextAttemptAt)} (quiet hours)`
    : d.status === 'superseded'
      ? 'superseded (not sent)'
      : d.status;

/** Who a receipt is for, in one line: the outlet's name before its masked address, when it has one. */
export const recipientOf = (d: Delivery): string => (d.name ? `${d.name} (${d.recipient})` : d.recipient);

export function renderReceipts(section: HTMLElement, ctx: Context, id: string, a: Alert): void {
  const list = h('div');
  const more = h('div');
  const filters = h(
    'form',
    { class: 'filters', 'aria-label': 'Receipt filters' },
    field('Version', select('r-version', ['all', ...a.versions.map((v) => String(v.version))], 'all')),
    field('Channel', select('r-channel', ['all', ...a.channels], 'all')),
    field('Status', select('r-status', ['all', ...DELIVERY_STATUSES], 'all')),
    h('button', { type: 'submit', class: 'secondary' }, 'Show receipts'),
    h('button', { type: 'button', class: 'secondary', onclick: () => exportCsv() }, 'Download CSV'),
  );
  const query = () => {
    const params = new URLSearchParams();
    for (const key of ['version', 'channel', 'status']) {
      const v = (filters.querySelector(`#r-${key}`) as HTMLSelectElement).value;
      if (v !== 'all') params.set(key, v);
    }
    return params;
  };
  const rows: (string | Node)[][] = [];
  async function page(cursor?: string): Promise<void> {
    const params = query();
    params.set('limit', String(RECEIPTS_PAGE));
    if (cursor) params.set('cursor', cursor);
    else rows.length = 0;
    const { body } = await call<DeliveryReport>('GET', `/v1/alerts/${id}/deliveries?${params}`);
    for (const d of body.deliveries)
      rows.push([
        String(d.version),
        CHANNEL_NAMES[d.channel],
        d.recipient,
        [d.name, d.subscriberId].filter(Boolean).join(' · '),
        h('span', null, statusText(d), ...receiptTags(d)),
        String(d.attempts),
        d.reason ?? '',
        formatTime(d.updatedAt),
      ]);
    show(
      list,
      h(
        'p',
        { role: 'status' },
        `${rows.length} receipt${rows.length === 1 ? '' : 's'} shown (totals: ${
          Object.entries(body.totals)
            .map(([s, n]) => `${n} ${s}`)
            .join(', ') || 'none'
        }).`,
      ),
      table(
        'Receipts',
        ['Version', 'Channel', 'Recipient', 'Subscriber', 'Status', 'Attempts', 'Reason', 'Updated'],
        rows,
      ),
    );
    show(
      more,
      body.cursor
        ? h('button', { type: 'button', class: 'secondary', onclick: () => page(body.cursor) }, 'Next page')
        : null,
    );
  }
  async function exportCsv(): Promise<void> {
    const params = query();
    params.set('format', 'csv');
    const res = await rawCall('GET', `/v1/alerts/${id}/deliveries?${params}`);
    const url = URL.createObjectURL(await res.blob());
    const link = h('a', { href: url, download: `deliveries-${id}.csv`, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    ctx.announce('CSV downloaded.');
  }
  filters.addEventListener('submit', (e) => {
    e.preventDefault();
    page().catch((error: unknown) => show(list, h('p', { class: 'error' }, (error as Error).message)));
  });
  show(section, h('h2', { id: 'receipts-title' }, 'Receipts'), filters, list, more);
  page().catch((error: unknown) => show(list, h('p', { class: 'error' }, (error as Error).message)));
}
