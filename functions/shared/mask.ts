/**
 * Masking of personal data for every API answer, export and log line: enough left to tell two recipients
 * apart when talking to a resident, never enough to contact them.
 */
import type { Channel } from '../../schemas/alert';

const DOT = '•';

/** +34612345678 → +34•••••••78 */
export function maskPhone(phone: string): string {
  const digits = phone.replace(/[^\d+]/g, '');
  if (digits.length <= 5) return DOT.repeat(Math.max(digits.length, 4));
  const keepHead = digits.startsWith('+') ? 3 : 2;
  return `${digits.slice(0, keepHead)}${DOT.repeat(digits.length - keepHead - 2)}${digits.slice(-2)}`;
}

/** news.desk@example.org → n•••@e•••.org */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at <= 0) return `${email.slice(0, 1)}${DOT.repeat(3)}`;
  const local = email.slice(0, at);
  const domain = email.slice(at + 1);
  const dot = domain.lastIndexOf('.');
  const tld = dot > 0 ? domain.slice(dot) : '';
  const host = dot > 0 ? domain.slice(0, dot) : domain;
  return `${local.slice(0, 1)}${DOT.repeat(3)}@${host.slice(0, 1)}${DOT.repeat(3)}${tld}`;
}

/** https://hooks.example.org/path?token=… → https://hooks.example.org/… */
export function maskUrl(url: string): string {
  try {
    return `${new URL(url).origin}/…`;
  } catch {
    return `${DOT.repeat(3)}`;
  }
}

/** A recipient as API answers, exports and logs show it: social accounts are public, the rest is masked. */
export function maskRecipient(channel: Channel, recipient: string): string {
  switch (channel) {
    case 'sms':
      return maskPhone(recipient);
    case 'email':
      return maskEmail(recipient);
    case 'webhook':
      return maskUrl(recipient);
    default:
      return recipient;
  }
}
