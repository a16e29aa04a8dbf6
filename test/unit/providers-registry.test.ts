/**
 * Choosing each channel's provider at start-up: real where all its credentials are present, sandbox otherwise,
 * and a reason for the banner either way.
 */
import { describe, expect, it } from 'vitest';
import { createWebhookProvider } from '../../functions/channels/webhook/client';
import type { ChannelProvider, SecretSource } from '../../functions/ports';
import { REQUIRED_SECRET_KEYS } from '../../functions/shared/channel-providers';
import { describeProviders, selectProviders } from '../../functions/shared/providers';
import type { Channel } from '../../schemas/alert';

const stub = (channel: Channel, mode: 'real' | 'sandbox'): ChannelProvider => ({
  channel,
  mode,
  send: async () => ({ providerMessageId: `${mode}-${channel}` }),
});

function source(values: Record<string, Record<string, string>>): SecretSource & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    get: async (name) => {
      asked.push(name);
      return values[name];
    },
  };
}

const X_KEYS = ['appKey', 'appSecret', 'accessToken', 'accessSecret'];

describe('Function: selectProviders', () => {
  it('gives a channel with all its credentials its real provider, and the others their sandbox, with reasons', async () => {
    // Prepare
    const secrets = source({
      x: { appKey: 'k', appSecret: 's', accessToken: 't', accessSecret: 'ts' },
      facebook: { pageId: '123', pageAccessToken: '' },
      sms: {},
    });
    const made: [Channel, SecretSource][] = [];
    const factory = (channel: Channel) => (given: SecretSource) => {
      made.push([channel, given]);
      return stub(channel, 'real');
    };

    // Act
    const choices = await selectProviders({
      channels: ['x', 'facebook', 'instagram', 'sms', 'email'],
      secrets,
      sandbox: (channel) => stub(channel, 'sandbox'),
      create: {
        x: factory('x'),
        facebook: factory('facebook'),
        sms: factory('sms'),
        email: factory('email'),
      },
      required: { x: X_KEYS, facebook: ['pageId', 'pageAccessToken'] },
    });

    // Assess
    expect(choices.x.mode).toBe('real');
    expect(choices.x.provider.mode).toBe('real');
    expect(choices.x.reason).toBe('credentials for x found');
    expect(choices.facebook).toMatchObject({
      mode: 'sandbox',
      reason: 'incomplete credentials for facebook: missing pageAccessToken',
    });
    expect(choices.facebook.provider.mode).toBe('sandbox');
    expect(choices.instagram).toMatchObject({ mode: 'sandbox', reason: 'no real provider for instagram' });
    expect(choices.sms).toMatchObject({ mode: 'sandbox', reason: 'no credentials for sms' });
    expect(choices.email).toMatchObject({ mode: 'sandbox', reason: 'no credentials for email' });
    // The factory gets the source, not the values, so the provider can re-read after a 401.
    expect(made).toEqual([['x', secrets]]);
    expect(secrets.asked).not.toContain('instagram');
    expect(Object.keys(choices).sort()).toEqual(['email', 'facebook', 'instagram', 'sms', 'x']);
  });

  it('with no required keys named, any non-empty key counts as configured', async () => {
    const choices = await selectProviders({
      channels: ['sms', 'email'],
      secrets: source({ sms: { originationNumber: '+15550100' }, email: { fromAddress: '  ' } }),
      sandbox: (channel) => stub(channel, 'sandbox'),
      create: { sms: () => stub('sms', 'real'), email: () => stub('email', 'real') },
    });
    expect(choices.sms.mode).toBe('real');
    expect(choices.email).toMatchObject({ mode: 'sandbox', reason: 'no credentials for email' });
  });

  it('chooses the real webhook provider without any channel secret: each webhook signs with its own', async () => {
    // Prepare
    const create = {
      webhook: (s: SecretSource) => createWebhookProvider({ secrets: s, allowLoopback: true }),
    };
    const sandbox = (channel: Channel) => stub(channel, 'sandbox');
    const required = { webhook: REQUIRED_SECRET_KEYS.webhook };
    const secrets = source({});

    // Act
    const without = await selectProviders({ channels: ['webhook'], secrets, sandbox, create, required });
    const withShared = await selectProviders({
      channels: ['webhook'],
      secrets: source({ webhook: { signingSecret: 'whsec_AAAA' } }),
      sandbox,
      create,
      required,
    });

    // Assess
    expect(REQUIRED_SECRET_KEYS.webhook).toEqual([]);
    expect(without.webhook).toMatchObject({ mode: 'real', reason: 'webhook needs no channel credentials' });
    expect(without.webhook.provider.mode).toBe('real');
    expect(describeProviders(without)).toEqual(['webhook  real']);
    // Nothing to read at start-up: a subscriber's own secret comes with its message
    expect(secrets.asked).toEqual([]);
    expect(withShared.webhook.mode).toBe('real');
  });

  it('fails a webhook that has no secret of its own and no shared one, saying so, instead of sending it unsigned', async () => {
    // Prepare: a webhook stored without a secret (POST /v1/webhooks always makes one) and no shared secret
    const provider = createWebhookProvider({ secrets: source({}), allowLoopback: true });

    // Act
    const sending = provider.send(
      {
        channel: 'webhook',
        alertId: '01JAAAAAAAAAAAAAAAAAAAAAAA',
        version: 1,
        recipient: 'http://127.0.0.1:9/hook',
        text: 'Road closed',
        content: { channel: 'webhook', payload: { headline: 'Road closed' } },
        idempotencyKey: 'a:1:webhook:sub',
        test: false,
      },
      AbortSignal.timeout(1000),
    );

    // Assess
    await expect(sending).rejects.toMatchObject({
      kind: 'permanent',
      reason: expect.stringMatching(/no signing secret of its own and no shared signingSecret/),
    });
  });

  it('fails start-up when a secret cannot be read, naming the channel and not sandboxing it quietly', async () => {
    const broken: SecretSource = {
      get: async () => {
        throw new Error('AccessDeniedException: not authorized to perform secretsmanager:GetSecretValue');
      },
    };
    await expect(
      selectProviders({
        channels: ['x'],
        secrets: broken,
        sandbox: (channel) => stub(channel, 'sandbox'),
        create: { x: () => stub('x', 'real') },
      }),
    ).rejects.toThrow(/could not read the credentials for x: AccessDenied/);
  });

  it('fails start-up when a real provider cannot be made', async () => {
    await expect(
      selectProviders({
        channels: ['sms'],
        secrets: source({ sms: { originationNumber: 'nope' } }),
        sandbox: (channel) => stub(channel, 'sandbox'),
        create: {
          sms: () => {
            throw new Error('originationNumber is not an E.164 number');
          },
        },
      }),
    ).rejects.toThrow(/could not create the sms provider: originationNumber/);
  });
});

describe('Function: describeProviders', () => {
  it('prints one aligned line per channel for the banner', async () => {
    const choices = await selectProviders({
      channels: ['x', 'instagram'],
      secrets: source({ x: { appKey: 'k' } }),
      sandbox: (channel) => stub(channel, 'sandbox'),
      create: { x: () => stub('x', 'real') },
    });
    expect(describeProviders(choices)).toEqual([
      'x          real',
      'instagram  sandbox (no real provider for instagram)',
    ]);
  });
});
