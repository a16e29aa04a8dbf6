/**
 * Notices (double opt-in codes, keyword replies) sent through the sms and email providers, so they take the same
 * road as alerts: the real provider where it is configured, the sandbox outbox otherwise.
 *
 * A notice is not part of any alert: it goes out as a message of the placeholder alert `notice`, version 0, with an
 * idempotency key of its own, and leaves no receipt (the audit log line of the change it answers is its record).
 */
import { randomUUID } from 'node:crypto';
import { emailFactory } from '../channels/email/provider';
import { smsFactory } from '../channels/sms/provider';
import { escapeHtml } from '../core/render/article';
import type {
  ChannelContent,
  ChannelProvider,
  Notice,
  Notifier,
  OutboundMessage,
  SecretSource,
} from '../ports';
import { logger } from './logger';

/** The alert id notices are filed under in the outbox: no alert has it (alert ids are ULIDs). */
export const NOTICE_ALERT_ID = 'notice';
/** Notices belong to no version; 0 is a number no alert version takes. */
export const NOTICE_VERSION = 0;
/** A notice that has not gone out in this long is given up (the resident may ask again). */
const NOTICE_TIMEOUT_MS = 10_000;

export function noticeMessage(notice: Notice, id: string = randomUUID()): OutboundMessage {
  const content: ChannelContent =
    notice.channel === 'sms'
      ? { channel: 'sms', text: notice.text }
      : {
          channel: 'email',
          subject: notice.subject ?? notice.text.slice(0, 60),
          text: notice.text,
          html: `<!doctype html><html><body><p>${escapeHtml(notice.text)}</p></body></html>`,
          attachments: [],
          messageId: `<notice-${id}@herald.invalid>`,
        };
  return {
    channel: notice.channel,
    alertId: NOTICE_ALERT_ID,
    version: NOTICE_VERSION,
    recipient: notice.address,
    text: notice.text,
    content,
    // Unique per notice and free of the address: it is stored beside the outbox item.
    idempotencyKey: `notice:${notice.kind}:${id}`,
    test: false,
  };
}

export function providerNotifier(providers: {
  sms: ChannelProvider | (() => Promise<ChannelProvider>);
  email: ChannelProvider | (() => Promise<ChannelProvider>);
}): Notifier {
  return {
    async send(notice, signal) {
      const chosen = providers[notice.channel];
      const provider = typeof chosen === 'function' ? await chosen() : chosen;
      await provider.send(noticeMessage(notice), signal ?? AbortSignal.timeout(NOTICE_TIMEOUT_MS));
    },
  };
}

/** A provider made on first use and kept for the container's life; a failed start-up is tried again next time. */
function lazily(make: () => Promise<ChannelProvider>): () => Promise<ChannelProvider> {
  let made: Promise<ChannelProvider> | undefined;
  return () => {
    made ??= make().catch((error: unknown) => {
      made = undefined;
      throw error;
    });
    return made;
  };
}

/**
 * The api function's notifier on AWS: SNS for SMS and SES for email, built by the same factories as the sms and
 * email channel functions (functions/channels/<name>/entry.ts), with the function's role, on the first notice of each.
 */
export function awsNotifier(env: NodeJS.ProcessEnv = process.env): Notifier {
  const options = { logger, env, awsAccess: 'role' as const, allowLoopback: false };
  // With the role's access the factories read no secret: sender settings come from the environment.
  const noSecrets: SecretSource = { get: async () => undefined };
  return providerNotifier({
    sms: lazily(async () => smsFactory(options)(noSecrets)),
    email: lazily(async () => emailFactory(options)(noSecrets)),
  });
}
