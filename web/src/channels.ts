/**
 * The channels the compose form offers, from their list (functions/channels/list.ts, through schemas/vocabulary.ts):
 * kept apart from the view, with no DOM, so a test can hold the console to the list.
 */
import { CHANNEL, CHANNEL_NAMES, CHANNELS, type Channel } from './types';

export const channelChoices = (): { value: Channel; label: string }[] =>
  CHANNELS.map((c) => ({ value: c, label: CHANNEL_NAMES[c] }));

/** A new alert goes where the channel's definition says (today the social channels). */
export const checkedByDefault = (value: string): boolean =>
  CHANNEL[value as Channel]?.checkedByDefault === true;
