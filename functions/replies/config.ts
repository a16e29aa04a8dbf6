/** The replies poller's settings from the environment (the CDK stack and the embedded mode set the same names). */
import { DEFAULT_REPLY_POLL_CONFIG, type ReplyPollConfig } from './poller';

export const REPLY_ENV = {
  /** Requests to X per run (default 20: see functions/replies/poller.ts for the arithmetic against X's limit). */
  requestsPerRun: 'HERALD_REPLY_REQUESTS_PER_RUN',
  /** Hours an alert's posts are watched after its newest one went out, on every polled network (default 48). */
  watchHours: 'HERALD_REPLY_WATCH_HOURS',
} as const;

function whole(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new Error(`${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  return n;
}

export function replyPollConfigFrom(env: NodeJS.ProcessEnv = process.env): ReplyPollConfig {
  const d = DEFAULT_REPLY_POLL_CONFIG;
  return {
    ...d,
    // 2 at least: one lookup or account request and one search.
    requestsPerRun: whole(env, REPLY_ENV.requestsPerRun, d.requestsPerRun, 2, 100),
    watchHours: whole(env, REPLY_ENV.watchHours, d.watchHours, 1, d.searchWindowHours),
  };
}
