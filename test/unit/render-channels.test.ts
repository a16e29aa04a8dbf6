import { describe, expect, it } from 'vitest';
import { renderFacebook } from '../../functions/channels/facebook/render';
import { renderInstagram } from '../../functions/channels/instagram/render';
import { MissingImage } from '../../functions/channels/renderer';
import { RENDERERS, rendererOf } from '../../functions/channels/renderers';
import { renderWebhook } from '../../functions/channels/webhook/render';
import { newAlert } from '../../functions/core/alerts';
import { toCapXml } from '../../functions/core/cap';
import type { StoredVersion } from '../../functions/core/model';
import { wordsFor } from '../../functions/core/render';
import type { ChannelContent } from '../../functions/ports';
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
const CARD = { url: 'https://cdn.example/cards/a.jpg', alt: 'Alert card', width: 1080, height: 1350 };

describe('wordsFor', () => {
  it.each([
    ['en', 'UPDATE:', 'CANCELLED:'],
    ['es', 'ACTUALIZACIÓN:', 'CANCELADA:'],
    ['es-MX', 'ACTUALIZACIÓN:', 'CANCELADA:'],
    ['ca', 'ACTUALITZACIÓ:', 'ANUL·LADA:'],
    ['fr', 'MISE À JOUR :', 'ANNULÉE :'],
    ['de', 'AKTUALISIERUNG:', 'AUFGEHOBEN:'],
    ['pt-BR', 'ATUALIZAÇÃO:', 'CANCELADO:'],
    ['it', 'AGGIORNAMENTO:', 'ANNULLATO:'],
    ['nl', 'UPDATE:', 'INGETROKKEN:'],
    ['eu', 'UPDATE:', 'CANCELLED:'],
    ['zh-Hant', 'UPDATE:', 'CANCELLED:'],
  ])('marks %s updates %s and cancels %s', (language, update, cancel) => {
    // Assess
    expect(wordsFor(language)).toMatchObject({ update, cancel });
  });
});

describe('renderFacebook', () => {
  it('posts the whole alert with area, contact and the link', () => {
    // Act
    const fb = renderFacebook(version({ description: 'd'.repeat(8000) }), testConfig());

    // Assess
    expect(fb.text).toContain('d'.repeat(8000));
    expect(fb.text).toContain('Area: Ciutat Vella');
    expect(fb.text.endsWith(`\n\n${draftFixture.web}`)).toBe(true);
    expect(fb.link).toBe(draftFixture.web);
    expect(fb).toMatchObject({ fits: true, warnings: [] });
  });

  it("links to the alert's public page when the officer gave no link", () => {
    // Act
    const fb = renderFacebook(version({ web: undefined }), testConfig());

    // Assess
    expect(fb.link).toBe(`http://localhost:3000/alerts/${ALERT_ID}`);
  });

  it('marks an exercise as such before any update mark', () => {
    // Act
    const fb = renderFacebook(
      { ...version({ status: 'Exercise' }), version: 2, msgType: 'Update' },
      testConfig(),
    );

    // Assess
    expect(fb.text.startsWith(`EXERCISE: UPDATE: ${draftFixture.headline}`)).toBe(true);
  });
});

describe('renderInstagram', () => {
  it('keeps the caption within 2,200 characters and says where the full alert is', () => {
    // Act
    const ig = renderInstagram(version({ description: '🚨 Evacuate. '.repeat(600) }), testConfig(), CARD);

    // Assess
    expect(ig.characters).toBeLessThanOrEqual(2200);
    expect(ig.caption.length).toBe(ig.characters);
    expect(ig.caption.endsWith(`Full alert: ${draftFixture.web}`)).toBe(true);
    expect(ig.image).toEqual(CARD);
    expect(ig.warnings.join(' ')).toMatch(/2200/);
  });
});

describe('renderWebhook', () => {
  it.each([
    ['Alert', 'alert.created'],
    ['Update', 'alert.updated'],
    ['Cancel', 'alert.cancelled'],
  ] as const)('types a %s as %s, carrying the version without who wrote or approved it', (msgType, type) => {
    // Act
    const payload = renderWebhook({ ...version(), msgType }, testConfig());

    // Assess
    expect(payload).toMatchObject({
      type,
      timestamp: '2030-01-01T00:00:00-00:00',
      data: { id: ALERT_ID, version: 1, headline: draftFixture.headline, link: draftFixture.web, msgType },
    });
    expect(payload.data).not.toHaveProperty('author');
    expect(payload.data).not.toHaveProperty('approval');
    expect(JSON.parse(JSON.stringify(payload))).toEqual(payload);
  });

  it('carries the version as CAP: its public URL always, and the XML through its renderer', () => {
    // Arrange
    const v = version();
    const xml = toCapXml(v, { agencyName: 'Herald Police Department' });

    // Act
    const bare = renderWebhook(v, testConfig());
    const rendered = RENDERERS.webhook.content(v, testConfig(), { cap: xml });

    // Assess
    expect(bare.data.cap).toEqual({
      url: `${testConfig().publicBaseUrl}/v1/alerts/${ALERT_ID}/versions/1.cap`,
    });
    const { payload } = rendered.content as Extract<ChannelContent, { channel: 'webhook' }>;
    const cap = (payload.data as { cap: { url: string; xml: string } }).cap;
    expect(cap.xml).toBe(xml);
    expect(cap.xml).toContain('<identifier>');
  });
});

describe('the channel renderers', () => {
  it('gives Instagram the alert image over a card, and the card when there is none', () => {
    // Act
    const own = RENDERERS.instagram.content(version({ image: 'https://img.example/a.jpg' }), testConfig(), {
      image: CARD,
    });
    const card = RENDERERS.instagram.content(version(), testConfig(), { image: CARD });

    // Assess
    expect(own.content).toMatchObject({ channel: 'instagram', image: { url: 'https://img.example/a.jpg' } });
    expect(card.content).toMatchObject({ channel: 'instagram', image: CARD });
    expect(card.text).toBe((card.content as { caption: string }).caption);
  });

  it('refuses Instagram without any image', () => {
    // Act and Assess
    expect(() => RENDERERS.instagram.content(version(), testConfig(), {})).toThrow(MissingImage);
  });

  it('renders every channel into its own content shape', () => {
    // Act
    const shapes = (['x', 'facebook', 'sms', 'email', 'webhook'] as const).map(
      (channel) => rendererOf(channel).content(version(), testConfig(), { cap: '<alert/>' }).content,
    );

    // Assess
    expect(shapes.map((c) => c.channel)).toEqual(['x', 'facebook', 'sms', 'email', 'webhook']);
    expect(shapes[3]).toMatchObject({
      subject: draftFixture.headline,
      attachments: [{ content: '<alert/>' }],
    });
    expect(shapes[4]).toMatchObject({ payload: { type: 'alert.created' } });
  });
});
