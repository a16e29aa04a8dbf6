/**
 * Instagram needs an image: an alert without one gets an alert card, drawn on first use (satori and the wasm
 * renderer cost nothing until then) and stored content-addressed where the provider can fetch it.
 */
import type { AlertCard } from '../adapters/card/alert-card';
import type { StoredVersion } from '../core/model';
import { inLanguage } from '../core/render/version';
import type { ImageStore, PublicImage } from '../ports';

/** Draws the card of a version, in one of its languages (the alert's own by default). */
export async function drawCard(
  version: StoredVersion,
  agencyName: string,
  language?: string,
): Promise<AlertCard> {
  const { renderAlertCard } = await import('../adapters/card/alert-card');
  const c = language ? inLanguage(version.content, language) : version.content;
  return renderAlertCard({
    headline: c.headline,
    event: c.event,
    agencyName,
    severity: c.severity,
    msgType: version.msgType,
    language: language ?? c.language,
    areaDesc:
      c.areas
        .map((a) => a.areaDesc ?? a.zone)
        .filter(Boolean)
        .join(', ') || undefined,
    sent: version.sent,
  });
}

export function cardImageMaker(images: ImageStore, agencyName: string) {
  return async (version: StoredVersion): Promise<PublicImage> => {
    const { putImage } = await import('../adapters/images/key');
    const card = await drawCard(version, agencyName);
    const { url } = await putImage(images, card.bytes, 'image/jpeg');
    return { url, alt: card.alt, width: card.width, height: card.height };
  };
}
