/**
 * The subscriber-channel sender's test rig: the real DynamoStore and subscriber store on dynalite, the local PII
 * cipher, jobs planned by the real dispatcher, and a fake SMS provider that records each message.
 */
import { expect } from 'vitest';
import type { BulkDeps } from '../../functions/channel/bulk';
import { UNPACED } from '../../functions/channel/rate';
import { RENDERERS } from '../../functions/channels/renderers';
import { newAlert } from '../../functions/core/alerts';
import type { StoredVersion, Subscriber } from '../../functions/core/model';
import type { QuietWindow } from '../../functions/core/quiet-hours';
import { dispatchVersion } from '../../functions/dispatch/plan';
import type {
  ChannelProvider,
  OutboundMessage,
  ProviderAccepted,
  ProviderError,
} from '../../functions/ports';
import { maskPhone } from '../../functions/shared/mask';
import { AlertDraft } from '../../schemas/alert';
import type { ChannelJob } from '../../schemas/messages';
import draftFixture from '../fixtures/alert-draft.json';
import type { DynaliteStore } from './dynalite';
import { ManualClock, newUlid, RecordingLogger, RecordingQueue, ScriptedProvider, testConfig } from './fakes';
import type { residentsDeps } from './residents';

export const T0 = '2030-11-02T09:00:00.000Z';

/** An SMS provider that records each message and fails the addresses it is told to, a number of times. */
export class FakeSms implements ChannelProvider {
  readonly channel = 'sms' as const;
  readonly mode = 'real' as const;
  readonly sent: OutboundMessage[] = [];
  readonly failures = new Map<string, { times: number; error: ProviderError }>();
  /** Posts made before the test's crash, found by idempotency key. */
  readonly earlier = new Map<string, string>();
  lookups = 0;

  async send(message: OutboundMessage): Promise<ProviderAccepted> {
    const failure = this.failures.get(message.recipient);
    if (failure && failure.times > 0) {
      failure.times--;
      throw failure.error;
    }
    this.sent.push(message);
    return { providerMessageId: `sns-${this.sent.length}-${message.idempotencyKey.slice(-6)}` };
  }

  async lookup(idempotencyKey: string): Promise<ProviderAccepted | undefined> {
    this.lookups++;
    const id = this.earlier.get(idempotencyKey);
    return id ? { providerMessageId: id } : undefined;
  }
}

let zoneCounter = 0;
let phoneCounter = 0;
export const newZone = () => `bulk-zone-${zoneCounter++}`;

export class BulkRig {
  constructor(
    readonly db: DynaliteStore,
    readonly residents: Awaited<ReturnType<typeof residentsDeps>>,
  ) {}

  /**
   * Confirmed SMS residents of a zone of their own, created through the store as a sign-up leaves them; with
   * `quietHours`, each has that window.
   */
  async residentsOf(
    zone: string,
    count: number,
    language = 'en',
    quietHours?: QuietWindow,
  ): Promise<Subscriber[]> {
    const at = T0;
    const made: Subscriber[] = [];
    for (let i = 0; i < count; i++) {
      const phone = `+3462${String(phoneCounter++).padStart(7, '0')}`;
      const subscriber: Subscriber = {
        id: newUlid(),
        channel: 'sms',
        addressHash: await this.residents.pii.hash(phone),
        addressCipher: await this.residents.pii.encrypt(phone),
        addressMasked: maskPhone(phone),
        zones: [zone],
        language: i === 0 ? 'es' : language,
        status: 'confirmed',
        audience: 'public',
        ...(quietHours ? { quietHours } : {}),
        createdAt: at,
        updatedAt: at,
        confirmedAt: at,
      };
      expect((await this.residents.subscribers.createSubscriber(subscriber)).kind).toBe('created');
      made.push(subscriber);
    }
    return made;
  }

  /** An Actual SMS alert to `zone` with a Spanish translation, stored and dispatched: its jobs as queued. */
  async plannedAlert(
    zone: string,
    recipientsPerJob = 100,
  ): Promise<{ v1: StoredVersion; jobs: ChannelJob[] }> {
    const v1 = newAlert(
      AlertDraft.parse({
        ...structuredClone(draftFixture),
        areas: [{ zone, areaDesc: zone }],
        channels: ['sms'],
        translations: [{ language: 'es', headline: 'Aviso en español', description: 'Descripción.' }],
      }),
      {
        alertId: newUlid(),
        actor: { id: 'officer-1', roles: ['officer'] },
        now: new Date(T0),
        sender: 'alerts@herald.example',
        approvalSeverities: new Set(['Extreme']),
      },
    );
    expect(await this.db.store.putVersion(v1)).toBe('created');
    const queue = new RecordingQueue();
    await dispatchVersion(
      {
        store: this.db.store,
        subscribers: this.residents.subscribers,
        queue,
        config: testConfig({ recipientsPerJob }),
        clock: new ManualClock(T0),
        logger: new RecordingLogger(),
      },
      { alertId: v1.alertId, version: 1 },
    );
    return { v1, jobs: queue.bodies<ChannelJob>('channel-sms') };
  }

  harness(config: Parameters<typeof testConfig>[0] = {}) {
    const provider = new FakeSms();
    const queue = new RecordingQueue();
    const clock = new ManualClock(T0);
    const logger = new RecordingLogger();
    const deps: BulkDeps = {
      store: this.db.store,
      subscribers: this.residents.subscribers,
      pii: this.residents.pii,
      queue,
      provider,
      renderers: RENDERERS,
      sandbox: new ScriptedProvider('sms', 'sandbox'),
      config: testConfig({ providerTimeoutMs: 1000, maxReceives: 5, retryBaseMs: 2000, ...config }),
      clock,
      logger,
      newId: newUlid,
      pacer: () => UNPACED,
    };
    return { deps, provider, queue, clock, logger };
  }

  async receiptsOf(alertId: string) {
    return new Map((await this.db.store.listForAlert(alertId)).map((r) => [r.recipient, r]));
  }
}
