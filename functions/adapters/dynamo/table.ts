/**
 * The one definition of Herald's single DynamoDB table. The CDK stack (lib/) and the embedded start-up
 * (local/) both build the table from this object, so the two can never disagree on keys or indexes.
 *
 * Items (PK / SK):
 *   ALERT#<id>    / V#<000000n>          one version; GSI2 = UNPLANNED / <releasedAt> while its fan-out is not planned,
 *                                        or SCHEDULED / <publishAt> while it waits for its time (scheduled, or
 *                                        held for approval with a publishAt);
 *                                        version 1 is also the alert's head: GSI1 = ALERTS / <createdAt>#<id> lists
 *                                        alerts newest first, headLatestVersion points at the current version
 *   RCPT#<id>     / <000000n>#<channel>#<recipient>   one delivery receipt
 *   IDEM#<scope>  / <key>                idempotency record (TTL)
 *   OUTBOX        / <at>#<providerId>    what a sandbox provider accepted
 *
 * Residents and media (subscriber-store.ts; addresses only encrypted, found by keyed hash):
 *   SUB#<id>      / PROFILE              a subscriber; GSI1 = SUBS / <createdAt>#<id> lists all oldest first,
 *                                        GSI2 = SUBS#<channel> / <createdAt>#<id> the same per channel
 *   ADDR#<channel>#<addressHash> / SUB   the address's uniqueness lock and lookup: subscriberId, lockedAt
 *   ROSTER#<channel>#<audience>#<zone> / B#<nn>   ids (String Set) of the zone's confirmed subscribers, spread
 *                                        over 64 buckets by a hash of the id; zone `*` follows every zone
 *   CHAL#<channel>#<addressHash> / CODE  a double opt-in code's hash and tries left (TTL)
 *   RATE#<sha256 of key> / <window start, epoch s>   a rate-limit counter (TTL)
 *   KEYRING       / PII#1                the PII data key, wrapped by KMS (AWS only)
 *   SUBAUDIT#<subscriberId> / <at>#<unique>   one change of a subscriber's state (action, actor, method, channel;
 *                                        no address, hash or mask), kept after the subscriber is deleted;
 *                                        GSI1 = SUBAUDIT / <at>#<subscriberId>#<unique> lists them all by time
 *   QUIET#<channel>#<audience>#<zone> / <from>-<to>#B#<nn>   ids (String Set) of the zone's confirmed SMS and email
 *                                        subscribers with those quiet hours, in the id's roster bucket: kept with
 *                                        the rosters (subscriber-index.ts), read by the preview
 *
 * Residents' quiet hours (deferral-store.ts; the fan-out's own PLAN# and JOB# items are in bulk-store.ts):
 *   DEFER#<alertId> / <000000v>#<channel>#<000000job>#<until>   recipients (String Set) of one job whose quiet hours
 *                                        end at <until>, with a send job's fields (claimed, windowed, finished as a
 *                                        job is); GSI1 = DEFERRALS / <look at>#<alertId>#… until it is done
 *   DEFER#<alertId> / EARLY#<000000v>    a newer version went out: the sweeper releases the earlier versions'
 *                                        deferrals at once (they are superseded); GSI1 = DEFERRALS / <at>#…
 *
 * The tamper-evident audit log (audit-log.ts; the chain's logic in core/audit-chain.ts):
 *   AUDITLOG#<kind>#<id> / <n, 10 digits>   entry n of the chain of one alert, tip or subscriber (kind alert|tip|subscriber):
 *                                        content, recordedAt, prevHash, hash; written once (attribute_not_exists), never
 *                                        changed; GSI1 = AUDITLOG#<kind> / <id>#<n> lists a kind's entries for the verifier
 *
 * What each alert achieved (impact-store.ts): counters written by one atomic ADD each, holding nothing but `count`
 * (no address, user agent, cookie or time finer than the UTC day):
 *   CLICKS#<alertId> / <YYYY-MM-DD>#<channel>   clicks on that channel's link /a/<alertId>/<code> that day
 *   VIEWS#<alertId>  / <YYYY-MM-DD>#<source>    views of the alert's page that day (its image loaded), by the channel
 *                                        whose link brought the reader (`?from=<code>`), or `direct`
 *
 * Social engagement (engagement-store.ts; the poller in functions/impact):
 *   ENGAGE#<alertId> / <channel>#<postId>   the newest counts of one of the agency's posts (impressions, reposts,
 *                                        replies, likes, each only if the network reports it), sentAt, polledAt, gone;
 *                                        overwritten by each read, for 7 days after posting, then kept
 *   ENGAGE-HOLD / <channel>              no metrics read of that network before `until` (its rate limit; TTL)
 *
 * A pending (never confirmed) web sign-up's profile and address lock carry `expiresAt` (24 h after the sign-up),
 * removed when it is confirmed, so an abandoned sign-up leaves no profile, lock or address hash behind.
 */
export const TABLE_DEFINITION = {
  partitionKey: 'PK',
  sortKey: 'SK',
  /** Epoch seconds; DynamoDB deletes expired idempotency records, challenges, rate counters and pending sign-ups. */
  timeToLiveAttribute: 'expiresAt',
  globalSecondaryIndexes: [
    { indexName: 'GSI1', partitionKey: 'GSI1PK', sortKey: 'GSI1SK' },
    { indexName: 'GSI2', partitionKey: 'GSI2PK', sortKey: 'GSI2SK' },
  ],
} as const;

export type TableDefinition = typeof TABLE_DEFINITION;

/** The CreateTable input for the embedded mode and tests (on-demand, all attributes projected). */
export function createTableInput(tableName: string) {
  const t = TABLE_DEFINITION;
  const keyNames = [
    t.partitionKey,
    t.sortKey,
    ...t.globalSecondaryIndexes.flatMap((g) => [g.partitionKey, g.sortKey]),
  ];
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST' as const,
    AttributeDefinitions: keyNames.map((name) => ({ AttributeName: name, AttributeType: 'S' as const })),
    KeySchema: [
      { AttributeName: t.partitionKey, KeyType: 'HASH' as const },
      { AttributeName: t.sortKey, KeyType: 'RANGE' as const },
    ],
    GlobalSecondaryIndexes: t.globalSecondaryIndexes.map((g) => ({
      IndexName: g.indexName,
      KeySchema: [
        { AttributeName: g.partitionKey, KeyType: 'HASH' as const },
        { AttributeName: g.sortKey, KeyType: 'RANGE' as const },
      ],
      Projection: { ProjectionType: 'ALL' as const },
    })),
  };
}
