/**
 * CAP areas given only as a zone id: every CAP Herald writes (the public .cap, email's attachment, a webhook's
 * data.cap.xml) names the zone as residents know it, in each <info>'s language, with the zone id as a geocode,
 * and stays valid against the OASIS CAP 1.2 schema. Real DynamoStore and subscriber store on dynalite.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateXML } from 'xmllint-wasm';
import { deliverBulkJob } from '../../functions/channel/bulk';
import { type ChannelDeps, deliverJob } from '../../functions/channel/deliver';
import { RENDERERS } from '../../functions/channels/renderers';
import { newAlert } from '../../functions/core/alerts';
import { toCapXml, zoneNamesFrom } from '../../functions/core/cap';
import { importCap } from '../../functions/core/cap-import';
import { parseCap } from '../../functions/core/cap-parse';
import type { StoredVersion, Subscriber } from '../../functions/core/model';
import { seededZones } from '../../functions/core/zones';
import { dispatchVersion } from '../../functions/dispatch/plan';
import type { ChannelProvider, OutboundMessage } from '../../functions/ports';
import { AlertDraft, type Channel } from '../../schemas/alert';
import type { ChannelJob } from '../../schemas/messages';
import draftFixture from '../fixtures/alert-draft.json';
import { readCapXsd } from '../helpers/cap-fixtures';
import { type DynaliteStore, startDynaliteStore } from '../helpers/dynalite';
import { sqsRecord } from '../helpers/events';
import {
  ManualClock,
  newUlid,
  RecordingLogger,
  RecordingQueue,
  ScriptedProvider,
  testConfig,
} from '../helpers/fakes';
import { residentsDeps } from '../helpers/residents';

const XSD = readCapXsd();

async function schemaErrors(xml: string): Promise<string[]> {
  const result = await validateXML({
    xml: [{ fileName: 'alert.cap', contents: xml }],
    schema: [{ fileName: 'CAP-v1.2.xsd', contents: XSD }],
  });
  return result.errors.map((e) => e.message);
}

let db: DynaliteStore;
let residents: Awaited<ReturnType<typeof residentsDeps>>;
beforeAll(async () => {
  db = await startDynaliteStore();
  residents = await residentsDeps(db);
});
afterAll(async () => {
  await db?.close();
});

const T0 = '2030-06-01T08:00:00.000Z';
const zones = seededZones();

function version(channels: Channel[], changes: Record<string, unknown> = {}): StoredVersion {
  return newAlert(
    AlertDraft.parse({
      ...structuredClone(draftFixture),
      areas: [{ zone: 'ciutat-vella' }, { zone: 'eixample' }],
      translations: [{ language: 'es', headline: 'Aviso', description: 'Descripción del aviso.' }],
      channels,
      ...changes,
    }),
    {
      alertId: newUlid(),
      actor: { id: 'officer-1', roles: ['officer'] },
      now: new Date(T0),
      sender: 'alerts@herald.example',
      approvalSeverities: new Set(),
    },
  );
}

/** The <area> blocks of each <info>, by the info's language. */
function areasByLanguage(xml: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const info of xml.match(/<info>[\s\S]*?<\/info>/g) ?? []) {
    const language = /<language>(.*)<\/language>/.exec(info)?.[1] ?? '?';
    out[language] = (info.match(/<area>[\s\S]*?<\/area>/g) ?? []).map((a) => a.replace(/>\s+</g, '><'));
  }
  return out;
}

const area = (desc: string, zone: string) =>
  `<area><areaDesc>${desc}</areaDesc><geocode><valueName>herald:zone</valueName><value>${zone}</value></geocode></area>`;

describe('CAP areas from zones', () => {
  it("names a zone-only area by the catalogue's name in each info's language, with the zone geocode, schema-valid", async () => {
    // Prepare
    const v1 = version(['email']);

    // Act
    const xml = toCapXml(v1, { agencyName: 'Police', zoneName: zoneNamesFrom(zones) });

    // Assess
    expect(await schemaErrors(xml)).toEqual([]);
    expect(areasByLanguage(xml)).toEqual({
      en: [area('Ciutat Vella', 'ciutat-vella'), area('Eixample', 'eixample')],
      es: [area('Ciutat Vella', 'ciutat-vella'), area('Ensanche', 'eixample')],
    });
  });

  it('reads its own CAP back as zones alone, whatever language the names were written in', () => {
    // Prepare
    const v1 = version(['email'], { language: 'es', translations: [] });
    const xml = toCapXml(v1, { agencyName: 'Police', zoneName: zoneNamesFrom(zones) });

    // Act
    const imported = importCap(parseCap(Buffer.from(xml)), {
      now: new Date(T0),
      zoneName: zoneNamesFrom(zones),
    });

    // Assess
    expect(xml).toContain('<areaDesc>Ensanche</areaDesc>');
    expect(imported.draft.areas).toEqual([{ zone: 'ciutat-vella' }, { zone: 'eixample' }]);
  });

  it('leaves an unknown zone named by its id', () => {
    // Act
    const xml = toCapXml(version(['email'], { areas: [{ zone: 'atlantis' }] }), {
      agencyName: 'Police',
      zoneName: zoneNamesFrom(zones),
    });

    // Assess
    expect(xml).toContain('<areaDesc>atlantis</areaDesc>');
  });

  it("attaches to email a CAP whose zone-only area carries the zone's name", async () => {
    // Prepare
    const provider = new ScriptedProvider('email', 'real');
    provider.script({ ok: 'ses-1' });
    const deps: ChannelDeps = {
      store: db.store,
      queue: new RecordingQueue(),
      provider,
      renderers: RENDERERS,
      sandbox: new ScriptedProvider('email', 'sandbox'),
      config: testConfig({ providerTimeoutMs: 500 }),
      clock: new ManualClock(T0),
      logger: new RecordingLogger(),
      newId: newUlid,
      zones,
    };
    const v1 = version(['email'], { areas: [{ zone: 'ciutat-vella' }], translations: [] });
    const recipient = 'desk@news.example';
    await db.store.putVersion(v1);
    await db.store.createReceipts([{ alertId: v1.alertId, version: 1, channel: 'email', recipient }], T0);
    await db.store.markPlanned(v1.alertId, 1, 1, T0);
    const job: ChannelJob = { alertId: v1.alertId, version: 1, channel: 'email', recipients: [recipient] };

    // Act
    await deliverJob(deps, job, sqsRecord(job));

    // Assess
    const mail = provider.calls[0]?.message.content as { attachments: { content: string }[] };
    const cap = mail.attachments[0]!.content;
    expect(areasByLanguage(cap)).toEqual({ en: [area('Ciutat Vella', 'ciutat-vella')] });
    expect(await schemaErrors(cap)).toEqual([]);
  });

  it("puts in a webhook's data.cap.xml a CAP whose zone-only area carries the zone's name", async () => {
    // Prepare
    const url = 'https://news.example.org/hooks/herald';
    const outlet: Subscriber = {
      id: newUlid(),
      channel: 'webhook',
      addressHash: await residents.pii.hash(url),
      addressCipher: await residents.pii.encrypt(url),
      addressMasked: 'https://news.example.org/…',
      name: 'City News',
      zones: ['ciutat-vella'],
      language: 'en',
      status: 'confirmed',
      audience: 'public',
      createdAt: T0,
      updatedAt: T0,
      confirmedAt: T0,
    };
    expect((await residents.subscribers.createSubscriber(outlet)).kind).toBe('created');
    const v1 = version(['webhook'], { areas: [{ zone: 'ciutat-vella' }], translations: [] });
    expect(await db.store.putVersion(v1)).toBe('created');
    const queue = new RecordingQueue();
    const clock = new ManualClock(T0);
    const logger = new RecordingLogger();
    await dispatchVersion(
      { store: db.store, subscribers: residents.subscribers, queue, config: testConfig(), clock, logger },
      { alertId: v1.alertId, version: 1 },
    );
    const sent: OutboundMessage[] = [];
    const webhook: ChannelProvider = {
      channel: 'webhook',
      mode: 'real',
      send: async (message) => {
        sent.push(message);
        return { providerMessageId: 'msg_1' };
      },
    };
    const [job] = queue.bodies<ChannelJob>('channel-webhook');

    // Act
    await deliverBulkJob(
      {
        store: db.store,
        subscribers: residents.subscribers,
        pii: residents.pii,
        zones,
        queue,
        provider: webhook,
        renderers: RENDERERS,
        sandbox: new ScriptedProvider('webhook', 'sandbox'),
        config: testConfig(),
        clock,
        logger,
        newId: newUlid,
      },
      job!,
      sqsRecord(job),
    );

    // Assess
    expect(sent).toHaveLength(1);
    const payload = (sent[0]!.content as unknown as { payload: { data: { cap: { xml: string } } } }).payload;
    expect(areasByLanguage(payload.data.cap.xml)).toEqual({ en: [area('Ciutat Vella', 'ciutat-vella')] });
  });
});
