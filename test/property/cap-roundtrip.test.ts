/**
 * Any alert Herald accepts, written as CAP and read back by the CAP importer, is the same alert: the writer and the
 * reader agree on every field CAP carries (channels are not CAP's: the importer is told them), its times included
 * (the same instants to the second: CAP writes them in UTC, without fractions).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newAlert } from '../../functions/core/alerts';
import { toCapXml } from '../../functions/core/cap';
import { importCap } from '../../functions/core/cap-import';
import { parseCap } from '../../functions/core/cap-parse';
import { capRuleProblems } from '../../functions/core/cap-rules';
import { AlertDraft } from '../../schemas/alert';

const ZONES: Record<string, string> = { 'ciutat-vella': 'Ciutat Vella', gracia: 'Gràcia' };
const zoneName = (id: string) => ZONES[id];

/** Printable text, with the characters XML cares about (<, &, quotes, CR, tabs) and some beyond ASCII. */
const text = (max: number) =>
  fc
    .string({
      unit: fc.constantFrom(
        'a',
        'Z',
        ' ',
        '<',
        '>',
        '&',
        '"',
        "'",
        '\r',
        '\n',
        '\t',
        'é',
        '—',
        '😀',
        ']',
        ';',
      ),
      minLength: 1,
      maxLength: max,
    })
    .filter((s) => s.trim().length > 0);
const lat = fc.double({ min: -90, max: 90, noNaN: true });
const lon = fc.double({ min: -180, max: 180, noNaN: true });
const point = fc.tuple(lat, lon);
const polygon = fc.array(point, { minLength: 3, maxLength: 6 }).map((pts) => [...pts, pts[0]!]);
const area = fc.oneof(
  fc.record({ zone: fc.constantFrom('ciutat-vella', 'gracia') }),
  fc.record({ areaDesc: text(40), polygon }),
  fc.record({
    areaDesc: text(40),
    circle: fc.record({ center: point, radiusKm: fc.double({ min: 0.001, max: 500, noNaN: true }) }),
  }),
  fc.record({ zone: fc.constantFrom('ciutat-vella', 'gracia'), areaDesc: text(40), polygon }),
);
const translation = (language: string) =>
  fc.record(
    {
      language: fc.constant(language),
      event: text(30),
      headline: text(60),
      description: text(200),
      instruction: text(60),
    },
    { requiredKeys: ['language', 'headline', 'description'] },
  );
const seconds = fc.integer({
  min: Date.parse('2031-01-01T00:00:00Z') / 1000,
  max: Date.parse('2040-01-01T00:00:00Z') / 1000,
});

/** The offsets an officer or a CAD system may write a time in; CAP out writes them all in UTC ("-00:00"). */
const OFFSETS: Record<string, number> = { Z: 0, '-00:00': 0, '+01:00': 60, '-05:00': -300, '+05:30': 330 };
const timeIn = (epochSeconds: number, offset: string, fraction: string) =>
  `${new Date((epochSeconds + OFFSETS[offset]! * 60) * 1000).toISOString().slice(0, 19)}${fraction}${offset}`;
const timeArb = (epochSeconds: number) =>
  fc
    .tuple(fc.constantFrom(...Object.keys(OFFSETS)), fc.constantFrom('', '.250', '.999'))
    .map(([offset, fraction]) => timeIn(epochSeconds, offset, fraction));

/** effective ≤ onset < expires, each present or not, in any offset, sometimes with a fraction CAP will not carry. */
const timesArb = fc
  .uniqueArray(seconds, { minLength: 3, maxLength: 3 })
  .map((s) => [...s].sort((a, b) => a - b) as [number, number, number])
  .chain(([effective, onset, expires]) =>
    fc.record(
      { effective: timeArb(effective), onset: timeArb(onset), expires: timeArb(expires) },
      { requiredKeys: [] },
    ),
  );

const draftArbitrary = fc
  .record(
    {
      status: fc.constantFrom('Actual', 'Exercise', 'Test'),
      category: fc.constantFrom('Geo', 'Met', 'Safety', 'Rescue', 'Fire', 'Health', 'CBRNE', 'Other'),
      event: text(40),
      urgency: fc.constantFrom('Immediate', 'Expected', 'Future', 'Past', 'Unknown'),
      severity: fc.constantFrom('Extreme', 'Severe', 'Moderate', 'Minor', 'Unknown'),
      certainty: fc.constantFrom('Observed', 'Likely', 'Possible', 'Unlikely', 'Unknown'),
      headline: text(160),
      description: text(400),
      instruction: text(100),
      language: fc.constantFrom('en', 'en-GB'),
      translations: fc
        .tuple(translation('ca'), translation('es-ES'))
        .chain(([ca, es]) => fc.subarray([ca, es])),
      areas: fc.array(area, { maxLength: 4 }),
      channels: fc.constant(['x', 'sms']),
      web: fc.webUrl({ validSchemes: ['https'] }),
      contact: text(60),
      image: fc.record({ url: fc.constant('https://police.example.org/img/a.png'), alt: text(60) }),
    },
    {
      requiredKeys: [
        'status',
        'category',
        'event',
        'urgency',
        'severity',
        'certainty',
        'headline',
        'description',
        'language',
        'channels',
      ],
    },
  )
  .chain((d) => timesArb.map((times) => ({ ...d, ...times })))
  .map((d) => AlertDraft.safeParse(d))
  .filter((r) => r.success)
  .map((r) => r.data as AlertDraft);

/** A time as CAP carries it: the instant, to the whole second, whatever offset it was written in. */
const instant = (iso: string | undefined) =>
  iso === undefined ? undefined : Math.floor(Date.parse(iso) / 1000);

/**
 * Drops what a draft may say in two equivalent ways: empty lists, a translation's event equal to the alert's own,
 * a time in another offset or with a fraction of a second.
 */
function canonical(d: AlertDraft) {
  const translations = (d.translations ?? []).map((t) =>
    t.event === d.event ? { ...t, event: undefined } : t,
  );
  return JSON.parse(
    JSON.stringify({
      ...d,
      translations: translations.length ? translations : undefined,
      areas: d.areas?.length ? d.areas : undefined,
      image: typeof d.image === 'string' ? { url: d.image } : d.image,
      effective: instant(d.effective),
      onset: instant(d.onset),
      expires: instant(d.expires),
    }),
  );
}

describe('CAP round trip', () => {
  it('any valid alert → CAP → parsed back → the same alert', () => {
    fc.assert(
      fc.property(draftArbitrary, (draft) => {
        const version = newAlert(draft, {
          alertId: '01M7YF2673YEYXB5H183X6NVSE',
          actor: { id: 'officer-1', roles: ['officer'] },
          now: new Date('2030-06-01T00:00:00Z'),
          sender: 'alerts@police.example.org',
          approvalSeverities: new Set(),
        });
        const message = parseCap(toCapXml(version, { agencyName: 'Police & <Rescue>', zoneName }));
        expect(capRuleProblems(message)).toEqual([]);
        const back = importCap(message, {
          now: new Date('2030-06-01T00:00:00Z'),
          channels: draft.channels,
          zoneName,
        });
        expect(back.msgType).toBe('Alert');
        expect(back.identifier).toBe(version.identifier);
        expect(canonical(back.draft)).toEqual(canonical(draft));
      }),
      { numRuns: 300 },
    );
  });
});
