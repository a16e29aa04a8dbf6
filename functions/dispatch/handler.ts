/** Lambda entry point of the dispatcher: consumes the dispatch queue. */
import type { Context, SQSEvent } from 'aws-lambda';
import { DispatchMessage } from '../../schemas/messages';
import { awsServices } from '../shared/aws';
import { lockAuditHeadsInS3 } from '../shared/aws-audit-heads';
import { sqsBatchHandler } from '../shared/batch';
import { type DispatchDeps, DispatchLater, dispatchVersion } from './plan';

export const createDispatchHandler = (deps: DispatchDeps) =>
  sqsBatchHandler(DispatchMessage, async (message, record) => {
    try {
      await dispatchVersion(deps, message);
    } catch (error) {
      // Another dispatcher holds the plan: come back when its lease ends, not after the whole visibility timeout.
      if (error instanceof DispatchLater)
        await deps.queue.changeVisibility('dispatch', record.receiptHandle, error.seconds);
      throw error;
    }
  });

// Appends audit entries (a scheduled version released): each chain's head is locked in S3 (lib/audit-heads.ts).
lockAuditHeadsInS3();

let wired: ReturnType<typeof createDispatchHandler> | undefined;

export const handler = (event: SQSEvent, context: Context) => {
  wired ??= createDispatchHandler(awsServices());
  return wired(event, context);
};
