/**
 * Turning a version into a channel's message. This is the plain renderer every channel starts from:
 * marks updates and cancels, keeps within a channel's character budget without splitting a character,
 * and ends with the link to the full alert.
 */
import type { AlertContent, Channel, MsgType } from '../../../schemas/alert';
import { instagram } from '../../channels/instagram/channel';
import { x } from '../../channels/x/channel';

/** Plain character budgets per channel; the X and SMS renderers refine what a "character" costs. */
export const CHARACTER_BUDGET: Partial<Record<Channel, number>> = {
  x: x.budget.limit,
  instagram: instagram.budget.limit,
};

const MARK: Record<MsgType, string> = { Alert: '', Update: 'UPDATE: ', Cancel: 'CANCELLED: ' };

export interface RenderInput {
  msgType: MsgType;
  content: AlertContent;
  note?: string | undefined;
}

/** Cuts to at most `max` code points (never inside a surrogate pair), adding an ellipsis when it cuts. */
export function truncate(text: string, max: number): string {
  const chars = Array.from(text);
  if (chars.length <= max) return text;
  if (max <= 0) return '';
  return `${chars
    .slice(0, max - 1)
    .join('')
    .trimEnd()}…`;
}

export function renderText(input: RenderInput, channel: Channel): string {
  const { content, msgType } = input;
  const head = `${MARK[msgType]}${content.headline}`;
  const body =
    msgType === 'Cancel' && input.note ? `${input.note}\n\n${content.description}` : content.description;
  const parts = [body, content.instruction].filter((p): p is string => Boolean(p));
  const link = content.web ? `\n\n${content.web}` : '';
  const full = `${head}\n\n${parts.join('\n\n')}${link}`;
  const budget = CHARACTER_BUDGET[channel];
  if (budget === undefined || Array.from(full).length <= budget) return full;
  // Keep the headline and the link whole; shorten the body to fit between them.
  const room = budget - Array.from(head).length - Array.from(link).length - 2;
  if (room > 0) return `${head}\n\n${truncate(parts.join('\n\n'), room)}${link}`;
  // No room for the body: shorten the headline rather than cut the link, unless the link alone is too long.
  const linkLength = Array.from(link).length;
  return linkLength < budget
    ? `${truncate(head, budget - linkLength)}${link}`
    : truncate(`${head}${link}`, budget);
}
