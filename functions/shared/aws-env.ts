/**
 * What every function on AWS reads from its environment: a setting the stack must have set, and the queues' URLs.
 * Kept apart from ./aws.ts so a channel function (functions/channel/aws.ts) reads them without bundling the api's
 * SDK clients.
 */
import type { QueueName } from '../ports';
import { ALL_QUEUES, queueUrlEnv } from './config';

/** A setting the stack sets on the function: its absence is a broken deployment, said at once. */
export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}

/** The URL of each queue the stack gave this function (a function is given only those it uses). */
export function queueUrlsFromEnv(): Partial<Record<QueueName, string>> {
  const urls: Partial<Record<QueueName, string>> = {};
  for (const queue of ALL_QUEUES) {
    const url = process.env[queueUrlEnv(queue)];
    if (url) urls[queue] = url;
  }
  return urls;
}
