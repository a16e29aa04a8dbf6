/**
 * A local stand-in for one S3 bucket with Object Lock, speaking S3's REST-XML wire format (path-style addressing) so
 * the real `@aws-sdk/client-s3` runs unchanged against it (`endpoint` here, `forcePathStyle: true`):
 * - `PUT /{bucket}/{key}` PutObject: refused with 400 InvalidRequest, as S3 refuses it on a bucket with Object Lock,
 *   unless it carries Content-MD5 or an x-amz-checksum-* header; each PUT is kept as a new version, locked;
 * - `DELETE /{bucket}/{key}` refused with 403 AccessDenied (every version is under retention);
 * - `GET /{bucket}?list-type=2` ListObjectsV2 with `prefix`, `max-keys` (capped by `pageSize`) and
 *   `continuation-token`, keys in UTF-8 binary order as S3 lists them;
 * - on request, the next PUTs answer 503 SlowDown.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeObjectLockBucket {
  url: string;
  bucket: string;
  /** Every version put, oldest first. */
  versions: { key: string; body: string; checksumHeader: string }[];
  /** The next `count` PUTs answer 503 SlowDown. */
  failPuts(count: number): void;
  close(): Promise<void>;
}

const xmlEscape = (text: string) =>
  text.replace(
    /[<>&'"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!,
  );

function error(res: ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/xml' });
  res.end(
    `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error>`,
  );
}

async function bodyOf(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startFakeObjectLockBucket(
  options: { bucket?: string; pageSize?: number } = {},
): Promise<FakeObjectLockBucket> {
  const bucket = options.bucket ?? 'herald-audit-heads';
  const pageSize = options.pageSize ?? 1000;
  const versions: FakeObjectLockBucket['versions'] = [];
  const latest = new Map<string, { lastModified: Date; size: number }>();
  let failing = 0;

  const list = (res: ServerResponse, query: URLSearchParams) => {
    const prefix = query.get('prefix') ?? '';
    const maxKeys = Math.min(Number(query.get('max-keys') ?? 1000), pageSize);
    const after = query.get('continuation-token')
      ? Buffer.from(query.get('continuation-token')!, 'base64').toString('utf8')
      : '';
    const keys = [...latest.keys()]
      .filter((k) => k.startsWith(prefix) && Buffer.compare(Buffer.from(k), Buffer.from(after)) > 0)
      .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    const page = keys.slice(0, maxKeys);
    const truncated = keys.length > page.length;
    const contents = page
      .map((k) => {
        const o = latest.get(k)!;
        return `<Contents><Key>${xmlEscape(k)}</Key><LastModified>${o.lastModified.toISOString()}</LastModified><Size>${o.size}</Size><StorageClass>STANDARD</StorageClass></Contents>`;
      })
      .join('');
    const next = truncated
      ? `<NextContinuationToken>${Buffer.from(page.at(-1)!).toString('base64')}</NextContinuationToken>`
      : '';
    res.writeHead(200, { 'content-type': 'application/xml' });
    res.end(
      `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${bucket}</Name><Prefix>${xmlEscape(prefix)}</Prefix><KeyCount>${page.length}</KeyCount><MaxKeys>${maxKeys}</MaxKeys><IsTruncated>${truncated}</IsTruncated>${contents}${next}</ListBucketResult>`,
    );
  };

  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const [, name, ...rest] = url.pathname.split('/');
    const key = decodeURIComponent(rest.join('/'));
    const body = await bodyOf(req);
    if (name !== bucket) return error(res, 404, 'NoSuchBucket', 'The specified bucket does not exist');
    if (req.method === 'GET' && key === '' && url.searchParams.get('list-type') === '2')
      return list(res, url.searchParams);
    if (req.method === 'PUT' && key !== '') {
      if (failing > 0) {
        failing--;
        return error(res, 503, 'SlowDown', 'Please reduce your request rate.');
      }
      const checksumHeader = Object.keys(req.headers).find(
        (h) => h === 'content-md5' || (h.startsWith('x-amz-checksum-') && h !== 'x-amz-checksum-type'),
      );
      if (!checksumHeader)
        return error(
          res,
          400,
          'InvalidRequest',
          'Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters',
        );
      versions.push({ key, body, checksumHeader });
      latest.set(key, { lastModified: new Date(), size: Buffer.byteLength(body) });
      res.writeHead(200, { etag: `"${versions.length}"`, 'x-amz-version-id': String(versions.length) });
      return res.end();
    }
    if (req.method === 'DELETE')
      return error(res, 403, 'AccessDenied', 'Access Denied because object protected by object lock.');
    return error(res, 405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    bucket,
    versions,
    failPuts: (count) => {
      failing = count;
    },
    close: () => new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  };
}
