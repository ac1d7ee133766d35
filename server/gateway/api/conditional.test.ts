import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ShoalError } from '../../../shared/errors.ts';
import { evaluatePreconditions } from './conditional.ts';

const ETAG = '"abc"';
const failed = (err: unknown) => err instanceof ShoalError && err.code === 'PRECONDITION_FAILED';

test('If-None-Match matches *, any tag of a list, and weak tags (weak comparison): 304 for GET and HEAD', () => {
  for (const header of ['*', '"abc"', 'W/"abc"', '"x", "abc"', '"x",W/"abc" , "y"', ' "abc" ']) {
    for (const method of ['GET', 'HEAD']) assert.equal(evaluatePreconditions(method, { ifNoneMatch: header }, ETAG), 'not-modified', `${method} ${header}`);
  }
  for (const header of ['"x"', 'W/"x", "y"', '"ab"', 'abc', '']) assert.equal(evaluatePreconditions('GET', { ifNoneMatch: header }, ETAG), 'proceed', header);
  assert.equal(evaluatePreconditions('GET', { ifNoneMatch: '*' }, null), 'proceed', 'no file: * matches nothing');
});

test('If-None-Match: * on a PUT is create-only: 412 when the file exists', () => {
  assert.throws(() => evaluatePreconditions('PUT', { ifNoneMatch: '*' }, ETAG), failed);
  assert.equal(evaluatePreconditions('PUT', { ifNoneMatch: '*' }, null), 'proceed');
});

test('If-Match compares strongly and takes * and lists: 412 otherwise', () => {
  assert.equal(evaluatePreconditions('PUT', { ifMatch: '"x", "abc"' }, ETAG), 'proceed');
  assert.equal(evaluatePreconditions('DELETE', { ifMatch: '*' }, ETAG), 'proceed');
  assert.throws(() => evaluatePreconditions('PUT', { ifMatch: 'W/"abc"' }, ETAG), failed, 'a weak tag never matches strongly');
  assert.throws(() => evaluatePreconditions('GET', { ifMatch: '"x"' }, ETAG), failed);
  assert.throws(() => evaluatePreconditions('PUT', { ifMatch: '*' }, null), failed, 'If-Match: * needs the file to exist');
});
