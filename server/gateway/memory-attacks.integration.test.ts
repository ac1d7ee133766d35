// What a peer can make the gateway hold: a real `shoal gateway` child process, so its resident
// memory can be read from /proc, attacked over 127.0.0.1 by clients that break the rules on purpose.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CLOSE, NODE_WS_PATH } from '../../shared/protocol.ts';
import { randomBytesSeeded, TestCluster } from '../testing/cluster.ts';
import { ScriptedNode } from '../testing/scripted-node.ts';
import { loadJoinSecret } from './nodes/join-secret.ts';

const MiB = 1024 * 1024;
const RSS_LIMIT = 300 * MiB;
/** Past this the attack has made its point; stopping spares the machine the rest. */
const RSS_ABORT = 1024 * MiB;
const HEALTH_LIMIT_MS = 1000;

const clusters: TestCluster[] = [];
after(async () => {
  await Promise.all(clusters.map((cluster) => cluster.stop()));
});

async function start(nodes: number): Promise<TestCluster> {
  const cluster = await TestCluster.start({ nodes, replicas: 1 });
  clusters.push(cluster);
  return cluster;
}

/** The gateway's peak resident set while it runs, sampled from /proc every 20 ms. */
function rssSampler(pid: number): { peak: () => number; stop: () => void } {
  let peak = 0;
  const sample = () => {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    if (match) peak = Math.max(peak, Number(match[1]) * 1024);
  };
  sample();
  const timer = setInterval(sample, 20);
  return { peak: () => peak, stop: () => clearInterval(timer) };
}

/**
 * Asks /api/health one call after another, from a process of its own so the attack's clients in
 * this one cannot delay it, until stopped; resolves with the slowest answer's time and the most
 * gateway work one waited on. That work is the CPU time the gateway (process `pid`) spent during
 * the call, capped by the call's wall time: while an attack keeps the gateway busy on an idle
 * machine it is the wall time, while on a machine loaded by other work the time the gateway spends
 * waiting for a core does not count.
 */
function healthPoller(url: string, token: string, pid: number): { stop: () => Promise<{ wallMs: number; workMs: number }> } {
  const script = `
    const { readFileSync } = require('node:fs');
    // utime + stime from /proc, in clock ticks of 10 ms; the command name may hold spaces.
    const cpuMs = () => { const stat = readFileSync('/proc/' + process.argv[3] + '/stat', 'utf8'); const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); return (Number(f[11]) + Number(f[12])) * 10; };
    let running = true, slowest = 0, most = 0;
    process.stdin.on('end', () => (running = false)).resume();
    (async () => {
      while (running) {
        const startedAt = Date.now();
        const cpuBefore = cpuMs();
        const res = await fetch(process.argv[1] + '/api/health', { headers: { authorization: 'Bearer ' + process.argv[2] }, signal: AbortSignal.timeout(20000) }).catch(() => null);
        await res?.arrayBuffer();
        const wallMs = res?.ok ? Date.now() - startedAt : 1e9;
        slowest = Math.max(slowest, wallMs);
        most = Math.max(most, res?.ok ? Math.min(wallMs, cpuMs() - cpuBefore) : 1e9);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      console.log(JSON.stringify({ wallMs: slowest, workMs: most }));
    })();`;
  const child = spawn(process.execPath, ['-e', script, url, token, String(pid)], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (data) => (out += data));
  const exited = new Promise((resolve) => child.on('exit', resolve));
  return {
    async stop() {
      child.stdin.end();
      await Promise.race([exited, sleep(25_000, undefined, { ref: false })]);
      return out.trim() ? (JSON.parse(out) as { wallMs: number; workMs: number }) : { wallMs: Infinity, workMs: Infinity };
    },
  };
}

/**
 * A WebSocket upgraded by hand on a plain TCP socket, so the test can write a frame header that
 * promises 64 MiB and then stream it from one shared buffer: ws's own client would mask a private
 * copy of every frame. Reads the close frame the gateway sends, if any.
 */
async function rawNodeSocket(url: string): Promise<{ socket: Socket; closed: Promise<{ code: number | null }> }> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  socket.on('error', () => {});
  socket.write(
    `GET ${NODE_WS_PATH} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  );
  let received = Buffer.alloc(0);
  let upgraded = false;
  let code: number | null = null;
  const closed = new Promise<{ code: number | null }>((resolve) => socket.on('close', () => resolve({ code })));
  await new Promise<void>((resolve, reject) => {
    socket.on('data', (data: Buffer) => {
      received = Buffer.concat([received, data]);
      if (!upgraded) {
        const end = received.indexOf('\r\n\r\n');
        if (end < 0) return;
        if (!received.subarray(0, 12).toString().startsWith('HTTP/1.1 101')) return reject(new Error(`not upgraded: ${received.subarray(0, 40)}`));
        upgraded = true;
        received = received.subarray(end + 4);
        resolve();
      }
      // Server frames are unmasked; a close frame's payload starts with its 2-byte code.
      if (code === null && received.length >= 4 && (received[0]! & 0x0f) === 0x8) code = received.readUInt16BE(2);
    });
    socket.on('close', () => reject(new Error('closed before the upgrade')));
  });
  return { socket, closed };
}

/** Writes one binary frame header announcing `length` bytes, masked with a zero key, then that many zero bytes. */
async function sendHugeFrame(socket: Socket, length: number, deadline: number): Promise<number> {
  const header = Buffer.alloc(14);
  header[0] = 0x82;
  header[1] = 0x80 | 127;
  header.writeBigUInt64BE(BigInt(length), 2);
  socket.write(header);
  const zeros = Buffer.alloc(MiB);
  let sent = 0;
  while (sent < length && !socket.destroyed && Date.now() < deadline) {
    sent += zeros.length;
    if (!socket.write(zeros)) {
      await Promise.race([new Promise((resolve) => socket.once('drain', resolve)), new Promise((resolve) => socket.once('close', resolve)), sleep(1000)]);
    }
  }
  return sent;
}

test('30 connections each starting a 64 MiB frame before hello: gateway RSS stays under 300 MB, every link is closed', async () => {
  const cluster = await start(0);
  const rss = rssSampler(cluster.gateway!.pid!);
  const health = healthPoller(cluster.url, cluster.token, cluster.gateway!.pid!);
  const deadline = Date.now() + 20_000;
  const sockets = await Promise.all(Array.from({ length: 30 }, () => rawNodeSocket(cluster.url)));
  await Promise.all(sockets.map(({ socket }) => sendHugeFrame(socket, 64 * MiB, deadline)));
  const ends = await Promise.all(sockets.map(({ closed }) => Promise.race([closed, sleep(Math.max(0, deadline - Date.now()), undefined, { ref: false }).then(() => 'open' as const)])));
  const slowestHealth = await health.stop();
  rss.stop();
  console.log(`pre-hello 64 MiB frames: peak RSS ${(rss.peak() / MiB).toFixed(0)} MB, slowest /api/health ${slowestHealth.wallMs} ms (${slowestHealth.workMs} ms of gateway work), closes ${JSON.stringify(ends.map((e) => (e === 'open' ? e : e.code)))}`);
  assert.ok(rss.peak() < RSS_LIMIT, `peak RSS ${(rss.peak() / MiB).toFixed(0)} MB`);
  assert.ok(slowestHealth.workMs < HEALTH_LIMIT_MS, `/api/health waited on ${slowestHealth.workMs} ms of gateway work`);
  for (const end of ends) {
    assert.notEqual(end, 'open', 'a link is still open');
    // 1009 is ws refusing a frame longer than any chunk before buffering it; 4001 is the handshake's own limit.
    assert.ok(end !== 'open' && (end.code === 1009 || end.code === CLOSE.BAD_HELLO), `closed with ${end !== 'open' && end.code}, not a typed close`);
  }
  assert.deepEqual(await cluster.client.nodes(), []);
});

test('an enrolled node flooding stats while 50 event-stream clients never read: RSS under 300 MB, /api/health within 1 s of gateway work, the flood closed, honest traffic after', async () => {
  const cluster = await start(1);
  const rss = rssSampler(cluster.gateway!.pid!);
  const { hostname, port } = new URL(cluster.url);
  const readers: Socket[] = [];
  for (let i = 0; i < 50; i++) {
    const socket = connect(Number(port), hostname);
    socket.on('error', () => {});
    socket.write(`GET /api/events HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAuthorization: Bearer ${cluster.token}\r\n\r\n`);
    socket.pause();
    readers.push(socket);
  }
  const flooder = await ScriptedNode.connect({ gatewayUrl: cluster.url, nodeId: 'flooder', token: 'flooder-secret-token', join: loadJoinSecret(cluster.dataDir) });
  await flooder.sendInventory([]);

  const health = healthPoller(cluster.url, cluster.token, cluster.gateway!.pid!);
  const deadline = Date.now() + 8000;
  let sent = 0;
  // Sending fails once the socket is closing: the gateway has had enough.
  let open = true;
  while (open && Date.now() < deadline && sent < 5_000_000 && rss.peak() < RSS_ABORT) {
    const batch = Array.from({ length: 500 }, (_, i) => flooder.send({ type: 'stats', usedBytes: sent + i, chunkCount: i }));
    await Promise.all(batch).catch(() => (open = false));
    sent += batch.length;
  }
  const closedBy = await Promise.race([flooder.closed, sleep(5000, null, { ref: false })]);
  // The gateway is given the time to work through what the flood left queued before it is judged.
  await sleep(1000);
  const slowestHealth = await health.stop();
  rss.stop();
  console.log(`stats flood: ${sent} frames sent, closed by ${JSON.stringify(closedBy)}, peak RSS ${(rss.peak() / MiB).toFixed(0)} MB, slowest /api/health ${slowestHealth.wallMs} ms (${slowestHealth.workMs} ms of gateway work)`);
  for (const socket of readers) socket.destroy();

  assert.ok(rss.peak() < RSS_LIMIT, `peak RSS ${(rss.peak() / MiB).toFixed(0)} MB`);
  assert.ok(slowestHealth.workMs < HEALTH_LIMIT_MS, `/api/health waited on ${slowestHealth.workMs} ms of gateway work`);
  assert.equal(closedBy?.code, CLOSE.PROTOCOL_ERROR, 'the flooding link was not closed');

  const data = randomBytesSeeded(3 * MiB, 7);
  await cluster.client.upload('after-the-flood.bin', data);
  const back = Buffer.from(await (await cluster.client.download('after-the-flood.bin')).arrayBuffer());
  assert.ok(back.equals(data), 'honest download differs');
});
