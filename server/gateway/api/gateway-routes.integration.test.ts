import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ShoalClient } from '../../../shared/api-client.ts';
import { startGateway } from '../start-gateway.ts';

test('on the embedded store /api/gateways lists this gateway alone, at a loopback address when it listens on every one, to readers', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'shoal-gateways-'));
  const gateway = await startGateway({ port: 0, host: '0.0.0.0', dataDir });
  try {
    const local = `http://127.0.0.1:${gateway.port}`;
    const admin = new ShoalClient(local, { token: gateway.adminToken });
    const { secret } = await admin.createToken({ role: 'read', name: 'reader' });
    const [self, ...others] = await new ShoalClient(local, { token: secret }).gateways();
    assert.deepEqual(others, []);
    assert.deepEqual(
      { id: self!.id, url: self!.url, status: self!.status, self: self!.self, repairer: self!.repairer },
      { id: gateway.gatewayId, url: local, status: 'online', self: true, repairer: true },
    );
    assert.equal((await fetch(`${local}/api/gateways`)).status, 401);
  } finally {
    await gateway.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});
