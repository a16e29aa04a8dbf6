/**
 * The agency's zones: one file in the repository (seed/zones.json) is the only list, bundled into every function
 * that needs it, so the API, the fan-out and the keyword replies can never disagree on which zones exist.
 */
import seed from '../../seed/zones.json' with { type: 'json' };
import type { Zone } from '../ports';

export class ZoneCatalog {
  private readonly byId: ReadonlyMap<string, Zone>;

  constructor(readonly zones: readonly Zone[]) {
    const byId = new Map<string, Zone>();
    for (const zone of zones) {
      if (byId.has(zone.id)) throw new Error(`zone ${zone.id} is listed twice`);
      byId.set(zone.id, zone);
    }
    this.byId = byId;
  }

  get(id: string): Zone | undefined {
    return this.byId.get(id.toLowerCase());
  }

  has(id: string): boolean {
    return this.byId.has(id.toLowerCase());
  }

  /** The zone's name in a language (primary subtag), else its own name. */
  nameIn(id: string, language: string): string {
    const zone = this.get(id);
    if (!zone) return id;
    return zone.names?.[language.toLowerCase().split('-')[0]!] ?? zone.name;
  }
}

export const seededZones = (): ZoneCatalog => new ZoneCatalog(seed.zones as Zone[]);
