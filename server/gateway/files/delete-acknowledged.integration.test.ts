import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import pg from 'pg';
import { ShoalClient } from '../../../shared/api-client.ts';
import { randomBytesSeeded, waitFor } from '../../testing/cluster.ts';
import { describeWithPostgres } from '../../testing/postgres-suite.ts';
import { ScriptedNode } from '../../testing/scripted-node.ts';
import { loadJoinSecret } from '../nodes/join-secret.ts';
import { startGateway, type Gateway } from '../start-gateway.ts';

// The clean-up after a committed delete (forgetting the chunks no file needs any more, deleting
// their copies) may fail: the database refusing it for concurrent changes, this gateway's claims
// revoked. The delete is done by then, and must be answered as done.
describeWithPostgres('a committed delete whose clean-up fails', (postgres) => {
  test('is answered as done, not with an error for a change that was made', { timeout: 120_000 }, async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'shoal-delete-cleanup-'));
    const url = await postgres().createDatabase();
    let gateway: Gateway | undefined;
    let node: ScriptedNode | undefined;
    const db = new pg.Client({ connectionString: url });
    try {
      gateway = await startGateway({ port: 0, dataDir, replicas: 1, metadataUrl: url });
      node = await ScriptedNode.connect({ gatewayUrl: gateway.url, nodeId: 'n1', token: 'the-token-of-n1', join: loadJoinSecret(dataDir) });
      await node.sendInventory([]);
      await waitFor(() => gateway!.registry.writable('n1'), 30_000, 'n1 online');
      const client = new ShoalClient(gateway.url, { token: gateway.adminToken });
      await client.upload('gone.bin', randomBytesSeeded(100_000, 3));

      // Every forgetting of chunks loses its race from now on, as under heavy concurrent writes.
      await db.connect();
      await db.query(`CREATE FUNCTION r3_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'lost a race' USING ERRCODE = '40001'; END $$`);
      await db.query('CREATE TRIGGER r3_refuse BEFORE DELETE ON chunks FOR EACH STATEMENT EXECUTE FUNCTION r3_refuse()');

      await client.delete('gone.bin');
      assert.equal((await db.query('SELECT 1 FROM files WHERE name = $1', ['gone.bin'])).rowCount, 0, 'the file is deleted');
    } finally {
      await db.end().catch(() => {});
      await node?.close();
      await gateway?.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
