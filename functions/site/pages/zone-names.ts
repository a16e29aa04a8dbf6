/**
 * An area that names only a zone is read by its id in the stored alert (`gracia`); on the site it is named as the
 * map's list names it, in the page's language, before the shared renderers see it.
 */
import type { StoredVersion } from '../../core/model';
import type { ZoneCatalog } from '../../core/zones';

export function withZoneNames(version: StoredVersion, zones: ZoneCatalog, language: string): StoredVersion {
  const areas = version.content.areas.map((a) =>
    a.areaDesc !== undefined || a.zone === undefined ? a : { ...a, areaDesc: zones.nameIn(a.zone, language) },
  );
  return { ...version, content: { ...version.content, areas } };
}
