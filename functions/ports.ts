/**
 * The small interfaces the handlers are given. Each has one adapter for AWS and, where the embedded mode
 * needs another, one for the machine; tests pass fakes or the real adapters against local servers.
 */

export * from './ports/fanout';
export * from './ports/providers';
export * from './ports/queues';
export * from './ports/residents';
export * from './ports/store';
export * from './ports/time';
export * from './ports/tips';
