import { xmlResponse, type S3Handler } from './s3-call.ts';
import { S3Error, toS3Error } from './s3-errors.ts';
import { readSmallBody } from './small-body.ts';
import { MAX_XML_BYTES, child, children, parseXml, xmlDocument, type XmlNode } from './xml.ts';

const MAX_OBJECTS = 1000;

/** DeleteObjects: up to 1,000 keys in one request, each deleted or reported with its own error. */
export const deleteObjects: S3Handler = async (call, { objects }) => {
  await objects.bucket(call.bucket);
  const document = parseXml(await readSmallBody(call, MAX_XML_BYTES));
  if (document.name !== 'Delete') throw new S3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema.');
  const quiet = child(document, 'Quiet')?.text.trim() === 'true';
  const keys = children(document, 'Object').map((o) => child(o, 'Key')?.text);
  if (keys.length === 0 || keys.length > MAX_OBJECTS || keys.some((key) => key === undefined)) {
    throw new S3Error('MalformedXML', `A Delete names 1 to ${MAX_OBJECTS} objects, each with a Key.`);
  }
  const results: XmlNode[] = [];
  for (const key of keys as string[]) {
    try {
      await objects.delete(call.bucket, key);
      if (!quiet) results.push(['Deleted', [['Key', key]]]);
    } catch (err) {
      const e = toS3Error(err);
      results.push(['Error', [['Key', key], ['Code', e.code], ['Message', e.message]]]);
    }
  }
  return xmlResponse(xmlDocument('DeleteResult', results));
};
