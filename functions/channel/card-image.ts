/**
 * Instagram needs an image: an alert without one gets an alert card, drawn on first use (satori and the wasm
 * renderer cost nothing until then) and stored content-addressed where the provider can fetch it.
 */
import type { StoredVersion } from '../core/model';
import type { ImageStore, PublicImage } from '../ports';

export function cardImageMaker(images: ImageStore, agencyName: string) {
  return async (version: StoredVersion): Promise<PublicImage> => {
    const [{ renderAlertCard }, { putImage }] = await Promise.all([
      import('../adapters/card/alert-card'),
      import('../adapters/images/key'),
    ]);
    const c = version.content;
    const card = await renderAlertCard({
      headline: c.headline,
      event: c.event,
      agencyName,
      severity: c.severity,
      msgType: version.msgType,
      language: c.language,
      areaDesc:
        c.areas
          .map((a) => a.areaDesc ?? a.zone)
          .filter(Boolean)
          .join(', ') || undefined,
      sent: version.sent,
    });
    const { url } = await putImage(images, card.bytes, 'image/jpeg');
    return { url, alt: card.alt, width: card.width, height: card.height };
  };
}
