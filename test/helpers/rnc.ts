/**
 * RELAX NG compact syntax → RELAX NG XML syntax, for the subset the Atom grammar (RFC 4287, appendix B) uses, so
 * libxml2 (xmllint-wasm, which reads only the XML syntax) can validate against test/fixtures/cap/schema/atom_rfc4287.rng
 * with nothing but npm. Annotations (the Schematron rules in [ … ]) are dropped: xmllint would not run them.
 */
const RNG = 'http://relaxng.org/ns/structure/1.0';
const XSD_TYPES = 'http://www.w3.org/2001/XMLSchema-datatypes';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');

function tokenize(source: string): string[] {
  const tokens: string[] = [];
  const re =
    /\s+|#[^\n]*|"((?:[^"\\]|\\.)*)"|[A-Za-z_][\w.-]*(?::(?:[A-Za-z_][\w.-]*|\*))?|[=[\]{}()|,&?*+~-]/gy;
  let m: RegExpExecArray | null;
  while (re.lastIndex < source.length) {
    const at = re.lastIndex;
    m = re.exec(source);
    if (!m || re.lastIndex === at) throw new Error(`rnc: cannot read at ${source.slice(at, at + 20)}`);
    if (/^\s|^#/.test(m[0])) continue;
    tokens.push(m[0]);
  }
  return tokens;
}

export function rncToRng(source: string): string {
  const tokens = tokenize(source);
  const ns: Record<string, string> = { xml: 'http://www.w3.org/XML/1998/namespace', local: '' };
  let i = 0;
  const peek = () => tokens[i];
  const next = () => {
    const t = tokens[i++];
    if (t === undefined) throw new Error('rnc: unexpected end');
    return t;
  };
  const expect = (t: string) => {
    const got = next();
    if (got !== t) throw new Error(`rnc: expected ${t}, got ${got}`);
  };
  const str = (t: string) => JSON.parse(t) as string;
  const skipAnnotation = () => {
    let depth = 0;
    do {
      const t = next();
      if (t === '[') depth++;
      else if (t === ']') depth--;
    } while (depth > 0);
  };

  const nameClassPrimary = (attribute: boolean): string => {
    const t = next();
    if (t === '*') return '<anyName/>';
    if (t === '(') {
      const parts = [nameClass(attribute)];
      while (peek() === '|') {
        next();
        parts.push(nameClass(attribute));
      }
      expect(')');
      return parts.length === 1 ? parts[0]! : `<choice>${parts.join('')}</choice>`;
    }
    const [prefix, local] = t.includes(':') ? t.split(':') : [undefined, t];
    const uri = prefix === undefined ? '' : ns[prefix];
    if (uri === undefined) throw new Error(`rnc: unknown prefix ${prefix}`);
    if (local === '*') return `<nsName ns="${esc(uri)}"/>`;
    return `<name ns="${esc(uri)}">${esc(local!)}</name>`;
  };
  const nameClass = (attribute: boolean): string => {
    const base = nameClassPrimary(attribute);
    if (peek() !== '-') return base;
    next();
    const except = nameClassPrimary(attribute);
    const tag = /^<(\w+)/.exec(base)?.[1];
    return base.replace(/\/>$/, `><except>${except}</except></${tag}>`);
  };

  const primary = (): string => {
    while (peek() === '[') skipAnnotation();
    const t = next();
    if (t === 'element' || t === 'attribute') {
      const nc = nameClass(t === 'attribute');
      expect('{');
      const body = pattern();
      expect('}');
      return `<${t}>${nc}${body}</${t}>`;
    }
    if (t === 'text' || t === 'empty' || t === 'notAllowed') return `<${t}/>`;
    if (t === '(') {
      const body = pattern();
      expect(')');
      return body;
    }
    if (t.startsWith('"')) return `<value>${esc(str(t))}</value>`;
    if (t.startsWith('xsd:')) {
      const params: string[] = [];
      if (peek() === '{') {
        next();
        while (peek() !== '}') {
          const name = next();
          expect('=');
          let value = str(next());
          while (peek() === '~') {
            next();
            value += str(next());
          }
          params.push(`<param name="${esc(name)}">${esc(value)}</param>`);
        }
        next();
      }
      return `<data type="${esc(t.slice(4))}">${params.join('')}</data>`;
    }
    return `<ref name="${esc(t)}"/>`;
  };
  const particle = (): string => {
    let p = primary();
    while (peek() === '?' || peek() === '*' || peek() === '+') {
      const op = next();
      p = `<${{ '?': 'optional', '*': 'zeroOrMore', '+': 'oneOrMore' }[op]}>${p}</${{ '?': 'optional', '*': 'zeroOrMore', '+': 'oneOrMore' }[op]}>`;
    }
    return p;
  };
  function pattern(): string {
    const parts = [particle()];
    let op: string | undefined;
    while (peek() === '|' || peek() === ',' || peek() === '&') {
      const o = next();
      if (op && o !== op) throw new Error('rnc: mixed operators need parentheses');
      op = o;
      parts.push(particle());
    }
    if (!op) return parts[0]!;
    const tag = { '|': 'choice', ',': 'group', '&': 'interleave' }[op]!;
    return `<${tag}>${parts.join('')}</${tag}>`;
  }

  const defines: string[] = [];
  while (i < tokens.length) {
    if (peek() === 'namespace') {
      next();
      const prefix = next();
      expect('=');
      ns[prefix] = str(next());
      continue;
    }
    const name = next();
    expect('=');
    const body = pattern();
    defines.push(
      name === 'start' ? `<start>${body}</start>` : `<define name="${esc(name)}">${body}</define>`,
    );
  }
  return `<?xml version="1.0" encoding="UTF-8"?>\n<grammar xmlns="${RNG}" datatypeLibrary="${XSD_TYPES}">${defines.join('\n')}</grammar>\n`;
}
