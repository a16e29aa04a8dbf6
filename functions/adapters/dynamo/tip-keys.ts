/**
 * Every key the tips write or read, spelled once (the layout is described in tip-store.ts), and how a tip item
 * becomes a StoredTip. Kept apart from keys.ts, which the alerts, receipts and subscribers share.
 */
import type { StoredTip, TipMessage, TipState } from '../../ports';
import type { Item } from './context';
import { stripKeys } from './keys';

export const TIP_PREFIX = 'TIP#';
export const TIP_SK = 'TIP';
export const CONTACT_SK = 'CONTACT';
export const ANSWER_PREFIX = 'ANSWER#';
export const TIPS_INDEX_PK = 'TIPS';
export const CONTACTS_INDEX_PK = 'TIPCONTACTS';
export const ALERT_TIPS_PREFIX = 'TIPALERT#';

export const tipPk = (id: string) => `${TIP_PREFIX}${id}`;
export const tipsByStatePk = (state: TipState) => `${TIPS_INDEX_PK}#${state}`;
export const tipIndexSk = (receivedAt: string, id: string) => `${receivedAt}#${id}`;
export const alertTipsPk = (alertId: string) => `${ALERT_TIPS_PREFIX}${alertId}`;
export const referencePk = (reference: string) => `TIPREF#${reference}`;
export const REFERENCE_SK = 'REF';
export const intakePk = (key: string) => `TIPIN#${key}`;
export const INTAKE_SK = 'LOCK';
export const auditPk = (tipId: string) => `TIPAUDIT#${tipId}`;
export const answerQueuePk = (channel: string) => `TIPANSWERS#${channel}`;

/** The thread in time order: answers are kept in a map by ULID id (updated by key, with no list index to find). */
export function toTip(item: Item): StoredTip {
  const { messages, ...rest } = stripKeys<
    Omit<StoredTip, 'messages'> & { messages?: Record<string, TipMessage> }
  >(item);
  const tip: StoredTip = { ...rest, answerCount: Number(rest.answerCount ?? 0) };
  if (messages !== undefined)
    tip.messages = Object.values(messages).sort(
      (a, b) => a.at.localeCompare(b.at) || a.id.localeCompare(b.id),
    );
  return tip;
}
