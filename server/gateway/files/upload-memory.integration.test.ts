// 120 uploads of 20 MB started at once against a real `shoal gateway` process: the uploads past
// --max-uploads are turned away at once with Retry-After, the rest stream through, and the
// gateway's peak resident memory (VmHWM from /proc) stays under 300 MB. A bound, not a speed test.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, test } from 'node:test';
import { seededWords, TestCluster } from '../../testing/cluster.ts';
import { rawUpload } from '../../testing/raw-upload.ts';
import { DEFAULT_GATEWAY_CONFIG } from '../config.ts';

const MiB = 1024 * 1024;
const UPLOADS = 120;
const SIZE = 20 * MiB;
const PIECE = 64 * 1024;

let cluster: TestCluster | undefined;
after(async () => {
  await cluster?.stop();
});

/** The process's peak resident set so far, in bytes. */
function peakRss(pid: number): number {
  return Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
}

test('120 uploads of 20 MB at once: the excess gets 503 TOO_MANY_UPLOADS, the gateway stays under 300 MB', async () => {
  cluster = await TestCluster.start({ nodes: 2, replicas: 1, storage: '2GB' });
  const answers = await Promise.all(
    Array.from({ length: UPLOADS }, (_, i) =>
      rawUpload(cluster!.url, cluster!.token, `burst/${i}.bin`, { 'content-length': String(SIZE), expect: '100-continue' }, async (write) => {
        // Each file its own bytes, made as they are sent, so the test holds none of them whole.
        const next = seededWords(1000 + i);
        const piece = new Uint8Array(PIECE);
        const words = new Uint32Array(piece.buffer);
        for (let sent = 0; sent < SIZE; sent += PIECE) {
          for (let w = 0; w < words.length; w++) words[w] = next();
          if (!(await write(piece))) return;
        }
      }),
    ),
  );
  const stored = answers.filter((a) => a.status === 201);
  const refused = answers.filter((a) => a.status === 503);
  assert.equal(stored.length + refused.length, UPLOADS, JSON.stringify(answers.filter((a) => a.status !== 201 && a.status !== 503).slice(0, 3)));
  // Every refusal came with all the slots taken, and every upload that got one is stored: the
  // default number of uploads streamed at once, each holding no chunk while it waits for the budget.
  assert.ok(stored.length >= DEFAULT_GATEWAY_CONFIG.maxUploads, `${stored.length} stored`);
  for (const answer of refused) {
    assert.equal(JSON.parse(answer.body).error.code, 'TOO_MANY_UPLOADS');
    assert.ok(Number(answer.headers['retry-after']) > 0);
  }
  const peak = peakRss(cluster.gateway!.pid!);
  assert.ok(peak < 300 * MiB, `gateway peak RSS ${Math.round(peak / MiB)} MB`);
  console.log(`# ${stored.length} stored, ${refused.length} refused, gateway peak RSS ${Math.round(peak / MiB)} MB`);
});
