/**
 * Images in the embedded mode: files under `<dataDir>/media/`, served by the embedded server at `/media/<key>`
 * the way the CDN serves them on AWS — content type, a year-long immutable cache-control, a strong ETag (the
 * key is the SHA-256 of the bytes) and 304s.
 *
 * Only names of the form `<64 hex>.jpg|png` are ever served, matched on the path as it arrived (before any
 * decoding or `..` resolution), so no request reaches a file outside the folder or one being written.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import {
  checkImageKey,
  contentTypeOfKey,
  IMMUTABLE_CACHE_CONTROL,
  type ImageContentType,
} from '../functions/adapters/images/key';
import type { ImageStore } from '../functions/ports';

export const MEDIA_PATH = '/media/';

export interface LocalImageStoreOptions {
  /** `<dataDir>/media` */
  directory: string;
  /** Where `mediaRoute` answers: the embedded server's URL followed by `/media`. */
  publicBaseUrl: string;
}

export class LocalImageStore implements ImageStore {
  private readonly baseUrl: string;

  constructor(private readonly options: LocalImageStoreOptions) {
    this.baseUrl = options.publicBaseUrl.replace(/\/+$/, '');
  }

  async put(key: string, bytes: Uint8Array, contentType: ImageContentType): Promise<{ url: string }> {
    checkImageKey(key, bytes, contentType);
    const path = join(this.options.directory, key);
    if (!(await isFile(path))) {
      await mkdir(this.options.directory, { recursive: true });
      // Written aside and renamed, so a reader never gets half a file; the temporary name is never served.
      const temporary = join(this.options.directory, `.${key}.${randomUUID()}.tmp`);
      try {
        await writeFile(temporary, bytes);
        await rename(temporary, path);
      } finally {
        await rm(temporary, { force: true });
      }
    }
    return { url: `${this.baseUrl}/${key}` };
  }
}

/**
 * Serves `GET|HEAD /media/<key>` from `directory`, for local/gateway.ts's `intercept` option: answers true when it
 * answered the request, false for any path outside `/media/`.
 */
export function mediaRoute(
  directory: string,
): (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean> {
  return async (req, res, url) => {
    const rawPath = (req.url ?? '/').split('?')[0] ?? '/';
    const ours =
      rawPath.startsWith(MEDIA_PATH) || rawPath === '/media' || url.pathname.startsWith(MEDIA_PATH);
    if (!ours) return false;

    // A path that only reaches /media/ once `..` is resolved, or that carries dots, slashes or escapes in the
    // name, is a traversal attempt or a mistake: refused without looking at the disk.
    const name = rawPath.startsWith(MEDIA_PATH) ? rawPath.slice(MEDIA_PATH.length) : '';
    if (!rawPath.startsWith(MEDIA_PATH) || /\.\.|[/\\%]/.test(name)) {
      problem(res, 400, 'Bad Request', 'The media path is not a plain file name.');
      return true;
    }
    const contentType = contentTypeOfKey(name);
    if (!contentType) {
      problem(res, 404, 'Not Found', 'There is no such image.');
      return true;
    }
    const method = (req.method ?? 'GET').toUpperCase();
    if (method !== 'GET' && method !== 'HEAD') {
      problem(res, 405, 'Method Not Allowed', 'Images are read with GET or HEAD.', { allow: 'GET, HEAD' });
      return true;
    }

    const path = join(directory, name);
    if (!(await isFile(path))) {
      problem(res, 404, 'Not Found', 'There is no such image.');
      return true;
    }
    const etag = `"${name.slice(0, 64)}"`;
    const headers = { etag, 'cache-control': IMMUTABLE_CACHE_CONTROL };
    if (matchesNoneMatch(req.headers['if-none-match'], etag)) {
      res.writeHead(304, headers);
      res.end();
      return true;
    }
    const bytes = await readFile(path);
    res.writeHead(200, {
      ...headers,
      'content-type': contentType,
      'content-length': String(bytes.length),
      'x-content-type-options': 'nosniff',
    });
    res.end(method === 'HEAD' ? undefined : bytes);
    return true;
  };
}

/** If-None-Match compares weakly (RFC 9110 §13.1.2): `W/"x"` matches `"x"`, and `*` matches any image. */
function matchesNoneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((tag) => {
    const t = tag.trim();
    return t === '*' || t.replace(/^W\//, '') === etag;
  });
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

function problem(
  res: ServerResponse,
  status: number,
  title: string,
  detail: string,
  extra: Record<string, string> = {},
): void {
  const body = Buffer.from(JSON.stringify({ type: 'about:blank', title, status, detail }));
  res.writeHead(status, {
    ...extra,
    'content-type': 'application/problem+json',
    'content-length': String(body.length),
  });
  res.end(body);
}
