/**
 * What a channel is, as data: everything the CDK app, the console, the preview, the embedded runtime and the
 * delivery policy need to know about it without loading its renderer or its provider. Each channel's folder
 * (functions/channels/<name>/channel.ts) holds one, and functions/channels/list.ts lists them.
 *
 * Nothing here may import code: the console (web/) bundles this for a phone's first load, and the CDK app reads it
 * at synth time without pulling a provider's SDK.
 */

/**
 * - `social`: Herald posts once, as the agency's own account, and writes one `queued` receipt (functions/core/fanout).
 * - `subscriber`: Herald sends to every confirmed subscriber of the alert's zones, many recipients per job, whose
 *   addresses are encrypted (the function decrypts them and batches receipts).
 */
export type ChannelAudience = 'social' | 'subscriber';

/**
 * How updates and cancels relate to the alert on this channel (the previous version's provider id reaches the
 * provider as `inReplyTo`):
 * - `reply`: posted as a reply (X), comment (Facebook) or In-Reply-To (email), so the story reads as one thread;
 * - `standalone`: each version is a message of its own, marked UPDATE or CANCELLED by the renderer.
 */
export type ChannelThread = 'reply' | 'standalone';

/**
 * What to do when an earlier attempt's outcome was lost and the provider cannot be asked:
 * - `retry`: send again (at-least-once) — where a rare duplicate beats a silent gap;
 * - `mark-unknown`: record `unknown` and stop (at-most-once) — for public posts, where a duplicate on the
 *   agency's timeline costs trust. The count of unknowns shows in the delivery totals for a person to check.
 */
export type UnknownOutcomePolicy = 'retry' | 'mark-unknown';

export interface ChannelDefinition<Name extends string = string> {
  /**
   * The channel's name everywhere: the API's `channels`, the queue `channel-<name>`, the Lambda entry
   * functions/channels/<name>/entry.ts, the secret `<prefix><name>`, the log's `channel`.
   */
  name: Name;
  /** How the console names it. */
  label: string;
  audience: ChannelAudience;
  /**
   * What the renderer keeps within and the preview counts against; absent where nothing is counted (email,
   * webhooks). SMS's is the default of HERALD_SMS_MAX_SEGMENTS, which an agency may raise.
   */
  budget?: { limit: number; unit: string } | undefined;
  thread: ChannelThread;
  unknownOutcome: UnknownOutcomePolicy;
  /**
   * Where the provider's credentials come from on AWS: `secret`, the secret `<prefix><name>` the stack creates
   * (holding `{}` for the agency to fill in) and lets only this channel's function read; `role`, the function's
   * own IAM role (SNS, SES). On one machine every channel reads its secret (functions/shared/channel-providers.ts).
   */
  credentials: 'secret' | 'role';
  /**
   * The most concurrent invocations of the channel's function (its SQS event source). A social channel posts as one
   * account, where the provider's rate limit bites long before Lambda does. SMS is sized from the account's
   * messages per second instead (lib/herald-stack.ts), and ignores it.
   */
  concurrency: number;
  /** The console's compose form ticks it for a new alert. */
  checkedByDefault: boolean;
  /** The post cannot go without an image: an alert without one gets its alert card (functions/channel/card-image.ts). */
  needsImage?: true | undefined;
  /** The message carries the version's CAP XML (attached to email, inside webhook payloads). */
  carriesCap?: true | undefined;
  /**
   * The provider logs the Graph API's rejection of a token (functions/adapters/providers/graph.ts): the stack alarms
   * on it at once, since nothing posts until someone issues a new token.
   */
  alarmOnRejectedCredentials?: true | undefined;
  /** Residents' quiet hours apply: releases of deferred messages go on this channel's queue. */
  quietHours?: true | undefined;
  /**
   * The channel's code in the links it carries, `<publicBaseUrl>/a/<alertId>/<code>` (functions/core/links.ts): one
   * or two lowercase letters, unique across channels, short because SMS counts every character. A click on it is
   * counted for this channel; absent, the channel links to the alert itself and its clicks are not counted.
   */
  linkCode?: string | undefined;
}

/** Checks a definition and keeps its literal types, so the list can derive the `Channel` union from it. */
export const defineChannel = <const D extends ChannelDefinition>(definition: D): D => definition;
