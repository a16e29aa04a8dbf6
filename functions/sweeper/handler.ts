/**
 * Lambda entry point of the sweeper, run every minute by a schedule: releases scheduled versions whose time has come
 * (a backstop behind their own one-time schedules), re-dispatches versions whose fan-out was never planned, releases
 * residents whose quiet hours are over, then erases the contacts of tips past their retention (a bounded batch each
 * run).
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { deferralStoreOf, releaseDueDeferrals } from '../channel/deferrals';
import { eraseExpiredTipContacts, tipStoreOf } from '../core/tips';
import { type DispatchDeps, sweep } from '../dispatch/plan';
import { releaseDueVersions } from '../dispatch/release';
import { awsServices } from '../shared/aws';
import { lockAuditHeadsInS3 } from '../shared/aws-audit-heads';
import { logger } from '../shared/logger';

/**
 * Tip retention after the dispatch sweep, and never in its way: a failure is logged and the next run (a minute
 * later) tries again; a store without tips (a test's) has nothing to erase.
 */
async function sweepTipContacts(deps: DispatchDeps): Promise<number> {
  if (!('tips' in deps.store)) return 0;
  try {
    return await eraseExpiredTipContacts({ ...deps, tips: tipStoreOf(deps.store) });
  } catch (error) {
    deps.logger.error('tip contacts not erased this run', {
      error: error instanceof Error ? { name: error.name, message: error.message } : String(error),
    });
    return 0;
  }
}

/**
 * Residents' quiet hours: the deferrals whose time has come (or that a newer version replaced) are queued for release
 * (functions/channel/deferrals.ts). Never in the way of the rest: a failure is logged and the next run tries again;
 * a store without deferrals (a test's) has none to release.
 */
async function sweepDeferrals(deps: DispatchDeps): Promise<number> {
  const store = deferralStoreOf(deps.store);
  if (!store) return 0;
  try {
    return await releaseDueDeferrals({ ...deps, store }, deps.clock.now());
  } catch (error) {
    deps.logger.error('deferrals not released this run', {
      error: error instanceof Error ? { name: error.name, message: error.message } : String(error),
    });
    return 0;
  }
}

export const createSweeperHandler = (deps: DispatchDeps) =>
  middy<
    unknown,
    { released: number; swept: number; deferralsReleased: number; tipContactsErased: number },
    Error,
    Context
  >(async () => {
    // Scheduled versions first: a release is the one thing here with a deadline (within 60 s of its time).
    const released = await releaseDueVersions(deps);
    const swept = await sweep(deps);
    const deferralsReleased = await sweepDeferrals(deps);
    return { released, swept, deferralsReleased, tipContactsErased: await sweepTipContacts(deps) };
  }).use(injectLambdaContext(logger, { resetKeys: true }));

// Appends audit entries (versions released, tip contacts erased): each chain's head is locked in S3 (lib/audit-heads.ts).
lockAuditHeadsInS3();

let wired: ReturnType<typeof createSweeperHandler> | undefined;

export const handler = (event: unknown, context: Context) => {
  wired ??= createSweeperHandler(awsServices());
  return wired(event, context);
};
