/**
 * No phone number or email in clear, anywhere: the resident and media flows run through the embedded runtime
 * with several numbers and addresses, and then every API answer, every log line written (at debug level), every
 * item of the table (sandbox outbox included) and every file in the data directory is searched for them.
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDocumentClient } from '../../functions/adapters/dynamo/client';
import { startDynalite } from '../../local/dynalite';
import { TABLE_NAME } from '../../local/runtime';
import { startTestHerald, type TestHerald, tempDir } from '../helpers/embedded';

// Every line, debug included, from the start: the logger reads its level when its module loads, and the api
// handler's middleware resets it to that level on each invocation.
vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
});

const PHONES = ['+34611000101', '+34622000202', '+34633000303', '+34644000404', '+447911123456'];
const EMAILS = ['ana.garcia@example.org', 'jordi.puig@example.net', 'redaccio@mitja.example'];
/** What would give a person away: the full address, and a number's digits without its country code. */
const NEEDLES = [
  ...PHONES,
  ...PHONES.map((p) => p.replace(/^\+(34|44)/, '')),
  ...EMAILS,
  ...EMAILS.map((e) => e.split('@')[0]!),
];

let dataDir: string;
let herald: TestHerald;
let stopped = false;
const answers: string[] = [];
const written: string[] = [];
const originalWrites = { out: process.stdout.write, err: process.stderr.write };

function capture(stream: NodeJS.WriteStream, original: typeof process.stdout.write) {
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    written.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    return (original as (...a: unknown[]) => boolean).call(stream, chunk, ...rest);
  }) as typeof process.stdout.write;
}

beforeAll(async () => {
  dataDir = await tempDir('herald-pii-');
  herald = await startTestHerald({ dataDir });
  capture(process.stdout, originalWrites.out);
  capture(process.stderr, originalWrites.err);
});
afterAll(async () => {
  process.stdout.write = originalWrites.out;
  process.stderr.write = originalWrites.err;
  if (!stopped) await herald?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

async function call(
  method: string,
  path: string,
  options: Parameters<TestHerald['call']>[2] = {},
): Promise<{ status: number; text: string }> {
  const res = await herald.call(method, path, options);
  const text = await res.text();
  answers.push(`${method} ${path} ${res.status} ${JSON.stringify(Object.fromEntries(res.headers))} ${text}`);
  return { status: res.status, text };
}

async function codeFor(channel: 'sms' | 'email', masked: string): Promise<string> {
  const { text } = await call('GET', `/v1/sandbox/outbox?channel=${channel}&alertId=notice`);
  const items = (JSON.parse(text) as { items: { recipient: string; text: string }[] }).items;
  return /\b(\d{6})\b/.exec(items.find((i) => i.recipient === masked)?.text ?? '')?.[1] ?? '';
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path)));
    else out.push(path);
  }
  return out;
}

describe('PII scan', () => {
  it('finds no full number or address in any answer, log line, table item or data file', async () => {
    // Act: residents text the agency's number
    const [p1, p2, p3, p4, p5] = PHONES as [string, string, string, string, string];
    const [e1, e2, e3] = EMAILS as [string, string, string];
    await call('POST', '/v1/sandbox/inbound/sms', { body: { from: p1, body: 'JOIN eixample' } });
    await call('POST', '/v1/sandbox/inbound/sms', { body: { from: p1, body: 'HELP' } });
    await call('POST', '/v1/sandbox/inbound/sms', { body: { from: p2, body: 'alta gracia' } });
    await call('POST', '/v1/sandbox/inbound/sms', { body: { from: p2, body: 'JOIN atlantis' } });
    await call('POST', '/v1/sandbox/inbound/sms', { body: { from: p2, body: 'STOP' } });
    await call('POST', '/v1/sandbox/inbound/sms', { body: { from: p2, body: 'START' } });
    await call('POST', '/v1/sandbox/inbound/sms', { body: { from: p5, body: 'join les-corts en' } });
    // ...sign up on the web, one wrong code first, and too often
    await call('POST', '/v1/subscriptions', { body: { channel: 'sms', address: p3, zones: ['sant-marti'] } });
    await call('POST', '/v1/subscriptions/confirm', { body: { address: p3, code: '000000' } });
    await call('POST', '/v1/subscriptions/confirm', {
      body: { address: p3, code: await codeFor('sms', '+34•••••••03') },
    });
    await call('POST', '/v1/subscriptions', {
      body: { channel: 'email', address: e1, zones: ['gracia'], language: 'ca' },
    });
    await call('POST', '/v1/subscriptions/confirm', {
      body: { address: e1, code: await codeFor('email', 'a•••@e•••.org') },
    });
    for (let i = 0; i < 4; i++)
      await call('POST', '/v1/subscriptions', { body: { channel: 'sms', address: p4, zones: ['gracia'] } });
    await call('POST', '/v1/subscriptions', {
      body: { channel: 'sms', address: '+34 699 88 77', zones: ['gracia'] },
    });
    await call('POST', '/v1/subscriptions/confirm', { body: { address: e2, code: '123456' } });
    // ...and officers manage media and import a list
    const media = await call('POST', '/v1/subscribers', {
      role: 'officer',
      body: { channel: 'email', address: e3, zones: ['*'], name: 'Mitjà', consent: 'Signed 2030-01-01' },
    });
    await call('POST', '/v1/subscribers', {
      role: 'officer',
      body: { channel: 'email', address: e3, zones: ['*'], consent: 'again' },
    });
    await call('POST', '/v1/subscriptions/import', {
      role: 'officer',
      headers: { 'content-type': 'text/csv' },
      body: `channel,address,zones,language,consent\nemail,${e2},eixample,es,Old provider\nsms,${p2},gracia,en,Old provider\nsms,${p4.slice(3)},gracia,en,x\n`,
    });
    await call('GET', '/v1/subscribers?limit=100', { role: 'auditor' });
    await call('GET', '/v1/subscribers?channel=sms', { role: 'supervisor' });
    await call('POST', '/v1/webhooks', {
      role: 'officer',
      body: { url: 'https://hooks.example.org/h?k=1', name: 'Hook' },
    });
    await call('DELETE', `/v1/subscribers/${(JSON.parse(media.text) as { id: string }).id}`, {
      role: 'officer',
    });
    await call('GET', '/v1/sandbox/outbox?limit=1000');
    const logLines = written.join('');

    await herald.stop();
    stopped = true;
    const dynalite = await startDynalite({ path: join(dataDir, 'dynamodb') });
    const client = createDocumentClient({ endpoint: dynalite.endpoint });
    const items: unknown[] = [];
    try {
      let start: Record<string, unknown> | undefined;
      do {
        const page = await client.send(new ScanCommand({ TableName: TABLE_NAME, ExclusiveStartKey: start }));
        items.push(...(page.Items ?? []));
        start = page.LastEvaluatedKey;
      } while (start);
    } finally {
      client.destroy();
      await dynalite.close();
    }
    const table = JSON.stringify(items);
    const files = await Promise.all((await filesUnder(dataDir)).map((f) => readFile(f, 'latin1')));

    // Assess: the flows happened, were logged and stored...
    const statuses = answers.map((a) => Number(a.split(' ')[2]));
    expect(new Set(statuses)).toEqual(new Set([200, 201, 202, 204, 400, 409, 410, 422, 429]));
    expect(logLines).toContain('subscription.joined');
    expect(logLines).toContain('subscription.confirmed');
    expect(logLines).toContain('subscription.deleted');
    expect(table).toContain('+34•••••••01');
    expect(table).toContain('"status":"confirmed"');
    // ...and nobody's number or address is in clear anywhere
    const everything = { answers: answers.join('\n'), logLines, table, files: files.join('\n') };
    for (const [where, text] of Object.entries(everything))
      for (const needle of NEEDLES) expect(text.includes(needle), `${needle} in ${where}`).toBe(false);
  });
});
