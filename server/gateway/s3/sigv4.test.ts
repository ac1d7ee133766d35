import assert from 'node:assert/strict';
import { test } from 'node:test';
import { S3Error } from './s3-errors.ts';
import { parseSignature, verifySignature, type SigningInput } from './sigv4.ts';

// The examples of AWS's "Authenticating Requests (AWS Signature Version 4)" pages: the key pair
// AKIAIOSFODNN7EXAMPLE / wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY, 24 May 2013, us-east-1.
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const AT = Date.UTC(2013, 4, 24, 0, 0, 0);

function check(input: SigningInput, now = AT, secret = SECRET) {
  const claim = parseSignature(input, now);
  assert.ok(claim);
  return verifySignature(claim, input, secret);
}

const headerGet: SigningInput = {
  method: 'GET',
  rawPath: '/test.txt',
  rawQuery: '',
  headers: new Headers({
    host: 'examplebucket.s3.amazonaws.com',
    range: 'bytes=0-9',
    'x-amz-content-sha256': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    'x-amz-date': '20130524T000000Z',
    authorization:
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
  }),
};

const presignedGet: SigningInput = {
  method: 'GET',
  rawPath: '/test.txt',
  rawQuery:
    'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404',
  headers: new Headers({ host: 'examplebucket.s3.amazonaws.com' }),
};

function code(work: () => unknown): string {
  try {
    work();
  } catch (err) {
    if (err instanceof S3Error) return err.code;
    throw err;
  }
  return 'ok';
}

test("AWS's GET example signed in the Authorization header verifies, and not with another secret", () => {
  assert.equal(check(headerGet).accessKeyId, 'AKIAIOSFODNN7EXAMPLE');
  assert.equal(code(() => check(headerGet, AT, 'another secret')), 'SignatureDoesNotMatch');
  const altered = { ...headerGet, headers: new Headers(headerGet.headers) };
  altered.headers.set('range', 'bytes=0-99');
  assert.equal(code(() => check(altered)), 'SignatureDoesNotMatch');
});

test("AWS's presigned GET example verifies until it expires", () => {
  assert.equal(check(presignedGet).presigned, true);
  assert.equal(code(() => check(presignedGet, AT + 86_399_000)), 'ok');
  assert.equal(code(() => check(presignedGet, AT + 86_401_000)), 'AccessDenied');
});

test('a request time 15 minutes off is refused as skewed', () => {
  assert.equal(code(() => check(headerGet, AT + 16 * 60_000)), 'RequestTimeTooSkewed');
  assert.equal(code(() => check(headerGet, AT - 16 * 60_000)), 'RequestTimeTooSkewed');
  assert.equal(code(() => check(headerGet, AT + 14 * 60_000)), 'ok');
});
