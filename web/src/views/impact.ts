/**
 * An alert's impact (GET /v1/alerts/{id}/impact): per channel who was to be reached, what was sent, delivered,
 * failed or deferred and when, clicks and each network's engagement; page views, tips and opt-outs in the 24 hours
 * after; and the delivery timeline as a chart, with the preview's estimate of the last recipient when the API gives
 * one. Loaded only when an alert is opened (alert.ts imports it on demand), with the chart code it needs.
 */
import { call } from '../api';
import { barChart } from '../charts/bar-chart';
import { chartFigure, wideTable, widthFor } from '../charts/figure';
import { formatCount } from '../charts/svg';
import { timelineChart } from '../charts/timeline-chart';
import { formatTime, h, show } from '../dom';
import { type Engagement, type Impact, readImpact } from '../impact-data';
import { CHANNEL_NAMES, type Channel } from '../types';

const channelName = (c: string): string => CHANNEL_NAMES[c as Channel] ?? c;

function engagementText(e: Engagement | undefined): string {
  if (!e) return 'none counted';
  const parts = (
    [
      ['impressions', e.impressions],
      ['reposts', e.reposts],
      ['replies', e.replies],
      ['likes', e.likes],
    ] as const
  ).flatMap(([name, n]) => (n === undefined ? [] : [`${formatCount(n)} ${name}`]));
  return parts.join(', ');
}

export function impactContent(impact: Impact, width: number): Node[] {
  const channels = impact.channels;
  const perChannelViews = channels.some((c) => c.pageViews !== undefined);
  const nodes: Node[] = [
    h(
      'dl',
      { class: 'facts', id: 'impact-facts' },
      h('dt', null, 'Page views'),
      h(
        'dd',
        null,
        formatCount(impact.pageViews),
        impact.directPageViews === undefined
          ? null
          : ` (${formatCount(impact.directPageViews)} not through a channel’s link)`,
      ),
      h('dt', null, 'Tips from residents'),
      h('dd', null, formatCount(impact.tips)),
      h('dt', null, 'Opt-outs within 24 hours'),
      h('dd', null, formatCount(impact.optOutsWithin24h)),
    ),
    wideTable(
      'Per channel',
      [
        'Channel',
        'Recipients',
        'Sent',
        'Delivered',
        'Failed',
        'Deferred',
        'First sent',
        'Last sent',
        'Clicks',
        ...(perChannelViews ? ['Page views'] : []),
        'Engagement',
      ],
      channels.map((c) => [
        channelName(c.channel),
        formatCount(c.recipients),
        formatCount(c.sent),
        formatCount(c.delivered),
        formatCount(c.failed),
        formatCount(c.deferred),
        c.firstSentAt ? formatTime(c.firstSentAt) : 'not yet',
        c.lastSentAt ? formatTime(c.lastSentAt) : 'not yet',
        formatCount(c.clicks),
        ...(perChannelViews ? [formatCount(c.pageViews ?? 0)] : []),
        engagementText(c.engagement),
      ]),
    ),
  ];
  const estimate = impact.estimate;
  nodes.push(
    impact.timeline.length
      ? chartFigure(
          (w) =>
            timelineChart({
              title: 'Messages sent so far, per channel',
              points: impact.timeline,
              channelName,
              width: w,
              clock: formatTime,
              ...(estimate
                ? {
                    estimate: {
                      seconds: estimate.seconds,
                      from: estimate.from,
                      label: `last ${channelName(estimate.channel)} recipient`,
                    },
                  }
                : {}),
            }),
          width,
        )
      : h('p', { class: 'hint' }, 'Nothing sent yet: the delivery timeline starts with the first send.'),
  );
  if (channels.length) {
    const categories = channels.map((c) => channelName(c.channel));
    nodes.push(
      chartFigure(
        (w) =>
          barChart({
            title: 'Reach per channel',
            categoryHeading: 'Channel',
            categories,
            series: [
              { name: 'Sent', values: channels.map((c) => c.sent) },
              { name: 'Delivered', values: channels.map((c) => c.delivered) },
            ],
            width: w,
            idPrefix: 'impact-reach',
          }),
        width,
      ),
      chartFigure(
        (w) =>
          barChart({
            title: perChannelViews ? 'Clicks and page views per channel' : 'Clicks per channel',
            categoryHeading: 'Channel',
            categories,
            series: [
              { name: 'Clicks', values: channels.map((c) => c.clicks) },
              ...(perChannelViews
                ? [{ name: 'Page views', values: channels.map((c) => c.pageViews ?? 0) }]
                : []),
            ],
            width: w,
            idPrefix: 'impact-clicks',
          }),
        width,
      ),
    );
  }
  return nodes;
}

/** Reads the alert's impact and draws it into `section` (its heading included). */
export async function renderImpact(section: HTMLElement, id: string): Promise<void> {
  const heading = h('h2', { id: 'impact-title' }, 'Impact');
  const hint = h(
    'p',
    { class: 'hint' },
    'Counted from the receipts; clicks and page views on Herald’s own links, with no cookie and no address kept.',
  );
  if (!section.querySelector('#impact-title')) show(section, heading, hint, h('p', null, 'Loading…'));
  try {
    const { body } = await call<unknown>('GET', `/v1/alerts/${id}/impact`);
    show(section, heading, hint, ...impactContent(readImpact(body), widthFor(section)));
  } catch (error) {
    show(
      section,
      heading,
      h('p', { class: 'error' }, `The impact could not be read: ${(error as Error).message}`),
    );
  }
}
