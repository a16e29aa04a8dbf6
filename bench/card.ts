/**
 * Drawing the Instagram alert card (satori → resvg-wasm → jpeg-js) for an alert without an image: the first card
 * pays for loading the libraries and the wasm, later ones only for layout, rasterising and encoding.
 */
import { performance } from 'node:perf_hooks';
import { type Summary, summarize } from './stats';

export interface CardResult {
  firstMs: number;
  cardMs: Summary;
  bytes: number;
}

export async function measureCards(count: number): Promise<CardResult> {
  const { renderAlertCard } = await import('../functions/adapters/card/alert-card');
  const input = {
    headline: 'City marathon closes Main Street on Sunday between 08:00 and 14:00',
    event: 'Road closure',
    agencyName: 'Herald Police Department',
    severity: 'Minor' as const,
    msgType: 'Alert' as const,
    language: 'en',
    areaDesc: 'City centre',
    sent: '2026-11-21T07:00:00+00:00',
  };
  let start = performance.now();
  const first = await renderAlertCard(input);
  const firstMs = performance.now() - start;
  const durations: number[] = [];
  for (let i = 0; i < count; i++) {
    start = performance.now();
    await renderAlertCard({ ...input, headline: `${input.headline} (${i})` });
    durations.push(performance.now() - start);
  }
  return { firstMs, cardMs: summarize(durations), bytes: first.bytes.length };
}
