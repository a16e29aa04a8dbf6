/**
 * The house Lambda function: every Herald handler is deployed through this class so that runtime,
 * architecture, bundling, logging and tracing are decided once.
 */
import { fileURLToPath } from 'node:url';
import type { Duration } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import {
  ApplicationLogLevel,
  Architecture,
  LoggingFormat,
  Runtime,
  SystemLogLevel,
  Tracing,
} from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, type NodejsFunctionProps, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { NagSuppressions } from 'cdk-nag';
import type { Construct } from 'constructs';
import type { QueueName } from '../functions/ports';
import {
  DEFAULT_LANGUAGES,
  ENV,
  parseLanguages,
  parseMapTiles,
  queueUrlEnv,
} from '../functions/shared/config';
import { BUNDLING } from './bundling';
import { contactMaskingPolicy } from './masking';

/** The checkout's root, found from this file so synth works from any working directory. */
const projectRoot = fileURLToPath(new URL('..', import.meta.url));

/** An entry point given relative to the project root, e.g. `functions/api/handler.ts`. */
export const entryPath = (relative: string): string =>
  fileURLToPath(new URL(`../${relative}`, import.meta.url));

/**
 * The DynamoDB actions a function may be granted on the whole table. Scan, DeleteItem and BatchWriteItem are
 * absent on purpose: a function that could run them table-wide is one bug away from reading or erasing every
 * alert and receipt (alerts and receipts expire through TTL). Deletes that residents' data needs are granted by
 * partition key prefix (`bindTableItems`); Scan never. Transactions need no action of their own: IAM authorizes
 * each item of a TransactWriteItems as its PutItem, UpdateItem or ConditionCheckItem.
 */
export type TableAction =
  | 'GetItem'
  | 'BatchGetItem'
  | 'Query'
  | 'PutItem'
  | 'UpdateItem'
  | 'ConditionCheckItem';

/**
 * Item actions that can remove items: DeleteItem, and BatchWriteItem, whose DeleteRequests IAM cannot tell from its
 * PutRequests. They are granted only through `bindTableItems`, limited to items whose partition key starts with
 * one of a few prefixes, so no function that may delete subscribers' or jobs' items can touch an alert or the audit.
 */
export type KeyedTableAction = 'DeleteItem' | 'BatchWriteItem';

export interface HeraldFunctionProps
  extends Omit<
    NodejsFunctionProps,
    | 'entry'
    | 'runtime'
    | 'architecture'
    | 'logGroup'
    | 'logRetention'
    | 'tracing'
    | 'timeout'
    | 'role'
    | 'code'
  > {
  /** Absolute path of the handler module (see `entryPath`); it must export `handler`. */
  entry: string;
  /** Required: queue visibility timeouts are computed from it. */
  timeout: Duration;
  /** Powertools' service name: the `service` key of every log line and metric. */
  serviceName: string;
  /** @default three months: receipts and the audit log live in the table, logs are for diagnosis. */
  logRetention?: RetentionDays;
}

/**
 * The agency's IANA time zone (`-c timeZone=Europe/Madrid` or cdk.json), for every function: quiet hours, the times
 * residents read and the preview all run on one clock, whichever function computes them. A zone the runtime does not
 * know fails the synth here, not the first invocation.
 */
function agencyClock(scope: Construct): Record<string, string> {
  const zone: unknown = scope.node.tryGetContext('timeZone');
  if (zone === undefined || zone === '') return {};
  try {
    if (typeof zone !== 'string') throw new Error('not a string');
    new Intl.DateTimeFormat('en', { timeZone: zone });
  } catch {
    throw new Error(
      `context timeZone must be an IANA time zone such as Europe/Madrid, got ${JSON.stringify(zone)}`,
    );
  }
  return { [ENV.timeZone]: zone };
}

/**
 * The residents' site languages from the context (`-c languages=en,es,ca` or cdk.json; a list there too), the default
 * first, checked at synth as the functions check them at start-up. The CDN's language choice (lib/public-site.ts) and
 * every function's HERALD_LANGUAGES come from this one reading, so the edge chooses from the list the pages are given.
 * Unset: DEFAULT_LANGUAGES, the functions' own default.
 */
export function agencyLanguages(scope: Construct): string[] {
  const value: unknown = scope.node.tryGetContext('languages');
  if (value === undefined || value === '') return [...DEFAULT_LANGUAGES];
  const raw = Array.isArray(value) ? value.join(',') : value;
  if (typeof raw !== 'string')
    throw new Error(`context languages must be a list such as en,es,ca, got ${JSON.stringify(value)}`);
  return parseLanguages(raw, 'context languages');
}

/**
 * The residents' maps' tile server (`-c mapTiles=https://tiles.example/{z}/{x}/{y}.png -c mapTilesAttribution=…` or
 * cdk.json), for every function like the agency's clock, though only the api draws maps. Unset, the default: nothing,
 * and the site loads nothing from a third party. Checked at synth as the functions check it at start-up.
 */
function agencyMapTiles(scope: Construct): Record<string, string> {
  const url: unknown = scope.node.tryGetContext('mapTiles');
  const attribution: unknown = scope.node.tryGetContext('mapTilesAttribution');
  for (const [key, value] of [
    ['mapTiles', url],
    ['mapTilesAttribution', attribution],
  ] as const) {
    if (value !== undefined && typeof value !== 'string')
      throw new Error(`context ${key} must be a string, got ${JSON.stringify(value)}`);
  }
  const tiles = parseMapTiles(url as string | undefined, attribution as string | undefined, {
    url: 'context mapTiles',
    attribution: 'context mapTilesAttribution',
  });
  return tiles ? { [ENV.mapTiles]: tiles.url, [ENV.mapTilesAttribution]: tiles.attribution } : {};
}

export class HeraldFunction extends NodejsFunction {
  declare readonly timeout: Duration;
  /** Powertools' service name, which names the function in its alarms. */
  readonly serviceName: string;

  constructor(scope: Construct, id: string, props: HeraldFunctionProps) {
    const { serviceName, logRetention, bundling, environment, ...rest } = props;
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      retention: logRetention ?? RetentionDays.THREE_MONTHS,
      // Every function's: residents' numbers and addresses pass through the api (sign-up, inbound texts), the
      // senders and the receipt callbacks, and any function's error may quote an event or an SDK response that
      // carries one. Masking at ingestion costs little next to a number readable by everyone who reads logs.
      dataProtectionPolicy: contactMaskingPolicy(),
    });
    // Our own role instead of AWSLambdaBasicExecutionRole, whose log permissions cover every log group in
    // the account rather than the one this function writes to.
    const role = new Role(scope, `${id}Role`, { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
    logGroup.grantWrite(role);

    super(scope, id, {
      // Lambda's CPU share grows with memory; 1 GB keeps cold starts and JSON/zod work quick for little cost.
      memorySize: 1024,
      ...rest,
      runtime: Runtime.NODEJS_22_X,
      // Graviton: cheaper per GB-second and at least as fast for this I/O-bound code.
      architecture: Architecture.ARM_64,
      tracing: Tracing.ACTIVE,
      role,
      logGroup,
      loggingFormat: LoggingFormat.JSON,
      // Powertools' logger follows AWS_LAMBDA_LOG_LEVEL, which this sets; one knob, not two.
      applicationLogLevelV2: ApplicationLogLevel.INFO,
      systemLogLevelV2: SystemLogLevel.WARN,
      projectRoot,
      depsLockFilePath: `${projectRoot}package-lock.json`,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: serviceName,
        POWERTOOLS_METRICS_NAMESPACE: 'Herald',
        ...agencyClock(scope),
        [ENV.languages]: agencyLanguages(scope).join(','),
        ...agencyMapTiles(scope),
        ...environment,
      },
      bundling: {
        format: OutputFormat.ESM,
        target: BUNDLING.target,
        mainFields: [...BUNDLING.mainFields],
        banner: BUNDLING.banner,
        minify: BUNDLING.minify,
        sourceMap: BUNDLING.sourceMap,
        sourcesContent: BUNDLING.sourcesContent,
        externalModules: [...BUNDLING.externalModules],
        // Synth must work offline and fast: bundle with the locally installed esbuild, never Docker.
        forceDockerBundling: false,
        ...bundling,
      },
    });
    this.serviceName = serviceName;
    NagSuppressions.addResourceSuppressions(this, [
      {
        id: 'AwsSolutions-L1',
        reason:
          'The design pins nodejs22.x (a supported runtime) for every function; moving to a newer one is a deliberate change made with the tests, not drift.',
      },
    ]);
    NagSuppressions.addResourceSuppressions(
      role,
      [
        {
          id: 'AwsSolutions-IAM5',
          reason:
            'Active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions, so IAM requires Resource "*".',
          appliesTo: ['Resource::*'],
        },
      ],
      true,
    );
  }

  /** Grants exactly `actions` on the table and its indexes, and tells the function the table's name. */
  bindTable(table: ITableV2, actions: readonly TableAction[]): this {
    table.grant(this, ...actions.map((action) => `dynamodb:${action}`));
    this.addEnvironment(ENV.tableName, table.tableName);
    if (this.role) {
      NagSuppressions.addResourceSuppressions(
        this.role,
        [
          {
            id: 'AwsSolutions-IAM5',
            reason:
              "Queries read the GSIs, whose ARNs are <table ARN>/index/<name>; the wildcard spans this table's indexes and nothing else.",
            appliesTo: [{ regex: '/^Resource::<.+\\.Arn>\\/index\\/\\*$/g' }],
          },
        ],
        true,
      );
    }
    return this;
  }

  /**
   * Grants `actions` on the table's own items (not its indexes, which take no writes) whose partition key starts with
   * one of `partitionKeyPrefixes` (`dynamodb:LeadingKeys`, checked by DynamoDB for every item of a batch), and tells
   * the function the table's name.
   */
  bindTableItems(
    table: ITableV2,
    actions: readonly KeyedTableAction[],
    partitionKeyPrefixes: readonly string[],
  ): this {
    if (partitionKeyPrefixes.length === 0 || partitionKeyPrefixes.some((p) => p === '' || p.includes('*'))) {
      throw new Error(
        `bindTableItems needs literal partition key prefixes, got ${JSON.stringify(partitionKeyPrefixes)}`,
      );
    }
    this.addToRolePolicy(
      new PolicyStatement({
        actions: actions.map((action) => `dynamodb:${action}`),
        resources: [table.tableArn],
        conditions: {
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': partitionKeyPrefixes.map((p) => `${p}*`) },
        },
      }),
    );
    this.addEnvironment(ENV.tableName, table.tableName);
    return this;
  }

  /** Lets the function send to `queue` and tells it the queue's URL under the name the code reads. */
  bindQueue(name: QueueName, queue: IQueue): this {
    queue.grantSendMessages(this);
    this.addEnvironment(queueUrlEnv(name), queue.queueUrl);
    return this;
  }
}
