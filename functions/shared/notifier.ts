/**
 * Notices (double opt-in codes, keyword replies) sent through the sms and email providers, so they take the same
 * road as alerts: the real provider where it is configured, the sandbox outbox otherwise.
 * SKELETON: the implementation replaces this body.
 */
import type { ChannelProvider, Notifier } from '../ports';

export function providerNotifier(_providers: { sms: ChannelProvider; email: ChannelProvider }): Notifier {
  return {
    send: async () => {
      throw new Error('not implemented yet');
    },
  };
}

/** The api function's notifier on AWS: SNS for SMS and SES for email, with the channel's own settings. SKELETON. */
export function awsNotifier(): Notifier {
  return {
    send: async () => {
      throw new Error('not implemented yet');
    },
  };
}
