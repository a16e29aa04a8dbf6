/**
 * Which provider each channel gets: the real one where its credentials are all present (or where it needs none:
 * webhooks), the sandbox otherwise, with the reason, so the embedded start-up banner can say which channels reach
 * the public and which do not.
 *
 * The registry takes factories rather than importing the providers, so a channel function's bundle holds only
 * its own client, and so the composition roots (functions/shared/aws.ts, local/runtime.ts) decide the options.
 */
import type { Channel } from '../../schemas/alert';
import type { ChannelProvider, SecretSource } from '../ports';

export type ProviderFactory = (secrets: SecretSource) => ChannelProvider | Promise<ChannelProvider>;

export interface ProviderChoice {
  provider: ChannelProvider;
  mode: 'real' | 'sandbox';
  reason: string;
}

export interface SelectProvidersOptions<C extends Channel = Channel> {
  channels: readonly C[];
  secrets: SecretSource;
  sandbox: (channel: C) => ChannelProvider;
  create: Partial<Record<Channel, ProviderFactory>>;
  /**
   * The keys each channel's secret must hold, non-empty, for its real provider to be used. A channel named here
   * with no keys needs no channel secret at all: its real provider is always used (webhooks, whose every
   * subscriber carries its own signing secret). A channel not named here needs a secret with at least one
   * non-empty key.
   */
  required?: Partial<Record<Channel, readonly string[]>>;
}

/**
 * Reads each channel's secret (by the channel's name) once and picks its provider. A secret that cannot be read
 * (a malformed file, access denied) fails the start-up rather than quietly sandboxing a channel the agency
 * configured: an officer would believe alerts went out.
 */
export async function selectProviders<C extends Channel>(
  options: SelectProvidersOptions<C>,
): Promise<Record<C, ProviderChoice>> {
  const entries = await Promise.all(
    options.channels.map(async (channel): Promise<[C, ProviderChoice]> => {
      const sandbox = (reason: string): [C, ProviderChoice] => [
        channel,
        { provider: options.sandbox(channel), mode: 'sandbox', reason },
      ];
      const factory = options.create[channel];
      if (!factory) return sandbox(`no real provider for ${channel}`);
      const required = options.required?.[channel];
      // Nothing to check: sandboxing such a channel would only make its receipts say `sent` for what reached no one.
      if (required !== undefined && required.length === 0)
        return [
          channel,
          {
            provider: await create(channel, factory),
            mode: 'real',
            reason: `${channel} needs no channel credentials`,
          },
        ];

      let secret: Record<string, string> | undefined;
      try {
        secret = await options.secrets.get(channel);
      } catch (error) {
        throw new Error(
          `could not read the credentials for ${channel}: ${error instanceof Error ? error.message : String(error)}`,
          { cause: error },
        );
      }
      const present = (key: string) => typeof secret?.[key] === 'string' && secret[key].trim() !== '';
      if (!secret || !Object.keys(secret).some(present)) return sandbox(`no credentials for ${channel}`);
      // Key names are not secret; naming the missing ones is what lets an operator fix the file.
      const missing = (required ?? []).filter((key) => !present(key));
      if (missing.length > 0)
        return sandbox(`incomplete credentials for ${channel}: missing ${missing.join(', ')}`);

      return [
        channel,
        {
          provider: await create(channel, factory),
          mode: 'real',
          reason: `credentials for ${channel} found`,
        },
      ];
    }),
  );
  return Object.fromEntries(entries) as Record<C, ProviderChoice>;

  async function create(channel: C, factory: ProviderFactory): Promise<ChannelProvider> {
    try {
      return await factory(options.secrets);
    } catch (error) {
      throw new Error(
        `could not create the ${channel} provider: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
  }
}

/** One line per channel for a start-up banner: `x          real`, `sms        sandbox (no credentials for sms)`. */
export function describeProviders(choices: Partial<Record<Channel, ProviderChoice>>): string[] {
  const names = Object.keys(choices) as Channel[];
  const width = Math.max(0, ...names.map((n) => n.length)) + 2;
  return names.map((channel) => {
    const choice = choices[channel]!;
    return `${channel.padEnd(width)}${choice.mode === 'real' ? 'real' : `sandbox (${choice.reason})`}`;
  });
}
