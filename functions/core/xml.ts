/**
 * A strict, small XML 1.0 reader for documents from outside (CAP from other systems). It cannot resolve an
 * entity: it has no DTD support at all, so `<!DOCTYPE` is refused where it appears, and the only references it
 * knows are the five predefined entities and character references. It never opens a file or a connection
 * (there is no code here that could), ignores processing instructions (an `xml-stylesheet` is never fetched),
 * and bounds size, depth, element count and attributes, so a hostile document costs a linear scan at most.
 */
import { NOT_XML_CHARACTER } from '../../schemas/text';

export interface XmlElement {
  /** The name as written, with its prefix. */
  name: string;
  local: string;
  /** The namespace URI the prefix (or the default namespace) resolves to; '' when none. */
  ns: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  /** The element's own character data, concatenated (text and CDATA directly inside it). */
  text: string;
  line: number;
}

export interface XmlLimits {
  maxBytes: number;
  maxDepth: number;
  maxElements: number;
  maxAttributes: number;
}

export const DEFAULT_XML_LIMITS: XmlLimits = {
  maxBytes: 256 * 1024,
  maxDepth: 32,
  maxElements: 20_000,
  maxAttributes: 64,
};

/** Why a document was refused, with the line it was refused at. */
export class XmlRefused extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
    this.name = 'XmlRefused';
  }
}

const XML_NAMESPACE = 'http://www.w3.org/XML/1998/namespace';
const XINCLUDE_NAMESPACES = new Set(['http://www.w3.org/2001/XInclude', 'http://www.w3.org/2003/XInclude']);
const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
const NAME =
  /[A-Za-z_\u00C0-\uFFFF][\w.\-\u00B7\u00C0-\uFFFF]*(?::[A-Za-z_\u00C0-\uFFFF][\w.\-\u00B7\u00C0-\uFFFF]*)?/y;
/** Characters XML 1.0 does not allow: C0 controls other than tab, LF and CR, lone surrogates, U+FFFE and U+FFFF. */
const hasForbiddenCharacter = (s: string): boolean => NOT_XML_CHARACTER.test(s);

/** The encodings a CAP sender may declare; anything else is refused rather than guessed. */
const ENCODINGS: Record<string, string> = {
  'utf-8': 'utf-8',
  utf8: 'utf-8',
  'us-ascii': 'utf-8',
  ascii: 'utf-8',
  'iso-8859-1': 'iso-8859-1',
  latin1: 'iso-8859-1',
  'iso-8859-15': 'iso-8859-15',
  'windows-1252': 'windows-1252',
};

/** Decodes bytes by the encoding the XML declaration names (UTF-8 when it names none), refusing bad bytes. */
export function decodeXml(input: Uint8Array | string, maxBytes = DEFAULT_XML_LIMITS.maxBytes): string {
  if (typeof input === 'string') {
    if (Buffer.byteLength(input, 'utf8') > maxBytes)
      throw new XmlRefused(`the document is larger than ${maxBytes} bytes`, 1);
    return input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  }
  if (input.length > maxBytes) throw new XmlRefused(`the document is larger than ${maxBytes} bytes`, 1);
  if ((input[0] === 0xfe && input[1] === 0xff) || (input[0] === 0xff && input[1] === 0xfe))
    throw new XmlRefused('UTF-16 documents are not accepted; send UTF-8', 1);
  const head = Buffer.from(input.subarray(0, 200)).toString('latin1');
  const declared = /^(?:\uFEFF|\u00EF\u00BB\u00BF)?<\?xml[^?]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']/.exec(
    head,
  )?.[1];
  const label = declared === undefined ? 'utf-8' : ENCODINGS[declared.toLowerCase()];
  if (!label) throw new XmlRefused(`the encoding "${declared}" is not accepted; send UTF-8`, 1);
  try {
    return new TextDecoder(label, { fatal: true, ignoreBOM: false }).decode(input);
  } catch {
    throw new XmlRefused(`the document is not valid ${label}`, 1);
  }
}

/** Parses one XML document into its root element. Throws XmlRefused saying why and where. */
export function parseXml(input: Uint8Array | string, limits: XmlLimits = DEFAULT_XML_LIMITS): XmlElement {
  const source = decodeXml(input, limits.maxBytes);
  // XML end-of-line handling: CR LF and lone CR read as LF.
  const text = source.replace(/\r\n?/g, '\n');
  let pos = 0;
  let line = 1;
  let elements = 0;

  const fail = (message: string): never => {
    throw new XmlRefused(message, line);
  };
  const advance = (to: number) => {
    for (let i = pos; i < to; i++) if (text.charCodeAt(i) === 10) line++;
    pos = to;
  };
  const startsWith = (s: string) => text.startsWith(s, pos);
  const skipSpace = () => {
    const m = /\s*/y;
    m.lastIndex = pos;
    m.exec(text);
    advance(m.lastIndex);
  };
  const until = (end: string, what: string): string => {
    const at = text.indexOf(end, pos);
    if (at < 0) fail(`${what} is not closed`);
    const content = text.slice(pos, at);
    advance(at + end.length);
    return content;
  };
  const readName = (): string => {
    NAME.lastIndex = pos;
    const m = NAME.exec(text);
    if (!m) return fail('a name was expected');
    advance(NAME.lastIndex);
    return m[0];
  };
  const checkCharacters = (s: string) => {
    if (hasForbiddenCharacter(s)) fail('the document holds a character XML does not allow');
  };

  /** Replaces the predefined entities and character references; any other reference is refused, never looked up. */
  const resolveReferences = (raw: string): string => {
    checkCharacters(raw);
    if (!raw.includes('&')) return raw;
    return raw.replace(/&([^;&\s]{0,32});?/g, (whole, ref: string) => {
      if (!whole.endsWith(';')) return fail('a "&" must start an entity or character reference');
      if (ref.startsWith('#')) {
        const code = ref[1] === 'x' ? Number.parseInt(ref.slice(2), 16) : Number.parseInt(ref.slice(1), 10);
        const valid =
          /^#(x[0-9A-Fa-f]{1,6}|[0-9]{1,7})$/.test(ref) &&
          (code === 0x9 ||
            code === 0xa ||
            code === 0xd ||
            (code >= 0x20 && code <= 0xd7ff) ||
            (code >= 0xe000 && code <= 0xfffd) ||
            (code >= 0x10000 && code <= 0x10ffff));
        if (!valid) return fail(`the character reference &${ref}; is not an XML character`);
        return String.fromCodePoint(code);
      }
      const predefined = PREDEFINED[ref];
      if (predefined === undefined)
        return fail(`the entity &${ref}; is not defined: only XML's five predefined entities are accepted`);
      return predefined;
    });
  };

  /** The prolog and the space after the root: comments, processing instructions, and no DTD. */
  const skipMisc = () => {
    for (;;) {
      skipSpace();
      if (startsWith('<!--')) {
        advance(pos + 4);
        const body = until('-->', 'a comment');
        if (body.includes('--')) fail('a comment may not contain "--"');
      } else if (startsWith('<!DOCTYPE') || startsWith('<!doctype')) {
        fail('a DTD (<!DOCTYPE …>) is not accepted: it could declare entities or load external files');
      } else if (startsWith('<?')) {
        advance(pos + 2);
        const target = readName();
        if (target.toLowerCase() === 'xml') fail('the XML declaration must come first');
        // Processing instructions (xml-stylesheet…) are read past and never acted on.
        until('?>', 'a processing instruction');
      } else return;
    }
  };

  if (startsWith('<?xml') && /\s/.test(text[pos + 5] ?? '')) {
    const declaration = until('?>', 'the XML declaration');
    if (!/^<\?xml\s+version\s*=\s*["']1\.[0-9]+["']/.test(declaration))
      fail('the XML declaration must name version 1.x');
  }
  skipMisc();
  if (!startsWith('<')) fail('the document has no root element');

  type Scope = Map<string, string>;
  const rootScope: Scope = new Map([
    ['xml', XML_NAMESPACE],
    ['', ''],
  ]);

  const resolve = (name: string, scope: Scope, isAttribute: boolean): { local: string; ns: string } => {
    const colon = name.indexOf(':');
    if (colon < 0) return { local: name, ns: isAttribute ? '' : (scope.get('') ?? '') };
    const prefix = name.slice(0, colon);
    const ns = scope.get(prefix);
    if (ns === undefined) fail(`the prefix "${prefix}" is not declared`);
    return { local: name.slice(colon + 1), ns: ns ?? '' };
  };

  const readElement = (parentScope: Scope, depth: number): XmlElement => {
    if (depth > limits.maxDepth) fail(`elements are nested more than ${limits.maxDepth} deep`);
    if (++elements > limits.maxElements) fail(`the document has more than ${limits.maxElements} elements`);
    const startLine = line;
    advance(pos + 1); // <
    const name = readName();
    const attributes: Record<string, string> = {};
    let count = 0;
    for (;;) {
      const before = pos;
      skipSpace();
      if (startsWith('/>') || startsWith('>')) break;
      if (pos === before) fail(`a space is expected between the attributes of <${name}>`);
      const attribute = readName();
      skipSpace();
      if (text[pos] !== '=') fail(`the attribute ${attribute} of <${name}> has no value`);
      advance(pos + 1);
      skipSpace();
      const quote = text[pos];
      if (quote !== '"' && quote !== "'") fail(`the value of ${attribute} must be quoted`);
      advance(pos + 1);
      const raw = until(quote as string, `the value of ${attribute}`);
      if (raw.includes('<')) fail(`the value of ${attribute} may not contain "<"`);
      if (attribute in attributes) fail(`<${name}> repeats the attribute ${attribute}`);
      if (++count > limits.maxAttributes) fail(`<${name}> has more than ${limits.maxAttributes} attributes`);
      attributes[attribute] = resolveReferences(raw).replace(/[\t\n]/g, ' ');
    }
    let scope = parentScope;
    for (const [attribute, value] of Object.entries(attributes)) {
      if (attribute === 'xmlns' || attribute.startsWith('xmlns:')) {
        if (scope === parentScope) scope = new Map(parentScope);
        scope.set(attribute === 'xmlns' ? '' : attribute.slice(6), value);
      }
    }
    const { local, ns } = resolve(name, scope, false);
    if (XINCLUDE_NAMESPACES.has(ns)) fail(`XInclude (<${name}>) is not accepted`);
    for (const attribute of Object.keys(attributes))
      if (attribute !== 'xmlns' && !attribute.startsWith('xmlns:')) resolve(attribute, scope, true);
    const element: XmlElement = { name, local, ns, attributes, children: [], text: '', line: startLine };
    if (startsWith('/>')) {
      advance(pos + 2);
      return element;
    }
    advance(pos + 1); // >
    const parts: string[] = [];
    for (;;) {
      const next = text.indexOf('<', pos);
      if (next < 0) fail(`<${name}> is not closed`);
      if (next > pos) {
        const raw = text.slice(pos, next);
        if (raw.includes(']]>')) fail('"]]>" may not appear in text');
        parts.push(resolveReferences(raw));
        advance(next);
      }
      if (startsWith('</')) {
        advance(pos + 2);
        const closing = readName();
        if (closing !== name) fail(`<${name}> is closed by </${closing}>`);
        skipSpace();
        if (text[pos] !== '>') fail(`</${closing}> is not closed`);
        advance(pos + 1);
        break;
      }
      if (startsWith('<!--')) {
        advance(pos + 4);
        if (until('-->', 'a comment').includes('--')) fail('a comment may not contain "--"');
      } else if (startsWith('<![CDATA[')) {
        advance(pos + 9);
        const data = until(']]>', 'a CDATA section');
        checkCharacters(data);
        parts.push(data);
      } else if (startsWith('<!')) {
        fail('a DTD declaration (<!…>) is not accepted inside the document');
      } else if (startsWith('<?')) {
        advance(pos + 2);
        readName();
        until('?>', 'a processing instruction');
      } else element.children.push(readElement(scope, depth + 1));
    }
    element.text = parts.join('');
    return element;
  };

  const root = readElement(rootScope, 1);
  skipMisc();
  if (pos < text.length) fail('there is content after the root element');
  return root;
}
