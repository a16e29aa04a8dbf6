/**
 * Each channel function's bundle, built as the CDK builds it (lib/bundling.ts), carries its own channel and no other:
 * no other channel's folder (renderer, client, provider), and none of the heavy parts only other channels use — X's
 * counter (twitter-text), the alert card renderer, the S3 client, and the KMS and Secrets Manager clients where the
 * channel reads no subscriber's address or no secret; nor the API's schemas.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHANNEL, CHANNELS, type Channel } from '../../functions/channels/list';
import { esbuildOptions } from '../../lib/bundling';

let dir: string;
const inputs = new Map<Channel, string[]>();
/** Inputs reached from the entry by static imports only: what loads when the function starts. */
const atStart = new Map<Channel, string[]>();

function staticInputs(metafile: Metafile, entry: string): string[] {
  const seen = new Set([entry]);
  const queue = [entry];
  while (queue.length) {
    const file = queue.shift() as string;
    for (const imported of metafile.inputs[file]?.imports ?? [])
      if (imported.kind !== 'dynamic-import' && !imported.external && !seen.has(imported.path)) {
        seen.add(imported.path);
        queue.push(imported.path);
      }
  }
  return [...seen];
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'herald-channel-bundles-'));
  await Promise.all(
    CHANNELS.map(async (channel) => {
      const entry = `functions/channels/${channel}/entry.ts`;
      const { metafile } = await build({
        ...esbuildOptions(entry, join(dir, channel, 'index.mjs')),
        metafile: true,
      });
      inputs.set(channel, Object.keys(metafile.inputs));
      atStart.set(channel, staticInputs(metafile, entry));
    }),
  );
}, 120_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const has = (files: string[] | undefined, part: string) => (files ?? []).some((f) => f.includes(part));

describe.each(CHANNELS)('the %s function bundle', (channel) => {
  it("holds its own channel's code and no other's (every channel's definition, data, is in the list)", () => {
    // Act: every file under functions/channels/<name>/, but the definitions (data the list is made of)
    const code = (inputs.get(channel) ?? []).filter(
      (f) => /^functions\/channels\/[^/]+\//.test(f) && !/\/channel\.ts$/.test(f),
    );
    const folders = new Set(code.map((f) => f.split('/')[2]));

    // Assess
    expect([...folders]).toEqual([channel]);
    expect(code).toContain(`functions/channels/${channel}/render.ts`);
    expect(code).toContain(`functions/channels/${channel}/entry.ts`);
  });

  it('carries no other channel’s heavy parts', () => {
    // Act
    const files = inputs.get(channel);
    const started = atStart.get(channel);

    // Assess: X's counter where X and Mastodon count with it; the card renderer only where a post needs an image
    expect(has(files, 'node_modules/twitter-text/'), 'twitter-text').toBe(
      channel === 'x' || channel === 'mastodon',
    );
    expect(has(files, 'functions/adapters/card/'), 'the alert card').toBe(
      CHANNEL[channel].needsImage === true,
    );
    expect(has(files, '@resvg/'), 'resvg').toBe(false);
    // S3 only to store alert cards, and loaded only when the first card is stored
    expect(has(files, '@aws-sdk/client-s3/'), 'S3 in the bundle').toBe(CHANNEL[channel].needsImage === true);
    expect(has(started, '@aws-sdk/client-s3/'), 'S3 at start').toBe(false);
    expect(has(files, '@aws-sdk/client-kms/'), 'KMS').toBe(CHANNEL[channel].audience === 'subscriber');
    expect(has(files, '@aws-sdk/client-secrets-manager/'), 'Secrets Manager').toBe(
      CHANNEL[channel].credentials === 'secret',
    );
    expect(has(files, '@aws-sdk/client-scheduler/'), 'EventBridge Scheduler').toBe(false);
    // The job is parsed with zod, but the API's schemas (every one built when schemas/alert.ts loads) are not needed
    expect(has(files, 'schemas/alert.ts'), 'the API schemas').toBe(false);
  });
});
