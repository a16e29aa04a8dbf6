/**
 * The corpus of real CAP (test/fixtures/cap/testdata): every valid CAP 1.2 message previews through the API and
 * round-trips to schema-valid CAP; invalid ones are refused naming what is wrong; hostile ones are refused before
 * any file is read or any connection is tried; CAP 1.1 is refused, not upgraded.
 */
import { readFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { validateXML } from 'xmllint-wasm';
import { capSchemaErrors } from '../../functions/adapters/cap-schema';
import type { ApiDeps } from '../../functions/api/alerts';
import { previewAlertFromCap, readCapBody } from '../../functions/api/cap';
import { newAlert } from '../../functions/core/alerts';
import { toCapXml } from '../../functions/core/cap';
import { importCap } from '../../functions/core/cap-import';
import { CapRefused, parseCap } from '../../functions/core/cap-parse';
import { HttpProblem } from '../../functions/core/errors';
import { CAP_XSD } from '../../schemas/cap-xsd';
import { CAP_TESTDATA_DIR, readCapXsd } from '../helpers/cap-fixtures';
import { type DynaliteStore, startDynaliteStore } from '../helpers/dynalite';
import { apiEvent, claimsFor } from '../helpers/events';
import { ManualClock, newUlid, RecordingLogger, RecordingQueue, testConfig } from '../helpers/fakes';
import { residentsDeps } from '../helpers/residents';

const corpus = (file: string) => readFileSync(join(CAP_TESTDATA_DIR, file));
const XSD = readCapXsd();

/** The CAP 1.2 files test/fixtures/cap/README.md lists as schema-valid. */
const VALID_12 = [
  'amber_oasis_1.2.cap',
  'australia.cap',
  'canada.cap',
  'canada_signed.cap',
  'earthquake-iso8859-1.cap',
  'homeland_security.cap',
  'thunderstorm.cap',
  'wcatwc-warning.cap',
];
const CAP_11 = [
  'amber_lapd.cap',
  'earthquake.cap',
  'earthquake_signed.cap',
  'no_optional_fields.cap',
  'noaa_errors.cap',
  'weather.cap',
];

/** An independent check: the xmllint-wasm package's own entry, as a receiving system would run it. */
async function xsdErrors(xml: string): Promise<string[]> {
  const result = await validateXML({
    xml: [{ fileName: 'alert.cap', contents: xml }],
    schema: [{ fileName: 'CAP-v1.2.xsd', contents: XSD }],
  });
  return result.errors.map((e) => e.message);
}

let db: DynaliteStore;
let deps: ApiDeps;
beforeAll(async () => {
  db = await startDynaliteStore();
  deps = {
    ...(await residentsDeps(db)),
    store: db.store,
    queue: new RecordingQueue(),
    config: testConfig(),
    clock: new ManualClock('2030-03-04T10:00:00.000Z'),
    newId: newUlid,
    logger: new RecordingLogger(),
  };
});
afterAll(async () => {
  await db?.close();
});

const capRequest = (body: Buffer | string, path = '/v1/alerts/preview') =>
  apiEvent({
    method: 'POST',
    path,
    body: Buffer.from(body).toString('base64'),
    isBase64Encoded: true,
    headers: { 'content-type': 'application/cap+xml' },
    claims: claimsFor('officer-1', ['officer']),
  });

async function problemOf(promise: Promise<unknown>): Promise<HttpProblem> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof HttpProblem) return error;
    throw error;
  }
  throw new Error('the request was accepted');
}

describe('the CAP corpus', () => {
  it('keeps the runtime copy of the schema identical to the OASIS one', () => {
    expect(CAP_XSD).toBe(XSD);
  });

  it.each(VALID_12)('%s previews through the API, saying what it made of the message', async (file) => {
    const event = capRequest(corpus(file), '/v1/alerts/preview?channels=x,facebook,sms,email,webhook');
    const result = await previewAlertFromCap(deps, {
      event,
      actor: { id: 'officer-1', roles: ['officer'] },
      params: {},
    });
    expect(result.statusCode).toBe(200);
    const body = JSON.parse(result.body as string);
    expect(Object.keys(body.channels)).toEqual(['x', 'facebook', 'sms', 'email', 'webhook']);
    expect(body.cap.identifier).toBe(parseCap(corpus(file)).identifier?.value);
    // Every message in the corpus is years old.
    expect(body.cap.expired || !parseCap(corpus(file)).infos[0]?.expires).toBe(true);
  });

  it.each(VALID_12)('%s round-trips to schema-valid CAP that reads back the same', async (file) => {
    const imported = importCap(parseCap(corpus(file)), { now: new Date('2030-01-01T00:00:00Z') });
    const version = newAlert(imported.draft, {
      alertId: '01M7YF2673YEYXB5H183X6NVSE',
      actor: { id: 'cad', roles: ['officer'] },
      now: new Date('2030-01-01T00:00:00Z'),
      sender: 'alerts@police.example.org',
      approvalSeverities: new Set(),
    });
    const xml = toCapXml(version, { agencyName: 'Police' });
    expect(await xsdErrors(xml)).toEqual([]);
    const again = importCap(parseCap(xml), { now: new Date('2030-01-01T00:00:00Z') });
    // CAP out writes every time in UTC: the same instants, whatever offset the message gave them in.
    const withoutTimes = (d: typeof imported.draft) => ({
      ...d,
      effective: undefined,
      onset: undefined,
      expires: undefined,
    });
    expect(withoutTimes(again.draft)).toEqual(withoutTimes(imported.draft));
    for (const time of ['effective', 'onset', 'expires'] as const)
      expect(Date.parse(again.draft[time] ?? '0'), time).toBe(Date.parse(imported.draft[time] ?? '0'));
  });

  it.each([
    ['australia.cap', { effective: '2011-10-05T23:04:00+10:00', expires: '2011-10-06T23:04:00+10:00' }],
    ['canada.cap', { effective: '2012-05-02T23:20:00-00:00', expires: '2012-05-03T00:20:00-00:00' }],
    [
      'earthquake-iso8859-1.cap',
      { onset: '2012-10-14T22:40:56+00:00', expires: '2012-10-21T22:53:04+00:00' },
    ],
    ['wcatwc-warning.cap', { onset: '2011-09-02T11:36:50-00:00', expires: '2011-09-02T12:36:50-00:00' }],
  ])('%s gives its CAP times to the draft as it wrote them', (file, times) => {
    const { draft } = importCap(parseCap(corpus(file)), { now: new Date('2030-01-01T00:00:00Z') });
    expect({ effective: draft.effective, onset: draft.onset, expires: draft.expires }).toEqual({
      effective: undefined,
      onset: undefined,
      ...times,
    });
  });

  it('refuses invalid.cap, naming the element the schema did not expect', async () => {
    const problem = await problemOf(readCapBody(capRequest(corpus('invalid.cap'))));
    expect(problem.status).toBe(400);
    expect(problem.errors).toEqual([
      {
        path: '/alert/info/0',
        message: expect.stringMatching(
          /Element 'info': This element is not expected. Expected is one of \( source, scope \)/,
        ),
      },
    ]);
  });

  it('refuses canada_errors.cap, which the schema accepts, for the CAP rule it breaks', async () => {
    expect(await capSchemaErrors(corpus('canada_errors.cap').toString('utf8'))).toEqual([]);
    const problem = await problemOf(readCapBody(capRequest(corpus('canada_errors.cap'))));
    expect(problem.status).toBe(400);
    expect(problem.errors).toEqual([
      {
        path: '/alert/references',
        message: expect.stringMatching(/an Update must name the messages it refers to/),
      },
    ]);
  });

  it.each(CAP_11)('%s (CAP 1.1) is refused with 422, saying it is not upgraded', async (file) => {
    const problem = await problemOf(readCapBody(capRequest(corpus(file))));
    expect(problem.status).toBe(422);
    expect(problem.detail).toMatch(/CAP 1\.1 is not accepted \(it is refused, not upgraded\)/);
  });

  describe('hostile documents', () => {
    const connections: string[] = [];
    const listener = createServer((socket) => {
      connections.push(`${socket.remoteAddress}:${socket.remotePort}`);
      socket.destroy();
    });
    beforeAll(async () => {
      // xee.cap points every entity, DTD and include at http://localhost:8080.
      await new Promise<void>((resolve, reject) => {
        listener.once('error', reject);
        listener.listen(8080, '127.0.0.1', resolve);
      });
    });
    afterAll(async () => {
      await new Promise((resolve) => listener.close(resolve));
    });

    it.each(['xee.cap', 'xee.atom'])(
      '%s is refused without a file read or a connection attempt',
      async (file) => {
        const bytes = corpus(file);
        const connect = vi.spyOn(Socket.prototype, 'connect');
        const fs = await import('node:fs');
        const reads = [
          vi.spyOn(fs.default, 'openSync'),
          vi.spyOn(fs.default, 'open'),
          vi.spyOn(fs.default.promises, 'open'),
        ];
        try {
          expect(() => parseCap(bytes)).toThrow(CapRefused);
          const problem = await problemOf(readCapBody(capRequest(bytes)));
          expect(problem.status).toBe(400);
          expect(problem.errors?.[0]?.message).toMatch(/DTD \(<!DOCTYPE …>\) is not accepted/);
          expect(connect).not.toHaveBeenCalled();
          for (const read of reads) expect(read).not.toHaveBeenCalled();
        } finally {
          connect.mockRestore();
          for (const read of reads) read.mockRestore();
        }
        expect(connections).toEqual([]);
      },
    );

    it('refuses an entity-expansion bomb at the DTD, in well under a second', async () => {
      const levels = Array.from(
        { length: 9 },
        (_, i) => `<!ENTITY l${i + 1} "${`&l${i};`.repeat(10)}">`,
      ).join('\n');
      const bomb = `<?xml version="1.0"?>\n<!DOCTYPE alert [\n<!ENTITY l0 "lol">\n${levels}\n]>\n<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><note>&l9;</note></alert>`;
      const outcome = await Promise.race([
        problemOf(readCapBody(capRequest(bomb))).then((p) => p.errors?.[0]?.message),
        new Promise((resolve) => setTimeout(() => resolve('still running after 500 ms'), 500)),
      ]);
      expect(outcome).toMatch(/DTD .* is not accepted/);
    });
  });
});
