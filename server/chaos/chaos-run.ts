import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytesSeeded, seededRandom, TestCluster, waitFor } from '../testing/cluster.ts';
import type { GatewayProcess } from '../testing/gateway-process.ts';
import { startPostgres, type PostgresServer } from '../testing/postgres-server.ts';

export interface ChaosOptions {
  durationMs: number;
  nodes?: number;
  /** Gateways over one PostgreSQL database (a server of the run's own); 1 keeps SQLite. */
  gateways?: number;
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

const GATEWAY_ARGS = ['--repair-after', '2s', '--heartbeat-ms', '500', '--offline-after-ms', '2000', '--gc-grace', '5s'];

/**
 * A writer per gateway uploads continuously while nodes are SIGKILLed and restarted (never more
 * than R-1 down at once), gateways are SIGKILLed and restarted (with one gateway, once; with
 * several, one at a time and often, the others serving meanwhile), and chunk files are corrupted
 * on disk (one copy of any chunk at most). Then everything comes back, the cluster must heal by
 * itself, and every file that was acknowledged with a 201 must read back with its SHA-256, each
 * through another gateway than the one that took it.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  const gateways = options.gateways ?? 1;
  const postgres: PostgresServer | null = gateways > 1 ? await startPostgres() : null;
  try {
    const cluster = await TestCluster.start({
      nodes: options.nodes ?? 5,
      replicas: 2,
      storage: '4GB',
      gateways,
      metadata: postgres ? await postgres.createDatabase() : null,
      gatewayArgs: GATEWAY_ARGS,
      // A third of the files go to pack files, whose appends a node kill may tear.
      nodeArgs: ['--scrub-interval', '2s', '--scrub-rate', '128MiB', '--pack-below', '1MiB'],
    });
    try {
      return await chaosOn(cluster, options);
    } finally {
      await cluster.stop();
    }
  } finally {
    await postgres?.stop();
  }
}

async function chaosOn(cluster: TestCluster, options: ChaosOptions): Promise<ChaosResult> {
  const log = options.log ?? (() => {});
  // Separate streams, so the writers' pace cannot change which faults the chaos loop picks.
  const seed = options.seed ?? Date.now();
  const random = seededRandom(seed);
  const sizes = seededRandom(seed ^ 0x9e3779b9);
  const nodeCount = cluster.options.nodes;
  const { gateways } = cluster;
  const ids = Array.from({ length: nodeCount }, (_, i) => `node${i + 1}`);
  const acked = new Map<string, { sha256: string; size: number; through: number }>();
  const corrupted = new Set<string>();
  const repairs = new RepairCount(gateways);
  let nodeKills = 0;
  let gatewayKills = 0;
  let running = true;
  let uploads = 0;

  const writer = async (gateway: GatewayProcess, through: number): Promise<void> => {
    let lastFailure = '';
    while (running) {
      const n = uploads++;
      const data = randomBytesSeeded(16 * 1024 + Math.floor(sizes() * 3 * 1024 * 1024), n + 1);
      const name = `chaos/file-${n}.bin`;
      try {
        const info = await gateway.client.upload(name, data);
        // What was sent, not what the gateway says it stored: a wrong claim must show up as a loss.
        acked.set(name, { sha256: createHash('sha256').update(data).digest('hex'), size: info.size, through });
        lastFailure = '';
      } catch (err) {
        // Once per run of the same failure: a gateway down refuses every upload alike.
        const failure = (err as Error).message;
        if (failure !== lastFailure && gateways.length > 1) log(`upload through gateway ${through + 1} failed: ${failure}`);
        lastFailure = failure;
        await sleep(200);
      }
    }
  };
  const writers = gateways.map((gateway, i) => writer(gateway, i));

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

  const killGateway = async (index: number, downMs: number): Promise<void> => {
    const gateway = gateways[index]!;
    await repairs.sample();
    await gateway.stop('SIGKILL');
    repairs.lost(gateway);
    gatewayKills++;
    log(gateways.length > 1 ? `killed gateway ${index + 1}` : 'killed the gateway');
    await sleep(downMs);
    await gateway.start();
    log(gateways.length > 1 ? `restarted gateway ${index + 1}` : 'restarted the gateway');
  };

  const started = Date.now();
  const gatewayKillAt = started + options.durationMs / 2;
  const nextFault = (step: number): 'gateway' | 'corruption' | 'node' => {
    if (gateways.length > 1) return (['node', 'corruption', 'gateway'] as const)[step % 3]!;
    if (gatewayKills === 0 && Date.now() >= gatewayKillAt) return 'gateway';
    return step % 2 === 1 ? 'corruption' : 'node';
  };
  // The writers stop however the loop ends, so a failed run does not leave them uploading.
  try {
    for (let step = 0; Date.now() - started < options.durationMs; step++) {
      await sleep(1000 + random() * 2000);
      await repairs.sample();
      const fault = nextFault(step);
      if (fault === 'gateway') {
        // One of several stays down long enough for its row to go offline and the lease to move.
        await killGateway(Math.floor(random() * gateways.length), gateways.length === 1 ? 500 + random() * 1000 : 2000 + random() * 5000);
        continue;
      }
      if (fault === 'corruption') {
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
  } finally {
    running = false;
    await Promise.all(writers);
  }

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
  await repairs.sample();

  // A gateway restarted late may still be waiting for nodes to link to it again (their backoff
  // reaches seconds): a chunk it cannot reach yet is asked again, a wrong or missing file is not.
  const verifyDeadline = Date.now() + 60_000;
  const verify = async (name: string, expected: { sha256: string; size: number; through: number }): Promise<number> => {
    for (;;) {
      try {
        return await readBack(gateways[(expected.through + 1) % gateways.length]!, name, expected);
      } catch (err) {
        if ((err as { code?: string }).code !== 'CHUNK_UNAVAILABLE' || Date.now() > verifyDeadline) throw err;
        await sleep(500);
      }
    }
  };
  let filesLost = 0;
  let bytesVerified = 0;
  for (const [name, expected] of acked) {
    try {
      bytesVerified += await verify(name, expected);
    } catch (err) {
      filesLost++;
      log(`LOST ${name}: ${(err as Error).message}`);
    }
  }
  return {
    filesAcked: acked.size,
    filesLost,
    bytesVerified,
    nodeKills,
    gatewayKills,
    corruptionsInjected: corrupted.size,
    repairsDone: repairs.total(),
    secondsToFullReplication: Math.round(secondsToFullReplication * 10) / 10,
  };
}

/**
 * Copies repaired over the whole run. A gateway counts the repairs it made since it started, so
 * a killed gateway's count is kept as it was last seen, and a restarted one counts from zero.
 */
class RepairCount {
  readonly #gateways: GatewayProcess[];
  readonly #seen = new Map<GatewayProcess, number>();
  #lost = 0;

  constructor(gateways: GatewayProcess[]) {
    this.#gateways = gateways;
  }

  async sample(): Promise<void> {
    await Promise.all(
      this.#gateways.map(async (gateway) => {
        const health = await gateway.client.health().catch(() => null);
        if (health) this.#seen.set(gateway, Math.max(this.#seen.get(gateway) ?? 0, health.repair.done));
      }),
    );
  }

  lost(gateway: GatewayProcess): void {
    this.#lost += this.#seen.get(gateway) ?? 0;
    this.#seen.delete(gateway);
  }

  total(): number {
    return this.#lost + [...this.#seen.values()].reduce((sum, n) => sum + n, 0);
  }
}

/** Downloads `name` through `gateway` and checks it against what was sent; its size. */
async function readBack(gateway: GatewayProcess, name: string, expected: { sha256: string; size: number }): Promise<number> {
  const res = await gateway.client.download(name);
  const hash = createHash('sha256');
  let size = 0;
  for await (const piece of res.body as unknown as AsyncIterable<Uint8Array>) {
    hash.update(piece);
    size += piece.length;
  }
  if (hash.digest('hex') !== expected.sha256 || size !== expected.size) throw new Error('bytes differ');
  return size;
}
