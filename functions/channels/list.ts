/**
 * The channels Herald delivers on, in the order the API, the console and the stack list them: one line per channel,
 * each its folder's definition (./definition.ts says what one holds). Everything that names channels reads this list:
 * the API's vocabulary (schemas/vocabulary.ts), the console, the preview, the delivery policy, the embedded runtime
 * and the CDK app. Data only, so the console and the CDK app import it without any channel's code.
 */

import { bluesky } from './bluesky/channel';
import type { ChannelDefinition } from './definition';
import { email } from './email/channel';
import { facebook } from './facebook/channel';
import { instagram } from './instagram/channel';
import { mastodon } from './mastodon/channel';
import { sms } from './sms/channel';
import { telegram } from './telegram/channel';
import { threads } from './threads/channel';
import { webhook } from './webhook/channel';
import { x } from './x/channel';

export const CHANNEL_LIST = [
  x,
  facebook,
  instagram,
  mastodon,
  bluesky,
  threads,
  telegram,
  sms,
  email,
  webhook,
] as const;

type Names<L extends readonly ChannelDefinition[]> = { -readonly [K in keyof L]: L[K]['name'] };

/** The names, as a tuple: the API's enum is built from it (schemas/alert.ts). */
// The map keeps the order and the length; TypeScript cannot see that through `map`, hence the cast.
export const CHANNELS = CHANNEL_LIST.map((c) => c.name) as unknown as Readonly<Names<typeof CHANNEL_LIST>>;
export type Channel = (typeof CHANNELS)[number];

/** Each channel's definition by name, with every field of a definition (optional ones may be absent). */
export const CHANNEL = Object.fromEntries(CHANNEL_LIST.map((c) => [c.name, c])) as Readonly<
  Record<Channel, ChannelDefinition<Channel>>
>;

/** The names of the channels whose definition passes `test`, in the list's order. */
export const channelsWhere = (test: (c: ChannelDefinition<Channel>) => boolean): Channel[] =>
  CHANNEL_LIST.filter(test).map((c) => c.name);
