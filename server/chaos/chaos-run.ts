import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytesSeeded, seededRandom, TestCluster, waitFor } from '../testing/cluster.ts';

export interface ChaosOptions {
  durationMs: number;
  nodes?: number;
  seed?: number;
  log?: (line: string) => void;
}

export interface ChaosResult {
  filesAcked: number;
  filesLost: number;
  bytesVerified: number;
  nodeKills: number;
  gatewayKills: number;
  corruptionsInjected: number;
  repairsDone: number;
  secondsToFullReplication: number;
}

/**
 * A writer uploads continuously while nodes are SIGKILLed and restarted (never more than R-1 down
 * at once), the gateway is SIGKILLed and restarted once, and chunk files are corrupted on disk (one
 * copy of any chunk at most). Then everything comes back, the cluster must heal by itself, and every
 * file that was acknowledged with a 201 must read back with its SHA-256.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  const log = options.log ?? (() => {});
  // Separate streams, so the writer's pace cannot change which faults the chaos loop picks.
  const seed = options.seed ?? Date.now();
  const random = seededRandom(seed);
  const sizes = seededRandom(seed ^ 0x9e3779b9);
  const nodeCount = options.nodes ?? 5;
  const cluster = await TestCluster.start({
    nodes: nodeCount,
    replicas: 2,
    storage: '4GB',
    gatewayArgs: ['--repair-after', '2s', '--heartbeat-ms', '500', '--offline-after-ms', '2000', '--gc-grace', '5s'],
    nodeArgs: ['--scrub-interval', '2s', '--scrub-rate', '128MiB'],
  });
  const ids = Array.from({ length: nodeCount }, (_, i) => `node${i + 1}`);
  const acked = new Map<string, { sha256: string; size: number }>();
  const corrupted = new Set<string>();
  let nodeKills = 0;
  let gatewayKills = 0;
  let repairsBeforeRestart = 0;
  let running = true;

  const writer = (async () => {
    for (let n = 0; running; n++) {
      const data = randomBytesSeeded(16 * 1024 + Math.floor(sizes() * 3 * 1024 * 1024), n + 1);
      const name = `chaos/file-${n}.bin`;
      try {
        const info = await cluster.client.upload(name, data);
        // What was sent, not what the gateway says it stored: a wrong claim must show up as a loss.
        acked.set(name, { sha256: createHash('sha256').update(data).digest('hex'), size: info.size });
      } catch {
        await sleep(200);
      }
    }
  })();

  const corruptOne = async (): Promise<void> => {
    const candidates = (await Promise.all(ids.map((id) => cluster.chunkFiles(id)))).flat().filter((path) => !corrupted.has(path.slice(-64)));
    const path = candidates[Math.floor(random() * candidates.length)];
    if (!path) return;
    const id = ids.find((node) => path.startsWith(`${cluster.nodeDir(node)}/`))!;
    const bytes = await readFile(path).catch(() => null);
    if (!bytes || bytes.length === 0) return;
    bytes[Math.floor(random() * bytes.length)] ^= 0xff;
    await writeFile(path, bytes);
    corrupted.add(path.slice(-64));
    log(`corrupted a copy of ${path.slice(-64, -52)} on ${id}`);
  };

  const started = Date.now();
  const gatewayKillAt = started + options.durationMs / 2;
  for (let step = 0; Date.now() - started < options.durationMs; step++) {
    await sleep(1000 + random() * 2000);
    const health = await cluster.client.health().catch(() => null);
    if (health) repairsBeforeRestart = Math.max(repairsBeforeRestart, health.repair.done);
    if (gatewayKills === 0 && Date.now() >= gatewayKillAt) {
      await cluster.kill(cluster.gateway, 'SIGKILL');
      gatewayKills++;
      log('killed the gateway');
      await sleep(500 + random() * 1000);
      await cluster.startGateway();
      log('restarted the gateway');
      continue;
    }
    if (step % 2 === 1) {
      await corruptOne();
      continue;
    }
    const victim = ids[Math.floor(random() * ids.length)]!;
    await cluster.killNode(victim);
    nodeKills++;
    log(`killed ${victim}`);
    await sleep(1000 + random() * 3000);
    cluster.startNode(victim);
    log(`restarted ${victim}`);
  }
  running = false;
  await writer;

  const healStarted = Date.now();
  await cluster.waitForOnline(nodeCount, 30_000);
  await waitFor(
    async () => {
      const health = await cluster.client.health();
      return health.underReplicatedChunks === 0 && health.repair.queued + health.repair.active === 0;
    },
    120_000,
    'full replication after the chaos',
  );
  const secondsToFullReplication = (Date.now() - healStarted) / 1000;
  const repairsDone = repairsBeforeRestart + (await cluster.client.health()).repair.done;

  let filesLost = 0;
  let bytesVerified = 0;
  for (const [name, expected] of acked) {
    try {
      const res = await cluster.client.download(name);
      const hash = createHash('sha256');
      let size = 0;
      for await (const piece of res.body as unknown as AsyncIterable<Uint8Array>) {
        hash.update(piece);
        size += piece.length;
      }
      if (hash.digest('hex') !== expected.sha256 || size !== expected.size) throw new Error('bytes differ');
      bytesVerified += size;
    } catch (err) {
      filesLost++;
      log(`LOST ${name}: ${(err as Error).message}`);
    }
  }
  await cluster.stop();
  return {
    filesAcked: acked.size,
    filesLost,
    bytesVerified,
    nodeKills,
    gatewayKills,
    corruptionsInjected: corrupted.size,
    repairsDone,
    secondsToFullReplication: Math.round(secondsToFullReplication * 10) / 10,
  };
}
