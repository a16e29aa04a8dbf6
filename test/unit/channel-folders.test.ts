/**
 * A channel is one folder: every channel in the list has its definition, its renderer, its provider factory and its
 * Lambda entry there, with the exports the rest of Herald reaches for, and its renderer is the registry's. Shared
 * rendering (functions/core/render) imports no channel's code (a definition, data, it may read).
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CHANNEL, CHANNELS } from '../../functions/channels/list';
import { RENDERERS } from '../../functions/channels/renderers';
import { newAlert } from '../../functions/core/alerts';
import type { StoredVersion } from '../../functions/core/model';
import { AlertDraft } from '../../schemas/alert';
import draftFixture from '../fixtures/alert-draft.json';
import { testConfig } from '../helpers/fakes';

const root = fileURLToPath(new URL('../../', import.meta.url));
const folder = (channel: string) => join(root, 'functions/channels', channel);

const version = (changes: Record<string, unknown> = {}): StoredVersion =>
  newAlert(AlertDraft.parse({ ...structuredClone(draftFixture), ...changes }), {
    alertId: '01J2Z3Y4X5W6V7T8S9R0QPNMKH',
    actor: { id: 'officer-1', roles: ['officer'] },
    now: new Date('2030-01-01T00:00:00Z'),
    sender: 'alerts@herald.example',
    approvalSeverities: new Set(),
  });

describe.each(CHANNELS)('the %s folder', (channel) => {
  it('holds channel.ts, render.ts, provider.ts and entry.ts', () => {
    for (const file of ['channel.ts', 'render.ts', 'provider.ts', 'entry.ts'])
      expect(existsSync(join(folder(channel), file)), `${channel}/${file}`).toBe(true);
  });

  it("exports its renderer from render.ts, and it is the registry's", async () => {
    // Act
    const render = (await import(`../../functions/channels/${channel}/render.ts`)) as Record<string, unknown>;

    // Assess
    const renderer = render[`${channel}Renderer`] as { channel: string; content: unknown; preview: unknown };
    expect(renderer, `${channel}Renderer`).toBeDefined();
    expect(renderer.channel).toBe(channel);
    expect(typeof renderer.content).toBe('function');
    expect(typeof renderer.preview).toBe('function');
    expect(RENDERERS[channel]).toBe(renderer);
  });

  it('renders content of its own channel, and a preview', () => {
    // Arrange: an image of its own, for the channels that cannot post without one
    const v = version({ image: { url: 'https://img.example/a.jpg', alt: 'A map' } });

    // Act
    const rendered = RENDERERS[channel].content(v, testConfig(), { cap: '<alert/>' });
    const preview = RENDERERS[channel].preview(v, testConfig(), 'en');

    // Assess
    expect(rendered.content.channel).toBe(channel);
    expect(rendered.text.length).toBeGreaterThan(0);
    expect(preview).toHaveProperty('warnings');
  });

  it('exports its provider factory and the keys its secret must hold from provider.ts', async () => {
    // Act
    const provider = (await import(`../../functions/channels/${channel}/provider.ts`)) as Record<
      string,
      unknown
    >;

    // Assess
    expect(typeof provider[`${channel}Factory`]).toBe('function');
    expect(Array.isArray(provider.REQUIRED_KEYS)).toBe(true);
  });

  it('exports the Lambda handler from entry.ts, giving the handler its own renderer and provider', async () => {
    // Arrange
    const source = await readFile(join(folder(channel), 'entry.ts'), 'utf8');

    // Act
    const entry = (await import(`../../functions/channels/${channel}/entry.ts`)) as Record<string, unknown>;

    // Assess
    expect(typeof entry.handler).toBe('function');
    expect(source).toContain(`channelLambda(\n  '${channel}',\n  ${channel}Renderer,`);
    // The secret store only where the credentials are a secret; subscribers and their cipher only for subscribers.
    expect(source.includes('secrets: channelSecrets'), 'secrets').toBe(
      CHANNEL[channel].credentials === 'secret',
    );
    expect(source.includes('subscribers: channelSubscribers'), 'subscribers').toBe(
      CHANNEL[channel].audience === 'subscriber',
    );
  });
});

describe('shared rendering', () => {
  it("imports no channel's code: functions/core/render reads the definitions only", async () => {
    // Arrange
    const dir = join(root, 'functions/core/render');
    const files = (await readdir(dir)).filter((f) => f.endsWith('.ts'));

    // Act
    const offenders: string[] = [];
    for (const file of files) {
      const source = await readFile(join(dir, file), 'utf8');
      // The definitions are data the whole system reads (budgets, as schemas/ reads the names); code is not.
      for (const [, from] of source.matchAll(/from '([^']+)'/g))
        if (from?.includes('/channels/') && !/\/channels\/([a-z]+\/channel|list)$/.test(from))
          offenders.push(`${file} → ${from}`);
    }

    // Assess
    expect(files.length).toBeGreaterThan(0);
    expect(offenders).toEqual([]);
  });
});
