/**
 * One structured logger for every handler (Powertools: JSON lines with the Lambda context). Personal data
 * never reaches it unmasked: callers pass masked recipients only.
 */
import { Logger } from '@aws-lambda-powertools/logger';

export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'herald' });

/** The slice of a logger the domain needs, so tests can pass a recording fake. */
export interface LoggerLike {
  debug(message: string, ...extra: Record<string, unknown>[]): void;
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}
