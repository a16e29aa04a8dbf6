import { describe, expect, it } from 'vitest';
import { renderX, weightedLength } from '../../functions/channels/x/render';
import { newAlert } from '../../functions/core/alerts';
import type { StoredVersion } from '../../functions/core/model';
import { AlertDraft } from '../../schemas/alert';
import draftFixture from '../fixtures/alert-draft.json';
import { testConfig } from '../helpers/fakes';

const version = (changes: Record<string, unknown> = {}): StoredVersion =>
  newAlert(AlertDraft.parse({ ...structuredClone(draftFixture), ...changes }), {
    alertId: '01J2Z3Y4X5W6V7T8S9R0QPNMKH',
    actor: { id: 'officer-1', roles: ['officer'] },
    now: new Date('2030-01-01T00:00:00Z'),
    sender: 'alerts@herald.example',
    approvalSeverities: new Set(),
  });

describe('weightedLength', () => {
  it.each([
    ['plain ASCII', 'abc', 3],
    ['a URL of any length', `https://example.com/${'a'.repeat(200)}`, 23],
    ['an emoji', '🚨', 2],
    ['an emoji ZWJ sequence', '👩‍🚒', 2],
    ['CJK', '日本', 4],
    ['accented Latin', 'é', 1],
  ])('counts %s as X does', (_what, text, expected) => {
    // Assess
    expect(weightedLength(text)).toBe(expected);
  });
});

describe('renderX', () => {
  it('posts a short alert whole', () => {
    // Act
    const x = renderX(version(), testConfig());

    // Assess
    expect(x.text).toBe(
      [draftFixture.headline, draftFixture.description, draftFixture.instruction, draftFixture.web].join(
        '\n\n',
      ),
    );
    expect(x).toMatchObject({ fits: true, shortened: [], warnings: [] });
    expect(x.weightedLength).toBe(weightedLength(x.text));
  });

  it('counts a long link as 23 and keeps it whole', () => {
    // Prepare: twitter-text only sees a link under a real top-level domain (not .example or localhost).
    const web = `https://www.example.com/alerts/missing-child?${'utm_source=cad&'.repeat(60)}ref=1`;

    // Act
    const x = renderX(version({ web }), testConfig());

    // Assess: the long link alone is over 900 characters, yet the post fits and is whole.
    expect(web.length).toBeGreaterThan(900);
    expect(x.text.endsWith(`\n\n${web}`)).toBe(true);
    expect(x.fits).toBe(true);
    expect(x.shortened).toEqual([]);
  });

  it('shortens the description to exactly 280 weighted, keeping the instruction and the link', () => {
    // Act
    const x = renderX(version({ description: 'The boy wore a red coat. '.repeat(20) }), testConfig());

    // Assess
    expect(x.weightedLength).toBeLessThanOrEqual(280);
    expect(x.weightedLength).toBeGreaterThan(270);
    expect(x.text).toContain(`…\n\n${draftFixture.instruction}\n\n${draftFixture.web}`);
    expect(x.warnings.join(' ')).toMatch(/shortened to fit 280 weighted characters/);
  });

  it('cuts emoji sequences whole: a firefighter is never left as a woman and a fire engine', () => {
    // Prepare
    const description = '👩‍🚒'.repeat(200);

    // Act
    const x = renderX(version({ description, instruction: undefined }), testConfig());

    // Assess
    const body = x.text.split('\n\n')[1]!;
    expect(body).toMatch(/^(👩‍🚒)+…$/u);
    expect(x.fits).toBe(true);
  });

  it('weighs CJK as 2 and shortens a CJK headline rather than the link', () => {
    // Prepare: 160 CJK characters weigh 320 alone.
    const headline = '地震'.repeat(80);

    // Act
    const x = renderX(version({ headline }), testConfig());

    // Assess
    expect(x.weightedLength).toBeLessThanOrEqual(280);
    expect(x.text.endsWith(`…\n\n${draftFixture.web}`)).toBe(true);
    expect(x.shortened).toContain('headline');
  });

  it('marks an update, and a cancel with its reason first, in the alert language', () => {
    // Prepare
    const v = version({ language: 'ca', headline: 'Nen trobat', translations: [] });

    // Act
    const update = renderX({ ...v, version: 2, msgType: 'Update' }, testConfig());
    const cancel = renderX({ ...v, version: 3, msgType: 'Cancel', note: 'Ha aparegut' }, testConfig());

    // Assess
    expect(update.text).toMatch(/^ACTUALITZACIÓ: Nen trobat\n\n/);
    expect(cancel.text).toMatch(/^ANUL·LADA: Nen trobat\n\nHa aparegut\n\n/);
  });

  it('carries the alert image with its alt text, or the headline as alt', () => {
    // Act
    const withAlt = renderX(
      version({ image: { url: 'https://img.example/a.jpg', alt: 'Boy in red' } }),
      testConfig(),
    );
    const without = renderX(version({ image: 'https://img.example/a.jpg' }), testConfig());

    // Assess
    expect(withAlt.image).toEqual({ url: 'https://img.example/a.jpg', alt: 'Boy in red' });
    expect(without.image).toEqual({ url: 'https://img.example/a.jpg', alt: draftFixture.headline });
  });
});
