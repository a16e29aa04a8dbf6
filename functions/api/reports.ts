/**
 * GET /v1/reports (supervisors, auditors): per week or month and zone, what the alerts achieved and how the
 * subscriptions moved, as JSON or CSV. Thin: the query is checked here, the store reads the range
 * (functions/adapters/dynamo/report-store.ts), the core counts (functions/core/reports.ts).
 */
import { ReportQuery } from '../../schemas/reports';
import { validationFailed } from '../core/errors';
import {
  buildReport,
  REPORT_CSV_COLUMNS,
  type Report,
  type ReportVersion,
  reportRange,
  type SubscriberZoneChange,
} from '../core/reports';
import type { ApiDeps, OperationInput } from './alerts';
import { csvCell } from './deliveries';
import { type ApiResult, csvAttachment, fieldErrors, json } from './http';

/** What the reports read: DynamoStore's `reports` (a property, as its `tips` are). */
export interface ReportReader {
  releasedVersions(from: Date, to: Date): Promise<ReportVersion[]>;
  subscriberChanges(from: Date, to: Date): Promise<SubscriberZoneChange[]>;
}

export function reportReaderOf(store: object): ReportReader {
  const reports = (store as { reports?: ReportReader }).reports;
  if (!reports) throw new Error('the store reads no reports: compose the handlers with DynamoStore');
  return reports;
}

/**
 * The report as CSV: a header row, then one line per row of the JSON answer. Every cell goes through the one escaping
 * rule of the exports (csvCell: RFC 4180 quoting, and a quote before what a spreadsheet would run as a formula).
 */
export function reportCsv(report: Report): string {
  const lines = [REPORT_CSV_COLUMNS.map(csvCell).join(',')];
  for (const row of report.rows) lines.push(REPORT_CSV_COLUMNS.map((c) => csvCell(row[c])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

export async function getReports(deps: ApiDeps, { event }: OperationInput): Promise<ApiResult> {
  const parsed = ReportQuery.safeParse(event.queryStringParameters ?? {});
  if (!parsed.success)
    throw validationFailed(fieldErrors(parsed.error).map((e) => ({ ...e, path: `/query${e.path}` })));
  const query = parsed.data;
  const { timeZone } = deps.config;
  const resolved = reportRange(query, timeZone);
  if (!resolved.ok) throw validationFailed([{ path: resolved.path, message: resolved.message }]);
  const { range } = resolved;
  const reader = reportReaderOf(deps.store);
  const [versions, changes] = await Promise.all([
    reader.releasedVersions(range.from, range.to),
    reader.subscriberChanges(range.from, range.to),
  ]);
  const report = buildReport({
    range,
    period: query.period,
    timeZone,
    zones: deps.zones.zones,
    versions,
    changes,
  });
  if (query.format === 'csv') {
    // Named by the periods it covers on the agency's calendar, which are what the reader asked for.
    const first = report.periods[0]?.period ?? '';
    const last = report.periods.at(-1)?.period ?? '';
    return csvAttachment(`herald-report-${first}-to-${last}.csv`, reportCsv(report));
  }
  return json(200, report);
}
