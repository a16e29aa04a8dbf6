import { describe, expect, it } from 'vitest';
import { messageIdDomain, renderEmail } from '../../functions/channels/email/render';
import { newAlert } from '../../functions/core/alerts';
import type { StoredVersion } from '../../functions/core/model';
import { escapeHtml } from '../../functions/core/render';
import { AlertDraft } from '../../schemas/alert';
import draftFixture from '../fixtures/alert-draft.json';
import { testConfig } from '../helpers/fakes';

const ALERT_ID = '01J2Z3Y4X5W6V7T8S9R0QPNMKH';
const version = (changes: Record<string, unknown> = {}): StoredVersion =>
  newAlert(AlertDraft.parse({ ...structuredClone(draftFixture), ...changes }), {
    alertId: ALERT_ID,
    actor: { id: 'officer-1', roles: ['officer'] },
    now: new Date('2030-01-01T00:00:00Z'),
    sender: 'alerts@herald.example',
    approvalSeverities: new Set(),
  });

/** Markup that would run if any of it reached the HTML unescaped. */
const HOSTILE = `<script>alert(1)</script> "onerror=alert(2) x='y' & <img src=x onerror=alert(3)>`;

describe('renderEmail', () => {
  it('writes subject, plain text and HTML of the alert', () => {
    // Act
    const email = renderEmail(version(), testConfig());

    // Assess
    expect(email.subject).toBe(draftFixture.headline);
    expect(email.text).toContain(draftFixture.description);
    expect(email.text).toContain(`What to do:\n${draftFixture.instruction}`);
    expect(email.text).toContain('Area: Ciutat Vella');
    expect(email.text).toContain(`Contact: ${draftFixture.contact}`);
    expect(email.text.endsWith(`Full alert: ${draftFixture.web}`)).toBe(true);
    expect(email.html).toMatch(/^<!doctype html><html lang="en">/);
    expect(email.html).toContain(`<a href="${draftFixture.web}">Full alert</a>`);
    expect(email.attachments).toEqual([]);
  });

  it.each(['headline', 'description', 'instruction', 'contact', 'event'])(
    'keeps a hostile %s inert: every < of it is escaped',
    (field) => {
      // Prepare
      const value = field === 'event' ? HOSTILE.slice(0, 100) : HOSTILE;

      // Act
      const { html } = renderEmail(version({ [field]: value }), testConfig());

      // Assess
      expect(html).not.toContain('<script');
      expect(html).not.toContain('<img src=x');
      expect(html).not.toMatch(/"onerror=/);
      expect(html).toContain(escapeHtml(value));
    },
  );

  it('escapes image URLs and alt text in attributes, and links only http(s)', () => {
    // Prepare
    const v = version({ image: { url: 'https://img.example/a.jpg?a=1&b="2"', alt: '" onload="alert(1)' } });

    // Act
    const { html } = renderEmail(v, testConfig());

    // Assess
    expect(html).toContain('src="https://img.example/a.jpg?a=1&amp;b=%222%22"');
    expect(html).toContain('alt="&quot; onload=&quot;alert(1)"');
  });

  it('marks an update in the subject and threads it after every earlier version', () => {
    // Prepare
    const v3 = { ...version(), version: 3, msgType: 'Update' as const };

    // Act
    const email = renderEmail(v3, testConfig());

    // Assess
    expect(email.subject).toBe(`UPDATE: ${draftFixture.headline}`);
    expect(email.messageId).toBe(`<herald.${ALERT_ID}.3@herald.example>`);
    expect(email.inReplyTo).toBe(`<herald.${ALERT_ID}.2@herald.example>`);
    expect(email.references).toEqual([
      `<herald.${ALERT_ID}.1@herald.example>`,
      `<herald.${ALERT_ID}.2@herald.example>`,
    ]);
  });

  it('starts a thread with version 1: no In-Reply-To, no References; the same id every time', () => {
    // Act
    const a = renderEmail(version(), testConfig());
    const b = renderEmail(version(), testConfig());

    // Assess
    expect(a.messageId).toBe(b.messageId);
    expect(a).not.toHaveProperty('inReplyTo');
    expect(a).not.toHaveProperty('references');
  });

  it('marks a cancel in French and attaches the CAP XML it is given', () => {
    // Prepare
    const v = {
      ...version({ language: 'fr', translations: [], headline: 'Enfant retrouvé' }),
      version: 2,
      msgType: 'Cancel' as const,
      note: 'Il est rentré',
    };

    // Act
    const email = renderEmail(v, testConfig(), { cap: '<alert/>' });

    // Assess
    expect(email.subject).toBe('ANNULÉE : Enfant retrouvé');
    expect(email.html).toContain('<html lang="fr">');
    expect(email.text).toContain('Il est rentré');
    expect(email.attachments).toEqual([
      { filename: `${ALERT_ID}-v2.cap.xml`, contentType: 'application/cap+xml', content: '<alert/>' },
    ]);
  });

  it('renders a translation when asked for its language', () => {
    // Act
    const email = renderEmail(version(), testConfig(), { language: 'ca' });

    // Assess
    expect(email.subject).toBe(draftFixture.translations[0]!.headline);
    expect(email.text).toContain('Alerta completa: ');
    expect(email.html).toContain('<article lang="ca"');
  });

  it("says when the alert applies, on the agency's clock and in the reader's language", () => {
    // Prepare: 07:00–13:00 UTC is 08:00–14:00 in Madrid in December
    const v = version({ onset: '2026-12-06T07:00:00Z', expires: '2026-12-06T13:00:00-00:00' });
    const config = testConfig({ timeZone: 'Europe/Madrid' });

    // Act
    const en = renderEmail(v, config);
    const ca = renderEmail(v, config, { language: 'ca' });

    // Assess (ICU spaces its ranges with thin spaces: compared as plain spaces)
    const spaced = (s: string) => s.replace(/[^\S\n]/g, ' ');
    expect(spaced(en.text)).toContain('When: Sun, Dec 6, 08:00 – 14:00\nArea: Ciutat Vella');
    expect(spaced(en.html)).toContain('<p><strong>When:</strong> Sun, Dec 6, 08:00 – 14:00</p>');
    expect(spaced(ca.text)).toContain('Quan: dg., 6 de des., 8:00–14:00');
  });

  it('says only the end when the alert gives only an expiry, and nothing when it gives no time', () => {
    // Act
    const untilOnly = renderEmail(version({ expires: '2026-12-06T13:00:00Z' }), testConfig());
    const none = renderEmail(version(), testConfig());

    // Assess
    expect(untilOnly.text.replace(/[^\S\n]/g, ' ')).toContain('When: Until Sun, Dec 6, 13:00');
    expect(none.text).not.toContain('When:');
    expect(none.html).not.toContain('When:');
  });
});

describe('messageIdDomain', () => {
  it.each([
    ['alerts@City.Example', 'https://alerts.city.example', 'city.example'],
    ['city.example', 'https://alerts.city.example', 'city.example'],
    ['urn:oid:2.49.0.0.724', 'https://alerts.city.example', 'alerts.city.example'],
  ])('takes %s (public site %s) to %s', (sender, publicBaseUrl, expected) => {
    // Assess
    expect(messageIdDomain({ sender, publicBaseUrl })).toBe(expected);
  });
});
