import assert from 'node:assert/strict';
import { test } from 'node:test';
import { S3Error } from './s3-errors.ts';
import { child, children, parseXml, xmlDocument } from './xml.ts';

test('a Delete document parses: namespaces, entities, CDATA, self-closing elements', () => {
  const doc = parseXml(
    '<?xml version="1.0" encoding="UTF-8"?>\n<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Quiet>true</Quiet>' +
      '<Object><Key>a &amp; b &lt;c&gt; &#x263A;</Key><VersionId/></Object><Object><Key><![CDATA[<raw>]]></Key></Object></Delete>',
  );
  assert.equal(doc.name, 'Delete');
  assert.equal(child(doc, 'Quiet')?.text, 'true');
  assert.deepEqual(children(doc, 'Object').map((o) => child(o, 'Key')?.text), ['a & b <c> ☺', '<raw>']);
});

test('documents that are not well-formed are MalformedXML', () => {
  for (const bad of ['<Delete><Object></Delete>', '<a></b>', '', 'text only', '<a/><b/>']) {
    assert.throws(() => parseXml(bad), (err: unknown) => err instanceof S3Error && err.code === 'MalformedXML', bad);
  }
});

test('answers escape what they carry, and leave out what is absent', () => {
  assert.equal(
    xmlDocument('R', [['Key', 'a<b>&"\''], false, null, ['N', 3]]),
    '<?xml version="1.0" encoding="UTF-8"?>\n<R xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Key>a&lt;b&gt;&amp;&quot;&apos;</Key><N>3</N></R>',
  );
});

// Attack: a write key's DeleteObjects or CompleteMultipartUpload body of `<a<a<a…` made the old tokenizer
// backtrack cubically (4 KiB took 24 s), holding the gateway's event loop; at the 2 MiB allowed, for days.
test('a body built to make the parser backtrack is refused in one pass', { timeout: 60_000 }, () => {
  const size = 1 << 20;
  for (const unit of ['<a', '</a', '<?', '<!--', '<![CDATA[', '<a x', '<a/']) {
    const bad = `<Delete>${unit.repeat(Math.floor(size / unit.length))}`;
    assert.throws(() => parseXml(bad), (err: unknown) => err instanceof S3Error && err.code === 'MalformedXML', unit);
  }
});

test('a character reference beyond Unicode is MalformedXML, not an internal error', () => {
  assert.throws(() => parseXml('<Delete><Object><Key>&#x110000;</Key></Object></Delete>'), (err: unknown) => err instanceof S3Error && err.code === 'MalformedXML');
  assert.throws(() => parseXml('<Delete><Object><Key>&#99999999999;</Key></Object></Delete>'), (err: unknown) => err instanceof S3Error && err.code === 'MalformedXML');
});
