import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { randomBytesSeeded, waitFor } from '../../testing/cluster.ts';
import { clusterOnPostgres, describeWithPostgres } from '../../testing/postgres-suite.ts';

const TUS = { 'Tus-Resumable': '1.0.0' };

// A resumable upload whose first parts went through gateway A and which completes through B: A's
// pins of those parts' chunks (which its claims carry to every gateway) must end with the upload,
// or no gateway may ever trim, collect or release those chunks again.
describeWithPostgres('an upload in parts begun on one gateway and completed on another', (postgres) => {
  const cluster = clusterOnPostgres(postgres, { nodes: 2, replicas: 2, gateways: 2 });

  test('leaves no pin of its chunks behind on the gateway it began on', { timeout: 120_000 }, async () => {
    const [a, b] = cluster().gateways;
    const chunkSize = 4 * 1024 * 1024;
    const bytes = randomBytesSeeded(chunkSize + 1000, 77);
    const created = await a!.fetch('/api/uploads', {
      method: 'POST',
      headers: { ...TUS, 'Upload-Length': String(bytes.length), 'Upload-Metadata': `filename ${Buffer.from('parts.bin').toString('base64')}` },
    });
    assert.equal(created.status, 201, await created.text());
    const location = new URL(created.headers.get('location')!, a!.url).pathname;
    const patch = (through: typeof a, at: number, body: Uint8Array) =>
      through!.fetch(location, { method: 'PATCH', headers: { ...TUS, 'Content-Type': 'application/offset+octet-stream', 'Upload-Offset': String(at) }, body, duplex: 'half' } as RequestInit);
    const first = await patch(a, 0, bytes.subarray(0, chunkSize));
    assert.equal(first.status, 204, await first.text());
    const last = await patch(b, chunkSize, bytes.subarray(chunkSize));
    assert.equal(last.status, 204, await last.text());
    const back = new Uint8Array(await (await a!.client.download('parts.bin')).arrayBuffer());
    assert.ok(Buffer.from(back).equals(Buffer.from(bytes)), 'the file reads back whole');

    const db = new pg.Client({ connectionString: cluster().options.metadata! });
    await db.connect();
    try {
      const pins = async () => Number((await db.query(`SELECT count(*) AS n FROM chunk_claims WHERE kind = 'pin'`)).rows[0].n);
      await waitFor(async () => (await pins()) === 0, 30_000, 'no pin left once the upload completed').catch(async (err: unknown) => {
        throw new Error(`${(err as Error).message}: ${await pins()} pins of the completed upload remain`);
      });
    } finally {
      await db.end();
    }
  });
});
