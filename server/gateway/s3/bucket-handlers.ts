import { isoTime, xmlResponse, type S3Handler } from './s3-call.ts';
import { readSmallBody } from './small-body.ts';
import { MAX_XML_BYTES, child, parseXml, xmlDocument, type XmlNode } from './xml.ts';

/** The one owner every bucket and object has: the cluster. */
export const OWNER: XmlNode[] = [
  ['ID', 'shoal'],
  ['DisplayName', 'shoal'],
];

export const listBuckets: S3Handler = async (_call, { objects }) => {
  const buckets = await objects.listBuckets();
  return xmlResponse(
    xmlDocument('ListAllMyBucketsResult', [
      ['Owner', OWNER],
      ['Buckets', buckets.map((b) => ['Bucket', [['Name', b.name], ['CreationDate', isoTime(b.createdAt)]]])],
    ]),
  );
};

export const createBucket: S3Handler = async (call, { objects }) => {
  // A CreateBucketConfiguration may name a location; any is accepted, as the cluster is one place.
  const text = await readSmallBody(call, MAX_XML_BYTES);
  if (text.trim() !== '') child(parseXml(text), 'LocationConstraint');
  await objects.createBucket(call.bucket);
  return new Response(null, { status: 200, headers: { Location: `/${call.bucket}` } });
};

export const headBucket: S3Handler = async (call, { objects, region }) => {
  await objects.bucket(call.bucket);
  return new Response(null, { status: 200, headers: { 'x-amz-bucket-region': region || 'us-east-1' } });
};

export const deleteBucket: S3Handler = async (call, { objects }) => {
  await objects.deleteBucket(call.bucket);
  return new Response(null, { status: 204 });
};

export const getBucketLocation: S3Handler = async (call, { objects, region }) => {
  await objects.bucket(call.bucket);
  return xmlResponse(xmlDocument('LocationConstraint', region));
};
