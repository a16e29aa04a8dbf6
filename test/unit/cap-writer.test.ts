/**
 * The CAP writer's output is checked the way a receiving system would check it: against the OASIS CAP 1.2
 * schema (test/fixtures/cap/schema), with a validator that installs from npm alone (xmllint compiled to wasm).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validateXML } from 'xmllint-wasm';
import { cancelAlert, newAlert, updateAlert, type VersionContext } from '../../functions/core/alerts';
import { CAP_NAMESPACE, escapeXml, toCapXml } from '../../functions/core/cap';
import { AlertDraft } from '../../schemas/alert';
import { readCapXsd } from '../helpers/cap-fixtures';

const XSD = readCapXsd();

async function schemaErrors(xml: string): Promise<string[]> {
  const result = await validateXML({
    xml: [{ fileName: 'alert.cap', contents: xml }],
    schema: [{ fileName: 'CAP-v1.2.xsd', contents: XSD }],
  });
  return result.errors.map((e) => e.message);
}

const ctx = (now = '2026-11-21T07:00:00.000Z'): VersionContext => ({
  alertId: '01M7YF2673YEYXB5H183X6NVSE',
  actor: { id: 'officer-1', roles: ['officer'] },
  now: new Date(now),
  sender: 'alerts@police.example.org',
  approvalSeverities: new Set(),
});

const draft = AlertDraft.parse({
  status: 'Actual',
  category: 'Rescue',
  event: 'Missing person',
  urgency: 'Immediate',
  severity: 'Severe',
  certainty: 'Observed',
  headline: 'Missing child <b>"age 7"</b> & dog',
  description: "Last seen near the harbour at 15:00, wearing a red coat. Call 112 if you've seen them.",
  instruction: 'Do not approach; call 112.',
  language: 'en',
  translations: [
    { language: 'ca', headline: 'Nen desaparegut', description: 'Vist per última vegada al port.' },
    {
      language: 'es',
      event: 'Persona desaparecida',
      headline: 'Niño desaparecido',
      description: 'Visto por última vez en el puerto.',
    },
  ],
  areas: [
    { zone: 'ciutat-vella' },
    { areaDesc: 'Harbour', polygon: '41.37,2.17 41.38,2.18 41.36,2.19 41.37,2.17' },
    { areaDesc: 'Around the station', circle: { center: [41.38, 2.14], radiusKm: 1.5 } },
  ],
  channels: ['x', 'email'],
  expires: '2026-11-22T07:00:00+01:00',
  web: 'https://police.example.org/alerts/missing?id=1&lang=en',
  contact: 'Duty desk, +34 900 000 000',
  image: { url: 'https://police.example.org/img/child.jpg', alt: 'Photo of the missing child' },
});

const options = {
  agencyName: 'Police & Rescue <Ciutat>',
  zoneName: (id: string) => (id === 'ciutat-vella' ? 'Ciutat Vella' : undefined),
};

describe('toCapXml', () => {
  it('writes a schema-valid CAP 1.2 alert with one <info> per language, areas and a resource', async () => {
    const v1 = newAlert(draft, ctx());
    const xml = toCapXml(v1, options);
    expect(await schemaErrors(xml)).toEqual([]);
    expect(xml).toContain(`<alert xmlns="${CAP_NAMESPACE}">`);
    expect(xml.match(/<info>/g)).toHaveLength(3);
    expect(xml).toContain('<language>es</language>');
    expect(xml).toContain('<event>Persona desaparecida</event>');
    expect(xml).toContain('<areaDesc>Ciutat Vella</areaDesc>');
    expect(xml).toContain('<polygon>41.37,2.17 41.38,2.18 41.36,2.19 41.37,2.17</polygon>');
    expect(xml).toContain('<circle>41.38,2.14 1.5</circle>');
    expect(xml).toContain('<expires>2026-11-22T06:00:00-00:00</expires>');
  });

  it('writes effective, onset and expires in CAP order, each in UTC with "-00:00" and no fraction', async () => {
    // Prepare: three offsets, one with a fraction of a second
    const timed = AlertDraft.parse({
      ...draft,
      effective: '2026-11-21T08:00:00.750+01:00',
      onset: '2026-11-21T09:30:00-05:00',
      expires: '2026-11-22T07:00:00+05:30',
    });

    // Act
    const xml = toCapXml(newAlert(timed, ctx()), options);

    // Assess
    expect(await schemaErrors(xml)).toEqual([]);
    const info = xml.slice(xml.indexOf('<info>'), xml.indexOf('</info>'));
    expect(info.match(/<(effective|onset|expires|certainty|senderName)>/g)).toEqual([
      '<certainty>',
      '<effective>',
      '<onset>',
      '<expires>',
      '<senderName>',
    ]);
    expect(info).toContain('<effective>2026-11-21T07:00:00-00:00</effective>');
    expect(info).toContain('<onset>2026-11-21T14:30:00-00:00</onset>');
    expect(info).toContain('<expires>2026-11-22T01:30:00-00:00</expires>');
    // Every <info> (one per language) carries the same times.
    expect(xml.match(/<onset>2026-11-21T14:30:00-00:00<\/onset>/g)).toHaveLength(3);
  });

  it('leaves out a time the alert does not give', () => {
    const { expires: _e, ...untimed } = draft;
    const xml = toCapXml(newAlert(AlertDraft.parse(untimed), ctx()), options);
    expect(xml).not.toMatch(/<(effective|onset|expires)>/);
  });

  it('escapes everything an officer typed, so no text becomes markup', async () => {
    const xml = toCapXml(newAlert(draft, ctx()), options);
    expect(xml).toContain(
      '<headline>Missing child &lt;b&gt;&quot;age 7&quot;&lt;/b&gt; &amp; dog</headline>',
    );
    expect(xml).toContain('<senderName>Police &amp; Rescue &lt;Ciutat&gt;</senderName>');
    expect(xml).toContain('<web>https://police.example.org/alerts/missing?id=1&amp;lang=en</web>');
    expect(xml).not.toContain('<b>');
  });

  it('writes updates and cancels with msgType, references to every earlier message, and the cancel reason as note', async () => {
    const v1 = { ...newAlert(draft, ctx()), dispatchStatus: 'planned' as const };
    const v2 = {
      ...updateAlert([v1], { headline: 'Child found safe' }, ctx('2026-11-21T08:00:00.000Z')),
      dispatchStatus: 'planned' as const,
    };
    const v3 = cancelAlert([v1, v2], { reason: 'Found safe, thank you' }, ctx('2026-11-21T09:00:00.000Z'));
    const update = toCapXml(v2, options);
    const cancel = toCapXml(v3, options);
    expect(await schemaErrors(update)).toEqual([]);
    expect(await schemaErrors(cancel)).toEqual([]);
    expect(update).toContain('<msgType>Update</msgType>');
    expect(update).toContain(
      `<references>alerts@police.example.org,${v1.identifier},${v1.sent}</references>`,
    );
    expect(cancel).toContain('<msgType>Cancel</msgType>');
    expect(cancel).toContain('<note>Found safe, thank you</note>');
    expect(cancel.match(/<references>(.*)<\/references>/)?.[1]?.split(' ')).toHaveLength(2);
  });

  it('answers schema-valid CAP for any valid draft (property)', async () => {
    // Drafts the API would refuse (blank text, control characters) are skipped by the parse below.
    const text = fc.string({ minLength: 1, maxLength: 60 });
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          headline: text,
          description: text,
          event: text,
          severity: fc.constantFrom('Extreme', 'Severe', 'Moderate', 'Minor', 'Unknown'),
          language: fc.constantFrom('en', 'ca', 'es-ES', 'fr'),
        }),
        async (fields) => {
          const parsed = AlertDraft.safeParse({ ...draft, ...fields, translations: [], image: undefined });
          fc.pre(parsed.success);
          if (!parsed.success) return;
          const xml = toCapXml(newAlert(parsed.data, ctx()), options);
          expect(await schemaErrors(xml)).toEqual([]);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('escapes the five XML specials', () => {
    expect(escapeXml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;');
  });
});
