import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initWasm } from '@resvg/resvg-wasm';
import jpeg from 'jpeg-js';
import { describe, expect, it, vi } from 'vitest';
import {
  type AlertCardInput,
  alertCardAlt,
  CARD_HEIGHT,
  CARD_WIDTH,
  cardElement,
  cardText,
  headlineFontSize,
  renderAlertCard,
  SEVERITY_STYLE,
} from '../../functions/adapters/card/alert-card';
import type { Severity } from '../../schemas/alert';

// Counts initialisations of the real wasm, to show the renderer keeps it between cards.
vi.mock('@resvg/resvg-wasm', async (importOriginal) => {
  const original = await importOriginal<typeof import('@resvg/resvg-wasm')>();
  return { ...original, initWasm: vi.fn(original.initWasm) };
});

const base: AlertCardInput = {
  headline: 'Flash flooding on the Riverside district: move to higher ground now',
  event: 'Flood Warning',
  agencyName: 'County Office of Emergency Management',
  severity: 'Severe',
  msgType: 'Alert',
  language: 'en',
  areaDesc: 'Riverside, Old Town and the east bank',
  sent: '2026-11-21T07:02:40Z',
};

type Rgb = [number, number, number];

function hex(color: string): Rgb {
  const n = Number.parseInt(color.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** WCAG 2 relative luminance and contrast ratio. */
function contrast(a: string, b: string): number {
  const luminance = (color: string) => {
    const [r, g, bl] = hex(color).map((c) => {
      const s = c / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    }) as Rgb;
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

function decode(bytes: Uint8Array) {
  return jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
}

function pixel(image: { width: number; data: Uint8Array }, x: number, y: number): Rgb {
  const i = (y * image.width + x) * 4;
  return [image.data[i]!, image.data[i + 1]!, image.data[i + 2]!];
}

/** JPEG is lossy: a flat area comes back within a few levels of its colour. */
function near(actual: Rgb, expected: Rgb, tolerance = 10): boolean {
  return actual.every((c, i) => Math.abs(c - expected[i]!) <= tolerance);
}

function expectJpeg(bytes: Uint8Array): void {
  expect([bytes[0], bytes[1]]).toEqual([0xff, 0xd8]);
  expect([bytes.at(-2), bytes.at(-1)]).toEqual([0xff, 0xd9]);
  const image = decode(bytes);
  expect([image.width, image.height]).toEqual([1080, 1350]);
}

describe('renderAlertCard', () => {
  it('draws a 1080×1350 JPEG with alt text, and keeps the initialised wasm for the next card', async () => {
    // Act
    const first = await renderAlertCard(base);
    const started = performance.now();
    const second = await renderAlertCard({ ...base, msgType: 'Update' });
    const elapsed = performance.now() - started;

    // Assess
    expectJpeg(first.bytes);
    expectJpeg(second.bytes);
    expect([first.width, first.height]).toEqual([CARD_WIDTH, CARD_HEIGHT]);
    expect(first.alt).toBe(alertCardAlt(base));
    expect(vi.mocked(initWasm)).toHaveBeenCalledTimes(1);
    console.info(`second card rendered in ${elapsed.toFixed(0)} ms (${second.bytes.length} bytes)`);

    const dir = await mkdtemp(join(tmpdir(), 'herald-card-'));
    await writeFile(join(dir, 'alert-card.jpg'), second.bytes);
    console.info(`card preview: ${join(dir, 'alert-card.jpg')}`);
  });

  it.each(Object.keys(SEVERITY_STYLE) as Severity[])(
    'paints the %s band in its colour, with its text in the band',
    async (severity) => {
      // Act
      const card = await renderAlertCard({ ...base, severity });

      // Assess: the band's corners (no text reaches them) are the severity's colour.
      const image = decode(card.bytes);
      const style = SEVERITY_STYLE[severity];
      for (const [x, y] of [
        [12, 12],
        [1068, 12],
        [1068, 288],
        [12, 288],
      ] as const) {
        expect(pixel(image, x, y), `(${x}, ${y})`).toSatisfy((p: Rgb) => near(p, hex(style.background)));
      }
      // The severity label, drawn from x = 72 near the top of the band, shows in the text colour.
      let textPixels = 0;
      for (let y = 60; y < 140; y++) {
        for (let x = 72; x < 300; x++) if (near(pixel(image, x, y), hex(style.text), 24)) textPixels++;
      }
      expect(textPixels).toBeGreaterThan(200);
      // Below the band, an Alert has no banner: the body is white.
      expect(pixel(image, 12, 360)).toSatisfy((p: Rgb) => near(p, [255, 255, 255]));
    },
  );

  it.each([
    ['Update', 'UPDATE'],
    ['Cancel', 'CANCELLED'],
  ] as const)('marks a version of type %s with a dark banner under the band', async (msgType, word) => {
    // Act
    const card = await renderAlertCard({ ...base, msgType });

    // Assess
    const image = decode(card.bytes);
    expect(pixel(image, 12, 360)).toSatisfy((p: Rgb) => near(p, [0x11, 0x11, 0x11]));
    const banner = cardElement({ ...base, msgType }, 'Test').props.children as {
      props: { children?: unknown };
    }[];
    expect(banner[1]?.props.children).toBe(word);
  });

  it('takes the banner word from the alert language', () => {
    const children = cardElement({ ...base, msgType: 'Cancel', language: 'es-MX' }, 'Test').props
      .children as {
      props: { children?: unknown };
    }[];
    expect(children[1]?.props.children).toBe('CANCELADA');
  });

  it('renders a 500-character headline, and one of emoji and markup, as text', async () => {
    // Prepare
    const long = 'Evacuate the valley now '.repeat(21).slice(0, 500);
    const hostile = '🚨🔥 <script>alert("x")</script> <b>bold</b> 👨‍👩‍👧 🇺🇸 1️⃣ \u202Eevil\u0007 🌊🌊🌊';

    // Act
    const cards = await Promise.all([
      renderAlertCard({ ...base, headline: long }),
      renderAlertCard({ ...base, headline: hostile, event: '⚠️ <img src=x>', agencyName: '<i>Agency</i>' }),
    ]);

    // Assess
    for (const card of cards) expectJpeg(card.bytes);
    expect(cards[1]?.alt).toContain('<script>alert("x")</script>');
    const headline = cardText(hostile);
    expect(headline).toBe('<script>alert("x")</script> <b>bold</b> evil');
    expect(JSON.stringify(cardElement({ ...base, headline: hostile }, 'Test'))).toContain(
      JSON.stringify('<script>alert("x")</script> <b>bold</b> evil'),
    );
  });
});

describe('severity colours', () => {
  it.each(Object.entries(SEVERITY_STYLE))(
    '%s text has a contrast of at least 4.5:1 on its band',
    (_, style) => {
      expect(contrast(style.text, style.background)).toBeGreaterThanOrEqual(4.5);
    },
  );

  it('gives each severity its own colour', () => {
    const colours = new Set(Object.values(SEVERITY_STYLE).map((s) => s.background));
    expect(colours.size).toBe(5);
  });
});

describe('headlineFontSize', () => {
  it('draws a short headline large and a long one smaller, never below the legible minimum', () => {
    const room = 600;
    const short = headlineFontSize('Missing child', room);
    const medium = headlineFontSize(
      'Flash flooding on the Riverside district: move to higher ground now',
      room,
    );
    const long = headlineFontSize('Evacuate '.repeat(60), room);
    expect(short).toBe(112);
    expect(medium).toBeLessThan(short);
    expect(long).toBeLessThanOrEqual(medium);
    expect(long).toBe(58);
  });

  it('leaves no more lines than fit the room', () => {
    // 5 lines of 112 px need 661 px; with 300 px only 2 fit, so a 4-line headline has to shrink.
    const text = 'Boil water before drinking in the northern districts until further notice';
    expect(headlineFontSize(text, 300)).toBeLessThan(headlineFontSize(text, 700));
  });
});

describe('alertCardAlt', () => {
  it('says the severity, event, agency and headline in one sentence', () => {
    expect(alertCardAlt(base)).toBe(
      'Alert card for a Severe Flood Warning from County Office of Emergency Management: ' +
        'Flash flooding on the Riverside district: move to higher ground now. Area: Riverside, Old Town and the east bank.',
    );
  });

  it.each([
    ['Update', 'Extreme', 'Update card for an Extreme Flood Warning from'],
    ['Cancel', 'Minor', 'Cancellation card for a Minor Flood Warning from'],
    ['Alert', 'Unknown', 'Alert card for a Flood Warning (severity unknown) from'],
  ] as const)('names a %s of %s severity', (msgType, severity, start) => {
    const alt = alertCardAlt({ ...base, msgType, severity, areaDesc: undefined });
    expect(alt.slice(0, start.length + 1)).toBe(`${start} `);
  });

  it('is plain, single-line text of bounded length', () => {
    const alt = alertCardAlt({ ...base, headline: `Line one\nline two\u0000\u202E ${'x'.repeat(3000)}` });
    expect(alt).not.toMatch(/[\p{Cc}\u202E]/u);
    expect(Array.from(alt).length).toBeLessThanOrEqual(1000);
    expect(alt).toContain('Line one line two');
  });
});
