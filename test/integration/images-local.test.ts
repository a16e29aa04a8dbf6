import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putImage } from '../../functions/adapters/images/key';
import { LocalImageStore, mediaRoute } from '../../local/images';

let root: string;
let media: string;
let server: Server;
let base: string;

const jpegBytes = new Uint8Array([0xff, 0xd8, ...Array.from({ length: 300 }, (_, i) => i % 256), 0xff, 0xd9]);
const pngBytes = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 7, 7, 7]);
const SECRET = 'secret-content-outside-media';

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'herald-media-'));
  media = join(root, 'media');
  await writeFile(join(root, 'secret.txt'), SECRET);
  const route = mediaRoute(media);
  // As local/gateway.ts does: the route runs first, anything it leaves gets the server's own answer.
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://gateway.invalid');
    route(req, res, url).then(
      (handled) => {
        if (!handled) res.writeHead(418, { 'x-not-media': '1' }).end();
      },
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(root, { recursive: true, force: true });
});

/** A request with the path sent exactly as written (fetch would resolve `..` first). */
function send(
  path: string,
  options: { method?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${base}/`,
      { method: options.method ?? 'GET', path, headers: options.headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const store = () => new LocalImageStore({ directory: media, publicBaseUrl: `${base}/media` });

describe('LocalImageStore and mediaRoute', () => {
  it('stores an image under its SHA-256 and serves it with its type, a strong ETag and immutable caching', async () => {
    // Act
    const { key, url } = await putImage(store(), jpegBytes, 'image/jpeg');
    const response = await send(new URL(url).pathname);

    // Assess
    const hash = createHash('sha256').update(jpegBytes).digest('hex');
    expect(key).toBe(`${hash}.jpg`);
    expect(url).toBe(`${base}/media/${key}`);
    expect(await readFile(join(media, key))).toEqual(Buffer.from(jpegBytes));
    expect(response.status).toBe(200);
    expect(response.body).toEqual(Buffer.from(jpegBytes));
    expect(response.headers).toMatchObject({
      'content-type': 'image/jpeg',
      'content-length': String(jpegBytes.length),
      etag: `"${hash}"`,
      'cache-control': 'public, max-age=31536000, immutable',
      'x-content-type-options': 'nosniff',
    });
  });

  it('serves PNGs as image/png, and HEAD without a body', async () => {
    const { key } = await putImage(store(), pngBytes, 'image/png');

    const get = await send(`/media/${key}`);
    const head = await send(`/media/${key}`, { method: 'HEAD' });

    expect(get.headers['content-type']).toBe('image/png');
    expect(get.body).toEqual(Buffer.from(pngBytes));
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(String(pngBytes.length));
    expect(head.body.length).toBe(0);
  });

  it('stores the same image twice as one file, leaving no temporary file behind', async () => {
    const first = await putImage(store(), jpegBytes, 'image/jpeg');
    const second = await putImage(store(), jpegBytes, 'image/jpeg');

    expect(second).toEqual(first);
    expect((await readdir(media)).filter((name) => name.includes(first.key))).toEqual([first.key]);
  });

  it('refuses a key that is not the SHA-256 of the bytes', async () => {
    await expect(store().put(`${'a'.repeat(64)}.jpg`, jpegBytes, 'image/jpeg')).rejects.toThrow(
      /not the SHA-256/,
    );
  });

  it.each([
    ['its own ETag', 304, (etag: string) => etag],
    ['its weak ETag', 304, (etag: string) => `W/${etag}`],
    ['a list holding its ETag', 304, (etag: string) => `"other", ${etag}`],
    ['*', 304, () => '*'],
    ['another ETag', 200, () => '"0000"'],
  ])('answers If-None-Match with %s by %i', async (_, status, header) => {
    const { key } = await putImage(store(), jpegBytes, 'image/jpeg');
    const etag = (await send(`/media/${key}`)).headers.etag as string;

    const response = await send(`/media/${key}`, { headers: { 'if-none-match': header(etag) } });

    expect(response.status).toBe(status);
    expect(response.headers.etag).toBe(etag);
    if (status === 304) expect(response.body.length).toBe(0);
    else expect(response.body).toEqual(Buffer.from(jpegBytes));
  });

  it('answers 404 for an image it does not have', async () => {
    const response = await send(`/media/${'b'.repeat(64)}.jpg`);
    expect(response.status).toBe(404);
    expect(response.headers['content-type']).toBe('application/problem+json');
  });

  it.each([
    '/media/../secret.txt',
    '/media/..%2fsecret.txt',
    '/media/%2e%2e/secret.txt',
    '/media/%2e%2e%2fsecret.txt',
    '/media/..\\secret.txt',
    '/media//secret.txt',
    '/media/secret.txt',
    `/media/${'A'.repeat(64)}.jpg`,
    `/media/${'a'.repeat(64)}.jpeg`,
    `/media/${'a'.repeat(63)}.jpg`,
    `/media/${'a'.repeat(64)}.jpg/extra`,
    `/media/${'a'.repeat(64)}.jpg%00`,
    `/media/.${'a'.repeat(64)}.jpg.tmp`,
    '/media/',
    '/media',
    `/x/../media/${'a'.repeat(64)}.jpg`,
  ])('refuses %s with 400 or 404, never reaching outside the folder', async (path) => {
    const response = await send(path);
    expect([400, 404]).toContain(response.status);
    expect(response.body.toString()).not.toContain(SECRET);
  });

  it('never follows a symbolic link in the folder, to a file outside it or to another image', async () => {
    // Prepare: a valid image name that is a link to a file outside the folder, and one that links to a real image
    await mkdir(media, { recursive: true });
    const outside = `${'c'.repeat(64)}.jpg`;
    await symlink(join(root, 'secret.txt'), join(media, outside));
    const { key } = await putImage(store(), pngBytes, 'image/png');
    const alias = `${'d'.repeat(64)}.png`;
    await symlink(join(media, key), join(media, alias));

    // Act
    const responses = await Promise.all([
      send(`/media/${outside}`),
      send(`/media/${outside}`, { method: 'HEAD' }),
      send(`/media/${outside}`, { headers: { 'if-none-match': '*' } }),
      send(`/media/${alias}`),
    ]);

    // Assess
    for (const response of responses) {
      expect(response.status).toBe(404);
      expect(response.headers['content-type']).toBe('application/problem+json');
      expect(response.body.toString()).not.toContain(SECRET);
    }
  });

  it('refuses a name that is not a regular file: a folder or a named pipe', async () => {
    await mkdir(join(media, `${'e'.repeat(64)}.jpg`), { recursive: true });
    const fifo = `${'f'.repeat(64)}.png`;
    execFileSync('mkfifo', [join(media, fifo)]);

    const folder = await send(`/media/${'e'.repeat(64)}.jpg`);
    const pipe = await send(`/media/${fifo}`);

    expect(folder.status).toBe(404);
    expect(pipe.status).toBe(404);
  });

  it('replaces a symbolic link left under an image name when that image is stored', async () => {
    await mkdir(media, { recursive: true });
    const hash = createHash('sha256').update(jpegBytes).digest('hex');
    await rm(join(media, `${hash}.jpg`), { force: true });
    await symlink(join(root, 'secret.txt'), join(media, `${hash}.jpg`));

    const { key } = await putImage(store(), jpegBytes, 'image/jpeg');
    const response = await send(`/media/${key}`);

    expect(response.status).toBe(200);
    expect(response.body).toEqual(Buffer.from(jpegBytes));
    expect(await readFile(join(root, 'secret.txt'), 'utf8')).toBe(SECRET);
  });

  it('refuses other methods with 405', async () => {
    const { key } = await putImage(store(), jpegBytes, 'image/jpeg');
    const response = await send(`/media/${key}`, { method: 'DELETE' });
    expect(response.status).toBe(405);
    expect(response.headers.allow).toBe('GET, HEAD');
  });

  it('leaves paths outside /media/ to the server', async () => {
    for (const path of ['/', '/v1/alerts', '/mediaX/abc', '/secret.txt', '/x/../media/../secret.txt']) {
      const response = await send(path);
      expect(response.headers['x-not-media'], path).toBe('1');
    }
  });
});
