import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gatewayConfig } from './config.ts';

test('--public-url is kept as an origin, and anything a gateway could not be reached at is refused', () => {
  assert.equal(gatewayConfig({ publicUrl: 'https://Shoal.Example:8443/' }).publicUrl, 'https://shoal.example:8443');
  assert.equal(gatewayConfig({ publicUrl: 'http://10.0.0.5:80' }).publicUrl, 'http://10.0.0.5');
  assert.equal(gatewayConfig().publicUrl, undefined);
  for (const bad of ['shoal.example:8000', 'ftp://shoal.example', 'https://shoal.example/shoal', 'https://shoal.example/?a=1', 'https://user@shoal.example']) {
    assert.throws(() => gatewayConfig({ publicUrl: bad }), /--public-url needs an address like/, bad);
  }
});
