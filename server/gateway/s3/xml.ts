import { S3Error } from './s3-errors.ts';

/** An element: its name and children (text, or more elements); undefined and null children are left out. */
export type XmlNode = [name: string, content: XmlContent];
export type XmlContent = string | number | boolean | undefined | null | Array<XmlNode | undefined | null | false>;

const S3_NAMESPACE = 'http://s3.amazonaws.com/doc/2006-03-01/';

/** An S3 response document: the declaration and a root element in S3's namespace. */
export function xmlDocument(root: string, content: XmlContent, namespace = true): string {
  const attributes = namespace ? ` xmlns="${S3_NAMESPACE}"` : '';
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root}${attributes}>${render(content)}</${root}>`;
}

function render(content: XmlContent): string {
  if (content === undefined || content === null) return '';
  if (Array.isArray(content)) return content.map((node) => (node ? `<${node[0]}>${render(node[1])}</${node[0]}>` : '')).join('');
  return escapeXml(String(content));
}

export function escapeXml(text: string): string {
  return text.replace(/[&<>"'\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, (c) => {
    switch (c) {
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '"':
        return '&quot;';
      case "'":
        return '&apos;';
      default:
        // Control characters are not allowed in XML 1.0 even as references; S3 keys may hold
        // them, so a listing asks for encoding-type=url to see them exactly.
        return `&#${c.charCodeAt(0)};`;
    }
  });
}

/**
 * A parsed request document. S3's request bodies (Delete, CompleteMultipartUpload,
 * CreateBucketConfiguration) are small flat trees of elements holding text, so this reads
 * exactly that: elements, text and entities, ignoring the declaration, comments and attributes.
 */
export interface XmlElement {
  name: string;
  text: string;
  children: XmlElement[];
}

/** The largest request document read: a Delete of 1,000 keys of 1,024 bytes, with room for markup. */
export const MAX_XML_BYTES = 2 * 1024 * 1024;

export function parseXml(source: string): XmlElement {
  const root: XmlElement = { name: '', text: '', children: [] };
  const stack: XmlElement[] = [root];
  // Sticky, and no token may run past a `<` where it cannot hold one: every token is tried only where
  // the last one ended, so a 2 MiB body of `<a<a<a…` or `<?<?…` fails in one pass instead of
  // backtracking for hours with the event loop held.
  const token = /<\?[\s\S]*?\?>|<!--[\s\S]*?-->|<!\[CDATA\[([\s\S]*?)\]\]>|<\/\s*([^\s<>]+)\s*>|<([^\s/<>!?]+)(?:\s[^<>]*?)?(\/?)>|([^<]+)/y;
  while (token.lastIndex < source.length) {
    const match = token.exec(source);
    if (!match) throw malformed();
    const top = stack[stack.length - 1]!;
    const [, cdata, close, open, selfClosing, text] = match;
    if (cdata !== undefined) top.text += cdata;
    else if (text !== undefined) top.text += decodeEntities(text);
    else if (open !== undefined) {
      const element: XmlElement = { name: localName(open), text: '', children: [] };
      top.children.push(element);
      if (!selfClosing) stack.push(element);
    } else if (close !== undefined) {
      if (stack.length < 2 || top.name !== localName(close)) throw malformed();
      stack.pop();
    }
  }
  if (stack.length !== 1 || root.children.length !== 1) throw malformed();
  return root.children[0]!;
}

export function child(element: XmlElement, name: string): XmlElement | undefined {
  return element.children.find((c) => c.name === name);
}

export function children(element: XmlElement, name: string): XmlElement[] {
  return element.children.filter((c) => c.name === name);
}

function localName(name: string): string {
  return name.slice(name.indexOf(':') + 1);
}

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);/g, (_, entity: string) => {
    if (entity.startsWith('#')) return codePoint(entity.startsWith('#x') ? parseInt(entity.slice(2), 16) : Number(entity.slice(1)));
    return { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }[entity]!;
  });
}

/** A character reference beyond Unicode (`&#x110000;`) is malformed XML, not a RangeError answered as a 500. */
function codePoint(value: number): string {
  if (!(value <= 0x10ffff)) throw malformed();
  return String.fromCodePoint(value);
}

function malformed(): S3Error {
  return new S3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema.');
}
