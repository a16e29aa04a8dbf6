/**
 * Images in the embedded mode: files under `<dataDir>/media/`, served by the embedded server at `/media/<key>`
 * the way the CDN serves them on AWS — content type, a year-long immutable cache-control, a strong ETag (the
 * key is the SHA-256 of the bytes) and 304s.
 *
 * Only names of the form `<64 hex>.jpg|png` are ever served, matched on the path as it arrived (before any
 * decoding or `..` resolution), so no request reaches a file outside the folder or one being written. A name
 * that is a symbolic link (or anything but a regular file) is not an image either: whoever can write the folder
 * cannot make the server hand out a file elsewhere.
 */
import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { type FileHandle, lstat, mkdir, open, rename, rm, writeFile } from 'node:fs/promises';
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

    const file = await openRegularFile(join(directory, name));
    if (!file) {
      problem(res, 404, 'Not Found', 'There is no such image.');
      return true;
    }
    try {
      const etag = `"${name.slice(0, 64)}"`;
      const headers = { etag, 'cache-control': IMMUTABLE_CACHE_CONTROL };
      if (matchesNoneMatch(req.headers['if-none-match'], etag)) {
        res.writeHead(304, headers);
        res.end();
        return true;
      }
      const bytes = await file.readFile();
      res.writeHead(200, {
        ...headers,
        'content-type': contentType,
        'content-length': String(bytes.length),
        'x-content-type-options': 'nosniff',
      });
      res.end(method === 'HEAD' ? undefined : bytes);
      return true;
    } finally {
      await file.close();
    }
  };
}

/** O_NOFOLLOW where the platform has it (not on Windows, where the lstat below stands in). */
const NO_FOLLOW = constants.O_NOFOLLOW ?? 0;
/** So that opening a named pipe put in the folder returns at once (and is then refused) instead of waiting. */
const NO_BLOCK = constants.O_NONBLOCK ?? 0;

/**
 * The file at `path` opened for reading, or undefined when there is none, it is a symbolic link or it is not a
 * regular file. O_NOFOLLOW refuses a link in the last component when opening, and the check is made on the
 * opened file, so a link swapped in between a check and the open is not followed either.
 */
async function openRegularFile(path: string): Promise<FileHandle | undefined> {
  if (NO_FOLLOW === 0 && !(await isFile(path))) return undefined;
  let file: FileHandle;
  try {
    file = await open(path, constants.O_RDONLY | NO_FOLLOW | NO_BLOCK);
  } catch (error) {
    // ELOOP: a symbolic link; ENOENT: none; ENOTDIR, EISDIR: a name that is not a plain file.
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP' || code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return undefined;
    throw error;
  }
  if ((await file.stat()).isFile()) return file;
  await file.close();
  return undefined;
}

/** If-None-Match compares weakly (RFC 9110 §13.1.2): `W/"x"` matches `"x"`, and `*` matches any image. */
function matchesNoneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((tag) => {
    const t = tag.trim();
    return t === '*' || t.replace(/^W\//, '') === etag;
  });
}

/** A regular file, not a symbolic link to one. */
async function isFile(path: string): Promise<boolean> {
  try {
    return (await lstat(path)).isFile();
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
