/**
 * CAP 1.2 XML → a parsed CAP message, read with the strict reader in ./xml (no DTD, no entities, no includes,
 * no I/O, bounded). Every value keeps the path of the element it came from (a JSON Pointer such as
 * `/alert/info/0/area/1/polygon`), so each later complaint can name the element it is about.
 *
 * This reads what is there; whether it is all there and in order is the schema's job (./cap-schema) and what the
 * schema cannot say is ./cap-rules' job.
 */
import { CAP_NAMESPACE } from './cap';
import { parseXml, type XmlElement, XmlRefused } from './xml';

export const CAP_11_NAMESPACE = 'urn:oasis:names:tc:emergency:cap:1.1';
export const CAP_10_NAMESPACE = 'http://www.incident.com/cap/1.0';

/** A value and the element it was read from. */
export interface Located<T = string> {
  value: T;
  path: string;
}

export interface CapGeocode {
  valueName: string;
  value: string;
}

export interface CapArea {
  path: string;
  areaDesc?: Located | undefined;
  polygons: Located[];
  circles: Located[];
  geocodes: CapGeocode[];
  altitude?: Located | undefined;
  ceiling?: Located | undefined;
}

export interface CapResource {
  path: string;
  resourceDesc?: Located | undefined;
  mimeType?: Located | undefined;
  size?: Located | undefined;
  uri?: Located | undefined;
  derefUri?: Located | undefined;
  digest?: Located | undefined;
}

export interface CapInfo {
  path: string;
  /** CAP's default when absent is en-US. */
  language: Located;
  categories: Located[];
  event?: Located | undefined;
  responseTypes: Located[];
  urgency?: Located | undefined;
  severity?: Located | undefined;
  certainty?: Located | undefined;
  audience?: Located | undefined;
  effective?: Located | undefined;
  onset?: Located | undefined;
  expires?: Located | undefined;
  senderName?: Located | undefined;
  headline?: Located | undefined;
  description?: Located | undefined;
  instruction?: Located | undefined;
  web?: Located | undefined;
  contact?: Located | undefined;
  parameters: CapGeocode[];
  resources: CapResource[];
  areas: CapArea[];
}

export interface CapMessage {
  identifier?: Located | undefined;
  sender?: Located | undefined;
  sent?: Located | undefined;
  status?: Located | undefined;
  msgType?: Located | undefined;
  source?: Located | undefined;
  scope?: Located | undefined;
  restriction?: Located | undefined;
  addresses?: Located | undefined;
  note?: Located | undefined;
  /** As written; ./cap-rules checks each is "sender,identifier,sent". */
  references?: Located | undefined;
  incidents?: Located | undefined;
  infos: CapInfo[];
  /** Whether an XML digital signature travels with it (kept out of the round trip; Herald signs nothing). */
  signed: boolean;
  /** Every CAP element by line, for naming the element a schema error reports only by line and name. */
  elements: { line: number; local: string; path: string }[];
}

/** Why CAP was refused: one entry per element at fault. */
export interface CapProblem {
  path: string;
  message: string;
}

export class CapRefused extends Error {
  constructor(
    readonly problems: CapProblem[],
    /** `unsupported`: not CAP 1.2 (CAP 1.1, another document); `malformed`: not acceptable XML; `invalid`: CAP that breaks the schema or the rules. */
    readonly kind: 'malformed' | 'unsupported' | 'invalid',
  ) {
    super(problems.map((p) => `${p.path || '(document)'}: ${p.message}`).join('; '));
    this.name = 'CapRefused';
  }
}

const DSIG_NAMESPACE = 'http://www.w3.org/2000/09/xmldsig#';

/** Parses CAP 1.2 XML. Refuses (CapRefused) what is not well-formed, hostile, or not CAP 1.2. */
export function parseCap(input: Uint8Array | string): CapMessage {
  let root: XmlElement;
  try {
    root = parseXml(input);
  } catch (error) {
    if (error instanceof XmlRefused)
      throw new CapRefused([{ path: '', message: `${error.message} (line ${error.line})` }], 'malformed');
    throw error;
  }
  if (
    root.local !== 'alert' ||
    (root.ns !== CAP_NAMESPACE && root.ns !== CAP_11_NAMESPACE && root.ns !== CAP_10_NAMESPACE)
  )
    throw new CapRefused(
      [
        {
          path: '/alert',
          message: `the root element must be <alert xmlns="${CAP_NAMESPACE}">, not <${root.name}> in "${root.ns}"`,
        },
      ],
      'unsupported',
    );
  if (root.ns !== CAP_NAMESPACE)
    throw new CapRefused(
      [
        {
          path: '/alert',
          message: `CAP ${root.ns === CAP_11_NAMESPACE ? '1.1' : '1.0'} is not accepted (it is refused, not upgraded): send CAP 1.2, namespace ${CAP_NAMESPACE}`,
        },
      ],
      'unsupported',
    );

  const elements: CapMessage['elements'] = [];
  const capChildren = (parent: XmlElement, parentPath: string) => {
    const counts = new Map<string, number>();
    return parent.children
      .filter((c) => c.ns === CAP_NAMESPACE)
      .map((c) => {
        const n = counts.get(c.local) ?? 0;
        counts.set(c.local, n + 1);
        return {
          element: c,
          index: n,
          path: `${parentPath}/${c.local}`,
          indexedPath: `${parentPath}/${c.local}/${n}`,
        };
      });
  };
  const record = (e: XmlElement, path: string) => elements.push({ line: e.line, local: e.local, path });

  const readChildren = (parent: XmlElement, parentPath: string, repeated: ReadonlySet<string>) => {
    const single = new Map<string, Located>();
    const many = new Map<string, { element: XmlElement; path: string }[]>();
    for (const c of capChildren(parent, parentPath)) {
      const path = repeated.has(c.element.local) ? c.indexedPath : c.path;
      record(c.element, path);
      if (repeated.has(c.element.local)) {
        const list = many.get(c.element.local) ?? [];
        list.push({ element: c.element, path });
        many.set(c.element.local, list);
      } else if (!single.has(c.element.local)) single.set(c.element.local, { value: c.element.text, path });
    }
    return {
      one: (name: string) => single.get(name),
      all: (name: string) => many.get(name) ?? [],
      values: (name: string) => (many.get(name) ?? []).map((m) => ({ value: m.element.text, path: m.path })),
    };
  };
  const pairs = (list: { element: XmlElement; path: string }[]): CapGeocode[] =>
    list.map(({ element, path }) => {
      const r = readChildren(element, path, new Set());
      return { valueName: r.one('valueName')?.value ?? '', value: r.one('value')?.value ?? '' };
    });

  record(root, '/alert');
  const alert = readChildren(root, '/alert', new Set(['code', 'info']));
  const infos = alert.all('info').map(({ element, path }): CapInfo => {
    const r = readChildren(
      element,
      path,
      new Set(['category', 'responseType', 'eventCode', 'parameter', 'resource', 'area']),
    );
    return {
      path,
      language: r.one('language') ?? { value: 'en-US', path: `${path}/language` },
      categories: r.values('category'),
      event: r.one('event'),
      responseTypes: r.values('responseType'),
      urgency: r.one('urgency'),
      severity: r.one('severity'),
      certainty: r.one('certainty'),
      audience: r.one('audience'),
      effective: r.one('effective'),
      onset: r.one('onset'),
      expires: r.one('expires'),
      senderName: r.one('senderName'),
      headline: r.one('headline'),
      description: r.one('description'),
      instruction: r.one('instruction'),
      web: r.one('web'),
      contact: r.one('contact'),
      parameters: pairs(r.all('parameter')),
      resources: r.all('resource').map(({ element: e, path: p }) => {
        const res = readChildren(e, p, new Set());
        return {
          path: p,
          resourceDesc: res.one('resourceDesc'),
          mimeType: res.one('mimeType'),
          size: res.one('size'),
          uri: res.one('uri'),
          derefUri: res.one('derefUri'),
          digest: res.one('digest'),
        };
      }),
      areas: r.all('area').map(({ element: e, path: p }) => {
        const a = readChildren(e, p, new Set(['polygon', 'circle', 'geocode']));
        return {
          path: p,
          areaDesc: a.one('areaDesc'),
          polygons: a.values('polygon'),
          circles: a.values('circle'),
          geocodes: pairs(a.all('geocode')),
          altitude: a.one('altitude'),
          ceiling: a.one('ceiling'),
        };
      }),
    };
  });
  return {
    identifier: alert.one('identifier'),
    sender: alert.one('sender'),
    sent: alert.one('sent'),
    status: alert.one('status'),
    msgType: alert.one('msgType'),
    source: alert.one('source'),
    scope: alert.one('scope'),
    restriction: alert.one('restriction'),
    addresses: alert.one('addresses'),
    note: alert.one('note'),
    references: alert.one('references'),
    incidents: alert.one('incidents'),
    infos,
    signed: root.children.some((c) => c.ns === DSIG_NAMESPACE && c.local === 'Signature'),
    elements,
  };
}

/** The path of the element a schema validator reported by line and local name, else the alert itself. */
export function pathAtLine(message: CapMessage, line: number | undefined, local: string | undefined): string {
  const candidates = message.elements.filter((e) => e.line === line);
  return (
    candidates.find((e) => e.local === local)?.path ??
    message.elements.find((e) => e.local === local)?.path ??
    candidates.at(-1)?.path ??
    '/alert'
  );
}
