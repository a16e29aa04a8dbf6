/**
 * A Lambda Context shaped like the one the Node.js runtime passes, for handlers invoked in-process. Handlers
 * and middleware read it (Powertools logs awsRequestId and functionName; middy's timeoutEarly and our own
 * provider deadlines use getRemainingTimeInMillis), so it must behave, not just type-check.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from './engine';

export interface LambdaContextOptions {
  functionName: string;
  /** The function's timeout: getRemainingTimeInMillis counts down from it. */
  timeoutMs: number;
  memoryLimitInMB?: number | undefined;
  awsRequestId?: string | undefined;
  /** One per execution environment on Lambda; the event source keeps one per concurrent slot. */
  logStreamName?: string | undefined;
  /** Where the deprecated context.done/succeed/fail report to (they end the invocation like the callback). */
  onLegacyResult?: ((error: unknown, result?: unknown) => void) | undefined;
}

export const functionArn = (functionName: string): string =>
  `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:function:${functionName}`;

/** Lambda's format: date, version in brackets, then 32 hex digits naming the execution environment. */
export function newLogStreamName(now: Date = new Date()): string {
  const day = now.toISOString().slice(0, 10).replace(/-/g, '/');
  return `${day}/[$LATEST]${randomBytes(16).toString('hex')}`;
}

export function createLambdaContext(options: LambdaContextOptions): Context {
  const deadline = Date.now() + options.timeoutMs;
  const report = options.onLegacyResult ?? (() => undefined);
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: options.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: functionArn(options.functionName),
    memoryLimitInMB: String(options.memoryLimitInMB ?? 128),
    awsRequestId: options.awsRequestId ?? randomUUID(),
    logGroupName: `/aws/lambda/${options.functionName}`,
    logStreamName: options.logStreamName ?? newLogStreamName(),
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: (error?: Error, result?: unknown) => report(error ?? undefined, result),
    fail: (error: Error | string) => report(error),
    succeed: (result: unknown) => report(undefined, result),
  };
}
