/**
 * What the API needs besides the alert store: the subscriber store on the same dynalite table, a PII cipher with a
 * key of its own in a temporary directory, the seeded zones, and a notifier that records what it was asked to send.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoSubscriberStore } from '../../functions/adapters/dynamo/subscriber-store';
import { LocalKeyCipher } from '../../functions/adapters/pii/local-key';
import { seededZones } from '../../functions/core/zones';
import type { Notice, Notifier } from '../../functions/ports';
import type { DynaliteStore } from './dynalite';

export class RecordingNotifier implements Notifier {
  readonly sent: Notice[] = [];
  async send(notice: Notice): Promise<void> {
    this.sent.push(notice);
  }
}

export async function residentsDeps(db: Pick<DynaliteStore, 'client' | 'tableName'>) {
  return {
    subscribers: new DynamoSubscriberStore({ client: db.client, tableName: db.tableName }),
    pii: await LocalKeyCipher.open(await mkdtemp(join(tmpdir(), 'herald-pii-'))),
    zones: seededZones(),
    notifier: new RecordingNotifier(),
  };
}
