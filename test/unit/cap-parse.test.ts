/**
 * The strict CAP reader: what it reads, and what it refuses without ever resolving an entity, opening a file
 * or a connection.
 */
import { describe, expect, it } from 'vitest';
import { CapRefused, parseCap } from '../../functions/core/cap-parse';
import { capRuleProblems } from '../../functions/core/cap-rules';
import { parseXml, XmlRefused } from '../../functions/core/xml';

const CAP = 'urn:oasis:names:tc:emergency:cap:1.2';

const alertXml = (inner: string, info = '') => `<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="${CAP}">
  <identifier>KSTO1055887203</identifier>
  <sender>KSTO@NWS.NOAA.GOV</sender>
  <sent>2003-06-17T14:57:00-07:00</sent>
  <status>Actual</status>
  ${inner}
  <scope>Public</scope>
  ${info}
</alert>`;

const refusal = (input: string): CapRefused => {
  try {
    parseCap(input);
  } catch (error) {
    if (error instanceof CapRefused) return error;
    throw error;
  }
  throw new Error('the document was accepted');
};

describe('parseCap', () => {
  it('reads the message, its infos and areas, each value with the path of its element', () => {
    const message = parseCap(
      alertXml(
        '<msgType>Alert</msgType>',
        `<info><language>es-ES</language><category>Met</category><category>Safety</category><event>Tormenta</event>
        <urgency>Immediate</urgency><severity>Severe</severity><certainty>Observed</certainty>
        <headline>Tormenta &amp; granizo &#x2014; &lt;aviso&gt;</headline>
        <area><areaDesc><![CDATA[Zona <norte>]]></areaDesc><polygon>1,1 1,2 2,2 1,1</polygon><circle>1,1 0.5</circle>
        <geocode><valueName>SAME</valueName><value>006109</value></geocode></area></info>`,
      ),
    );
    expect(message.msgType?.value).toBe('Alert');
    const [info] = message.infos;
    expect(info?.categories.map((c) => c.value)).toEqual(['Met', 'Safety']);
    expect(info?.headline).toEqual({ value: 'Tormenta & granizo — <aviso>', path: '/alert/info/0/headline' });
    expect(info?.areas[0]?.areaDesc?.value).toBe('Zona <norte>');
    expect(info?.areas[0]?.polygons[0]?.path).toBe('/alert/info/0/area/0/polygon/0');
    expect(info?.areas[0]?.geocodes).toEqual([{ valueName: 'SAME', value: '006109' }]);
  });

  it('reads a prefixed CAP namespace as well as the default one', () => {
    const message = parseCap(
      `<cap:alert xmlns:cap="${CAP}"><cap:identifier>a</cap:identifier><cap:msgType>Alert</cap:msgType></cap:alert>`,
    );
    expect(message.identifier?.value).toBe('a');
  });

  it('decodes a document by the encoding its declaration names', () => {
    const latin1 = Buffer.from(
      alertXml('<msgType>Alert</msgType><note>Séisme à Montréal</note>').replace('UTF-8', 'ISO-8859-1'),
      'latin1',
    );
    expect(parseCap(latin1).note?.value).toBe('Séisme à Montréal');
  });

  it('refuses a DTD, so no entity can be declared, expanded or fetched', () => {
    const bomb = `<?xml version="1.0"?>
<!DOCTYPE alert [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<alert xmlns="${CAP}"><note>&lol9;</note></alert>`;
    const refused = refusal(bomb);
    expect(refused.kind).toBe('malformed');
    expect(refused.problems[0]?.message).toMatch(/DTD .* is not accepted/);
  });

  it('refuses a reference to an entity that was never declared, instead of looking it up', () => {
    expect(refusal(alertXml('<msgType>Alert</msgType><note>&xxe;</note>')).problems[0]?.message).toMatch(
      /entity &xxe; is not defined/,
    );
  });

  it('refuses XInclude', () => {
    const refused = refusal(
      alertXml(
        '<msgType>Alert</msgType><x xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="file:///etc/passwd"/></x>',
      ),
    );
    expect(refused.problems[0]?.message).toMatch(/XInclude/);
  });

  it('refuses documents nested too deep, with too many elements, or too large', () => {
    expect(() => parseXml(`${'<a>'.repeat(40)}${'</a>'.repeat(40)}`)).toThrow(/nested more than 32 deep/);
    expect(() => parseXml(`<a>${'<b/>'.repeat(20_001)}</a>`)).toThrow(/more than 20000 elements/);
    expect(() => parseXml(`<a>${'x'.repeat(300 * 1024)}</a>`)).toThrow(XmlRefused);
  });

  it('refuses what is not well-formed, saying where', () => {
    expect(() => parseXml('<a><b></a>')).toThrow(/<b> is closed by <\/a>/);
    expect(() => parseXml('<a x="1" x="2"/>')).toThrow(/repeats the attribute/);
    expect(() => parseXml('<a>\u0001</a>')).toThrow(/character XML does not allow/);
    expect(() => parseXml('<a/><b/>')).toThrow(/content after the root/);
    expect(() => parseXml('<p:a/>')).toThrow(/prefix "p" is not declared/);
  });

  it('refuses CAP 1.1, saying it is refused rather than upgraded', () => {
    const refused = refusal(
      '<alert xmlns="urn:oasis:names:tc:emergency:cap:1.1"><identifier>a</identifier></alert>',
    );
    expect(refused.kind).toBe('unsupported');
    expect(refused.problems[0]).toEqual({
      path: '/alert',
      message: expect.stringMatching(/CAP 1\.1 is not accepted \(it is refused, not upgraded\)/),
    });
  });

  it('refuses a document that is not a CAP alert', () => {
    expect(refusal('<feed xmlns="http://www.w3.org/2005/Atom"/>').problems[0]?.path).toBe('/alert');
  });
});

describe('capRuleProblems', () => {
  const info = (area: string, extra = '') =>
    `<info><category>Met</category><event>e</event><urgency>Past</urgency><severity>Minor</severity><certainty>Observed</certainty>${extra}<area><areaDesc>x</areaDesc>${area}</area></info>`;

  it('names each element that breaks a rule the schema cannot express', () => {
    const message = parseCap(
      alertXml(
        '<msgType>Update</msgType>',
        info(
          '<polygon>1,1 1,2 2,2</polygon><polygon>1,1 1,2 2,2 3,3</polygon><polygon>1,1 1,200 2,2 1,1</polygon><circle>1,1 -2</circle>',
          '<expires>2003-06-17T15:57:00Z</expires>',
        ),
      ),
    );
    expect(capRuleProblems(message)).toEqual([
      {
        path: '/alert/references',
        message: expect.stringMatching(/an Update must name the messages it refers to/),
      },
      { path: '/alert/info/0/expires', message: expect.stringMatching(/numeric offset/) },
      { path: '/alert/info/0/area/0/polygon/0', message: expect.stringMatching(/at least 4 points/) },
      { path: '/alert/info/0/area/0/polygon/1', message: expect.stringMatching(/must be closed/) },
      { path: '/alert/info/0/area/0/polygon/2', message: expect.stringMatching(/longitude -180..180/) },
      { path: '/alert/info/0/area/0/circle/0', message: 'the radius must not be negative' },
    ]);
  });

  it('accepts references written as sender,identifier,sent and refuses malformed ones', () => {
    const ok = parseCap(
      alertXml('<msgType>Cancel</msgType><references>a@b,ID-1,2003-06-17T14:00:00-07:00</references>'),
    );
    const bad = parseCap(alertXml('<msgType>Cancel</msgType><references>a@b,ID-1</references>'));
    expect(capRuleProblems(ok)).toEqual([]);
    expect(capRuleProblems(bad)).toEqual([
      { path: '/alert/references', message: expect.stringMatching(/sender,identifier,sent/) },
    ]);
  });
});
