import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { ShoalClient } from '../../../shared/api-client.ts';
import { MemoryChunkBackend } from '../../../shared/memory-chunk-store.ts';
import { randomBytesSeeded, waitFor } from '../../testing/cluster.ts';
import type { NodeAgent } from '../../../shared/node-agent.ts';
import { startMemoryNode } from '../../testing/memory-node.ts';
import { startGateway, type Gateway } from '../start-gateway.ts';

const KiB = 1024;
const MiB = 1024 * KiB;

async function withCluster(
  backends: Map<string, MemoryChunkBackend>,
  body: (c: { gateway: Gateway; client: ShoalClient; agents: NodeAgent[] }) => Promise<void>,
  options: Record<string, unknown> = {},
): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'shoal-crypto-workers-'));
  const gateway = await startGateway({ port: 0, dataDir, replicas: 2, heartbeatMs: 200, offlineAfterMs: 5000, ...options });
  const agents = [...backends].map(([id, backend]) => startMemoryNode(gateway.url, dataDir, id, backend, 1024 * MiB));
  try {
    await waitFor(() => gateway.registry.writableLinks().length === backends.size, 30_000, 'nodes online');
    await body({ gateway, client: new ShoalClient(gateway.url, { token: gateway.adminToken }), agents });
  } finally {
    for (const agent of agents) agent.stop();
    await withDeadline(gateway.close(), 30_000, 'gateway.close()');
    await rm(dataDir, { recursive: true, force: true });
  }
}

function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} hung for ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
}

const three = () =>
  new Map([
    ['a', new MemoryChunkBackend()],
    ['b', new MemoryChunkBackend()],
    ['c', new MemoryChunkBackend()],
  ]);

async function bytesOf(res: Response): Promise<Uint8Array> {
  assert.ok(res.ok, `status ${res.status}: ${res.ok ? '' : await res.clone().text()}`);
  return new Uint8Array(await res.arrayBuffer());
}

test('concurrent uploads with odd chunk sizes and duplicate chunks come back byte for byte, ranges across boundaries too', async () => {
  await withCluster(three(), async ({ client }) => {
    const block = randomBytesSeeded(4 * MiB, 7);
    const files = new Map<string, Uint8Array>();
    // The same 4 MiB chunk three times in one file and once in another; a 1-byte tail chunk; a
    // file of exactly OFFLOAD_BYTES + 1; a file just under; empty.
    const dup = new Uint8Array(12 * MiB + 1);
    dup.set(block, 0);
    dup.set(block, 4 * MiB);
    dup.set(block, 8 * MiB);
    dup[12 * MiB] = 42;
    files.set('dup.bin', dup);
    files.set('dup2.bin', block);
    files.set('over.bin', randomBytesSeeded(256 * KiB + 1, 8));
    files.set('under.bin', randomBytesSeeded(256 * KiB - 1, 9));
    files.set('exact.bin', randomBytesSeeded(256 * KiB, 10));
    files.set('empty.bin', new Uint8Array(0));
    for (let i = 0; i < 6; i++) files.set(`f${i}.bin`, randomBytesSeeded(9 * MiB + i * 777, 100 + i));
    await Promise.all([...files].map(([name, data]) => client.upload(name, data)));
    await Promise.all(
      [...files].map(async ([name, data]) => {
        const got = await bytesOf(await client.download(name));
        assert.ok(Buffer.from(got).equals(Buffer.from(data)), `${name} intact`);
      }),
    );
    const big = files.get('f3.bin')!;
    for (const [start, end] of [
      [4 * MiB - 100, 4 * MiB + 100],
      [MiB - 1, 5 * MiB + 1],
      [64 * KiB - 1, 64 * KiB + 300 * KiB],
      [0, big.length - 1],
      [big.length - 1, big.length - 1],
      [3 * MiB, 4 * MiB - 1],
    ] as const) {
      const got = await bytesOf(await client.download('f3.bin', { range: { start, end } }));
      assert.ok(Buffer.from(got).equals(Buffer.from(big.subarray(start, end + 1))), `range ${start}-${end}`);
    }
  });
});

/** Terminates the gateway's crypto worker right after it is handed its `nth` job of kind `op`: a worker dying with a chunk in it. */
function killOnJob(op: 'seal' | 'open', nth: number, every = false): { killed: () => boolean; restore: () => void } {
  const original = Worker.prototype.postMessage;
  let seen = 0;
  let killed = false;
  Worker.prototype.postMessage = function (this: Worker, ...args: Parameters<Worker['postMessage']>) {
    const result = original.apply(this, args);
    if ((args[0] as { op?: string })?.op === op && (++seen === nth || (every && seen > nth))) {
      killed = true;
      void this.terminate();
    }
    return result;
  };
  return { killed: () => killed, restore: () => (Worker.prototype.postMessage = original) };
}

test('a crypto worker terminated mid-upload fails the upload (no 201), releases, and the next upload works', async () => {
  const kill = killOnJob('seal', 5);
  const backends = three();
  try {
    await withCluster(backends, async ({ client }) => {
      const data = randomBytesSeeded(64 * MiB, 55);
      const outcome = await withDeadline(
        client.upload('doomed.bin', data).then(
          () => 'stored',
          (err: unknown) => `failed: ${(err as Error).message}`,
        ),
        60_000,
        'upload after worker killed',
      );
      assert.ok(kill.killed(), 'the worker was killed mid-upload');
      if (outcome === 'stored') {
        const back = await bytesOf(await client.download('doomed.bin'));
        assert.ok(Buffer.from(back).equals(Buffer.from(data)), 'acknowledged but not intact');
      }
      assert.match(outcome, /failed: .*(crypto worker|INTERNAL)/i, 'an upload whose chunk died in the worker is not acknowledged');
      const names = (await client.list()).map((f) => f.name);
      assert.ok(!names.includes('doomed.bin'));
      // The copies it wrote before the worker died are discarded from the nodes.
      await waitFor(async () => (await Promise.all([...backends.values()].map((b) => b.scan()))).every((m) => m.size === 0), 20_000, 'copies of the failed upload discarded');
      const again = randomBytesSeeded(16 * MiB, 56);
      await withDeadline(client.upload('after.bin', again), 60_000, 'upload after');
      assert.ok(Buffer.from(await bytesOf(await client.download('after.bin'))).equals(Buffer.from(again)));
    });
  } finally {
    kill.restore();
  }
});

test('a crypto worker terminated mid-download is read from the other replica or ends that download as an error, never wrong bytes', async () => {
  const data = randomBytesSeeded(64 * MiB, 57);
  const holder: { kill: ReturnType<typeof killOnJob> | null } = { kill: null };
  try {
    await withCluster(three(), async ({ client }) => {
      await client.upload('big.bin', data);
      const kill = (holder.kill = killOnJob('open', 6));
      const outcome = await withDeadline(
        client.download('big.bin').then(
          (res) => res.arrayBuffer().then((b) => (Buffer.from(b).equals(Buffer.from(data)) ? 'complete' : `wrong or short: ${b.byteLength}`), (err: Error) => `errored: ${err.message}`),
          (err: Error) => `refused: ${err.message}`,
        ),
        60_000,
        'download after worker killed',
      );
      assert.ok(kill.killed());
      // The chunk the worker held is read again from the other replica (INTERNAL is not the node's fault), or the body errors: never wrong bytes.
      assert.ok(outcome === 'complete' || outcome.startsWith('errored') || outcome.startsWith('refused'), outcome);
      const again = await withDeadline(client.download('big.bin').then(bytesOf), 60_000, 'download after');
      assert.ok(Buffer.from(again).equals(Buffer.from(data)));
    });
  } finally {
    holder.kill?.restore();
  }
});

/** A node whose range reads flip a byte: a liar the gateway must catch by GCM tag. */
class LyingRanges extends MemoryChunkBackend {
  override async readRange(hash: string, offset: number, length: number): Promise<Uint8Array | undefined> {
    const bytes = await super.readRange(hash, offset, length);
    if (!bytes) return bytes;
    const copy = new Uint8Array(bytes);
    copy[copy.length >> 1]! ^= 1;
    return copy;
  }
}

test('every node lying on a large range read: CHUNK_CORRUPT, not wrong bytes', async () => {
  await withCluster(
    new Map([
      ['a', new LyingRanges()],
      ['b', new LyingRanges()],
    ]),
    async ({ client }) => {
      const data = randomBytesSeeded(4 * MiB, 58);
      await client.upload('big.bin', data);
      await assert.rejects(client.download('big.bin', { range: { start: 1, end: 3 * MiB } }), /CHUNK_CORRUPT/);
    },
  );
});

test('gateway.close() with uploads and downloads in flight does not hang', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'shoal-crypto-workers-close-'));
  const gateway = await startGateway({ port: 0, dataDir, replicas: 2, heartbeatMs: 200, offlineAfterMs: 5000 });
  const agents = [...three()].map(([id, backend]) => startMemoryNode(gateway.url, dataDir, id, backend, 1024 * MiB));
  try {
    await waitFor(() => gateway.registry.writableLinks().length === 3, 30_000, 'nodes online');
    const client = new ShoalClient(gateway.url, { token: gateway.adminToken });
    const data = randomBytesSeeded(32 * MiB, 59);
    await client.upload('one.bin', data);
    const uploads = Array.from({ length: 4 }, (_, i) => client.upload(`u${i}.bin`, randomBytesSeeded(48 * MiB, 60 + i)).then(() => 'ok', () => 'failed'));
    const downloads = Array.from({ length: 3 }, () =>
      client.download('one.bin').then(
        (r) => r.arrayBuffer().then(() => 'ok', () => 'failed'),
        () => 'failed',
      ),
    );
    await new Promise((r) => setTimeout(r, 300));
    await withDeadline(gateway.close(), 30_000, 'gateway.close() with jobs in flight');
    const results = await withDeadline(Promise.all([...uploads, ...downloads]), 30_000, 'clients after close');
    assert.equal(results.length, 7);
  } finally {
    for (const agent of agents) agent.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('chunks of exactly OFFLOAD_BYTES and one byte under it, many in flight across uploads, keep their order', async () => {
  for (const chunkSize of [256 * KiB, 256 * KiB + 1024, 256 * KiB + 1]) {
    await withCluster(
      three(),
      async ({ client }) => {
        const files = new Map<string, Uint8Array>();
        for (let i = 0; i < 4; i++) files.set(`c${i}.bin`, randomBytesSeeded(5 * MiB + 3 + i, 300 + i));
        // Identical chunks at different places in one file: sealed to the same chunk.
        const block = randomBytesSeeded(chunkSize, 399);
        const rep = new Uint8Array(chunkSize * 5 + 7);
        for (let i = 0; i < 5; i++) rep.set(block, i * chunkSize);
        files.set('rep.bin', rep);
        await Promise.all([...files].map(([name, data]) => client.upload(name, data)));
        for (const [name, data] of files) {
          const got = await bytesOf(await client.download(name));
          assert.ok(Buffer.from(got).equals(Buffer.from(data)), `${name} intact at chunk size ${chunkSize}`);
          const start = chunkSize - 5;
          const end = 3 * chunkSize + 5;
          const part = await bytesOf(await client.download(name, { range: { start, end } }));
          assert.ok(Buffer.from(part).equals(Buffer.from(data.subarray(start, end + 1))), `${name} range at chunk size ${chunkSize}`);
        }
      },
      { chunkSize },
    );
  }
});

test('every crypto worker dying on open: the download errors, it does not end short as if complete', async () => {
  const data = randomBytesSeeded(32 * MiB, 61);
  const holder: { kill: ReturnType<typeof killOnJob> | null } = { kill: null };
  try {
    await withCluster(three(), async ({ client }) => {
      await client.upload('big.bin', data);
      holder.kill = killOnJob('open', 3, true);
      const outcome = await withDeadline(
        client.download('big.bin').then(
          (res) => res.arrayBuffer().then((b) => `ended cleanly with ${b.byteLength} of ${data.length} bytes`, (err: Error) => `errored: ${err.message}`),
          (err: Error) => `refused: ${err.message}`,
        ),
        60_000,
        'download with every worker killed',
      );
      assert.ok(outcome.startsWith('errored') || outcome.startsWith('refused'), outcome);
      holder.kill.restore();
      holder.kill = null;
      const again = await withDeadline(client.download('big.bin').then(bytesOf), 60_000, 'download after');
      assert.ok(Buffer.from(again).equals(Buffer.from(data)), 'nodes were not blamed: the file reads once the worker lives');
    });
  } finally {
    holder.kill?.restore();
  }
});
