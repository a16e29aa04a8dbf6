/**
 * The embedded mode's PII key: 32 random bytes in <dataDir>/pii.key (mode 0600), made on first start.
 * SKELETON: the implementation replaces these bodies.
 */
import type { PiiCipher } from '../../ports';

export class LocalKeyCipher implements PiiCipher {
  static async open(dataDir: string): Promise<LocalKeyCipher> {
    return new LocalKeyCipher(dataDir);
  }
  private constructor(private readonly dataDir: string) {}
  hash(_value: string): Promise<string> {
    throw new Error(`not implemented yet (${this.dataDir})`);
  }
  encrypt(_plain: string): Promise<string> {
    throw new Error('not implemented yet');
  }
  decrypt(_cipher: string): Promise<string> {
    throw new Error('not implemented yet');
  }
}
