/**
 * SQS batch handling shared by the queue consumers: each record is parsed and handled on its own, so one
 * bad or failing message is one batch item failure (and, after the redrive count, one dead letter).
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type * as z from 'zod';
import { logger } from './logger';

export function sqsBatchHandler<S extends z.ZodType>(
  schema: S,
  handle: (message: z.output<S>, record: SQSRecord) => Promise<void>,
) {
  const processor = new BatchProcessor(EventType.SQS);
  const recordHandler = async (record: SQSRecord) => {
    let body: unknown;
    try {
      body = JSON.parse(record.body);
    } catch {
      throw new Error(`message ${record.messageId} is not JSON`);
    }
    const parsed = schema.safeParse(body);
    if (!parsed.success)
      throw new Error(
        `message ${record.messageId} is malformed: ${parsed.error.issues.map((i) => i.message).join('; ')}`,
      );
    await handle(parsed.data, record);
  };
  return middy<SQSEvent, SQSBatchResponse, Error, Context>((event: SQSEvent, context: Context) =>
    // A fully failed batch is reported item by item, not thrown: the backoff set per message must stand.
    processPartialResponse(event, recordHandler, processor, { context, throwOnFullBatchFailure: false }),
  ).use(injectLambdaContext(logger, { resetKeys: true }));
}
