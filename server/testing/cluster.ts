import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ShoalClient } from '../../shared/api-client.ts';
import { exportKeys, importKeys } from '../cli/cluster-keys.ts';
import { NODE_FLAGS } from '../cli/node-flags.ts';
import { stopChild } from '../cli/processes.ts';
import { sha256Hex } from '../sha256.ts';
import { GatewayProcess, SHOAL_BIN } from './gateway-process.ts';
import type { TestCertificates } from './tls-certs.ts';

export { SHOAL_BIN };

export interface ClusterOptions {
  /** Disk nodes to create and start. */
  nodes?: number;
  replicas?: number;
  storage?: string;
  /** Extra `shoal gateway` flags, e.g. ['--heartbeat-ms', '500']. */
  gatewayArgs?: string[];
  /** Extra `shoal node start` flags, e.g. ['--scrub-interval', '1s']. */
  nodeArgs?: string[];
  /** Node.js flags for the gateway and node processes, e.g. ['--cpu-prof'] for the bench. */
  execArgv?: string[];
  /** Serve HTTPS and WSS with this certificate; nodes, `client` and `fetch` trust its CA (--ca). */
  tls?: TestCertificates | null;
  /** A postgres:// URL: every gateway keeps the metadata there, and `shoal node create` enrols there. */
  metadata?: string | null;
  /** Gateways over that one database, each in a data directory of its own (needs `metadata`). */
  gateways?: number;
}

/** Runs the real `shoal` binary with a test's data dir; resolves with its output once it exits. */
export function runShoal(args: string[], env: Record<string, string> = {}, timeoutMs = 180_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [SHOAL_BIN, ...args], { env: { ...process.env, ...env, CI: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    // A command that never ends fails its test with what it printed, rather than hanging the run.
    const overdue = setTimeout(() => {
      stderr += `\n[test: shoal ${args[0]} still running after ${timeoutMs / 1000} s, killed]`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(overdue);
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}

/**
 * A real cluster for tests: every gateway and every disk node is a separate `shoal` process on
 * port 0 in a temp dir, so a test can SIGKILL any of them. The first gateway's data directory
 * holds the disk nodes, which are given its URL; `url`, `client` and `fetch` are that gateway's.
 */
export class TestCluster {
  readonly dataDir: string;
  readonly options: Required<ClusterOptions>;
  readonly nodes = new Map<string, ChildProcess>();
  /** The first is the cluster's own; the others share its metadata in PostgreSQL and its secrets. */
  readonly gateways: GatewayProcess[] = [];
  readonly #env: Record<string, string>;

  private constructor(dataDir: string, options: Required<ClusterOptions>) {
    this.dataDir = dataDir;
    this.options = options;
    this.#env = options.metadata ? { SHOAL_METADATA: options.metadata } : {};
    this.gateways.push(this.#gatewayIn(dataDir));
  }

  static async start(options: ClusterOptions = {}): Promise<TestCluster> {
    const dataDir = await mkdtemp(join(tmpdir(), 'shoal-test-'));
    const cluster = new TestCluster(dataDir, { nodes: 3, replicas: 2, storage: '1GB', gatewayArgs: [], nodeArgs: [], execArgv: [], tls: null, metadata: null, gateways: 1, ...options });
    try {
      await cluster.startGateway();
      await Promise.all(Array.from({ length: cluster.options.gateways - 1 }, () => cluster.addGateway()));
      await Promise.all(Array.from({ length: cluster.options.nodes }, (_, i) => cluster.addNode(`node${i + 1}`)));
      // A bound for a loaded machine, where a node process can take many seconds to start.
      await cluster.waitForOnline(cluster.options.nodes, 60_000);
      // Online means some gateway hears a node: each must link to them before it can write there.
      if (cluster.gateways.length > 1) await cluster.waitForLinks(cluster.options.nodes, 60_000);
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    return cluster;
  }

  #gatewayIn(dataDir: string): GatewayProcess {
    const { replicas, gatewayArgs, execArgv, tls, metadata } = this.options;
    return new GatewayProcess(dataDir, {
      args: ['--replicas', String(replicas), ...(metadata ? ['--metadata', metadata] : []), ...gatewayArgs],
      execArgv,
      tls,
    });
  }

  get #gateway(): GatewayProcess {
    return this.gateways[0]!;
  }

  /**
   * Starts one more gateway over the cluster's PostgreSQL, in a data directory of its own that
   * holds the cluster's secrets, as an operator would set up a second machine.
   */
  async addGateway(): Promise<GatewayProcess> {
    if (!this.options.metadata) throw new Error('gateways share their metadata in PostgreSQL: give the cluster a metadata URL');
    // Made and listed at once, so gateways added together keep the order they were asked for.
    const gateway = this.#gatewayIn(mkdtempSync(join(tmpdir(), 'shoal-test-gateway-')));
    this.gateways.push(gateway);
    // What `shoal key export` prints and `shoal key import` reads, without two processes' start-up.
    importKeys(gateway.dataDir, exportKeys(this.dataDir), false);
    await gateway.start();
    return gateway;
  }

  get url(): string {
    return this.#gateway.url;
  }

  /** The S3 API's address, with gatewayArgs ['--s3-port', '0']. */
  get s3Url(): string {
    return this.#gateway.s3Url;
  }

  /** The admin token the gateway wrote to DATA/admin-token; `client` and `fetch` send it. */
  get token(): string {
    return this.#gateway.token;
  }

  /** What the running `shoal gateway` printed on stdout since it started (the first 64 KiB). */
  get gatewayOutput(): string {
    return this.#gateway.output;
  }

  get client(): ShoalClient {
    return this.#gateway.client;
  }

  get gateway(): ChildProcess | null {
    return this.#gateway.child;
  }

  /** Starts the gateway, on the same port as before when restarting so nodes find it again. */
  async startGateway(): Promise<void> {
    await this.#gateway.start();
  }

  /** fetch(`${url}${path}`) (or a whole URL) as the admin: with the Bearer token unless `init` sets Authorization itself. */
  fetch(path: string, init: RequestInit = {}): Promise<Response> {
    return this.#gateway.fetch(path, init);
  }

  async addNode(id: string, storage = this.options.storage): Promise<void> {
    const created = await runShoal(['node', 'create', id, '--storage', storage, '--data', this.dataDir, '--gateway', this.url], this.#env);
    if (created.code !== 0) throw new Error(`node create ${id} failed: ${created.stderr}`);
    this.startNode(id);
  }

  startNode(id: string): void {
    // Every chunk a file of its own, so chunkFiles sees (and a test can damage) each copy; a test
    // of the packed layout passes nodeArgs ['--pack-below', '64KiB'], which comes later and wins.
    const layout = ['--pack-below', '0'];
    const child = spawn(process.execPath, [...NODE_FLAGS, ...this.options.execArgv, SHOAL_BIN, 'node', 'start', id, '--data', this.dataDir, ...this.#nodeGateway(), ...layout, ...this.options.nodeArgs], {
      env: { ...process.env, ...this.#env, CI: '1' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    this.nodes.set(id, child);
  }

  /** Over TLS a node is given the gateway as wss:// and told to trust the test's CA, as an operator would. */
  #nodeGateway(): string[] {
    const { tls } = this.options;
    return tls ? ['--gateway', this.url.replace(/^https:/, 'wss:'), '--ca', tls.ca] : ['--gateway', this.url];
  }

  nodeDir(id: string): string {
    return join(this.dataDir, 'nodes', id);
  }

  /**
   * Paths of the chunk files a disk node holds, read from its directory rather than asked of anyone;
   * its manifests, the files' and deletions' records, are in manifestFiles.
   */
  async chunkFiles(id: string): Promise<string[]> {
    return hashNamedFiles(this.nodeDir(id), (name) => name !== 'manifests');
  }

  async manifestFiles(id: string): Promise<string[]> {
    return hashNamedFiles(join(this.nodeDir(id), 'manifests'));
  }

  /** hash -> number of disk nodes holding a copy, over the given nodes. */
  async copiesOnDisk(ids: string[]): Promise<Map<string, number>> {
    const copies = new Map<string, number>();
    for (const id of ids) {
      for (const path of await this.chunkFiles(id)) {
        const hash = path.slice(-64);
        copies.set(hash, (copies.get(hash) ?? 0) + 1);
      }
    }
    return copies;
  }

  async kill(child: ChildProcess | null | undefined, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await stopChild(child, signal);
  }

  async killNode(id: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await this.kill(this.nodes.get(id), signal);
    this.nodes.delete(id);
  }

  async nodeStatus(id: string): Promise<string | undefined> {
    return (await this.client.nodes()).find((n) => n.id === id)?.status;
  }

  async waitForOnline(count: number, timeoutMs = 60_000): Promise<void> {
    await waitFor(async () => (await this.client.nodes()).filter((n) => n.status === 'online').length >= count, timeoutMs, `${count} nodes online`);
  }

  /** Until every running gateway has links to `count` online nodes. */
  async waitForLinks(count: number, timeoutMs = 60_000): Promise<void> {
    const linked = async (gateway: GatewayProcess) => (await gateway.client.nodes()).filter((n) => n.status === 'online' && n.linked).length >= count;
    await waitFor(async () => (await Promise.all(this.gateways.filter((g) => g.running).map(linked))).every(Boolean), timeoutMs, `every gateway linked to ${count} nodes`);
  }

  async stop(): Promise<void> {
    await Promise.all([...this.nodes.keys()].map((id) => this.killNode(id, 'SIGTERM')));
    await Promise.all(this.gateways.map((gateway) => gateway.stop('SIGTERM')));
    await Promise.all(this.gateways.map((gateway) => rm(gateway.dataDir, { recursive: true, force: true })));
  }
}

/** Files named by a hash under `dir`, in the directories `descend` lets the walk into. */
async function hashNamedFiles(dir: string, descend: (name: string) => boolean = () => true): Promise<string[]> {
  const out: string[] = [];
  const walk = async (at: string): Promise<void> => {
    for (const entry of await readdir(at, { withFileTypes: true }).catch(() => [])) {
      const path = join(at, entry.name);
      if (entry.isDirectory() && descend(entry.name)) await walk(path);
      else if (/^[0-9a-f]{64}$/.test(entry.name)) out.push(path);
    }
  };
  await walk(dir);
  return out;
}

/**
 * Gateway flags for healing tests: repair a second after a node goes. A node killed or stopped is
 * gone when its socket closes; silence judges only a frozen one, and a grace of a few seconds
 * keeps a loaded machine, on which a node can go seconds without running, from judging so nodes
 * the test never stopped.
 */
export const FAST_REPAIR = ['--repair-after', '1s', '--heartbeat-ms', '500', '--offline-after-ms', '10000'];

/** Uploads `count` files of `size` bytes and up, named after `seed`; resolves with each name's SHA-256. */
export async function uploadSet(cluster: TestCluster, count: number, size: number, seed: number): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (let i = 0; i < count; i++) {
    const data = randomBytesSeeded(size + i * 1000, seed + i);
    await cluster.client.upload(`set-${seed}/file-${i}.bin`, data);
    files.set(`set-${seed}/file-${i}.bin`, sha256Hex(data));
  }
  return files;
}

/** Downloads every file and checks its bytes against the SHA-256 it was uploaded with. */
export async function assertAllIntact(cluster: TestCluster, files: Map<string, string>): Promise<void> {
  for (const [name, digest] of files) {
    const res = await cluster.client.download(name);
    assert.equal(sha256Hex(new Uint8Array(await res.arrayBuffer())), digest, name);
  }
}

/** Every chunk has its R copies readable, and repair has nothing queued or running. */
export async function fullyReplicated(cluster: TestCluster): Promise<boolean> {
  const health = await cluster.client.health();
  return health.underReplicatedChunks === 0 && health.repair.queued + health.repair.active === 0;
}

/** Polls until `check` is true; fails with `what` after the timeout. */
export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (err) {
      lastError = err;
    }
    await sleep(100);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}`);
}

/** xorshift32: tiny, fast, and the same sequence for the same seed, so a failing run can be replayed. */
export function seededWords(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

/** Deterministic numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  const next = seededWords(seed);
  return () => next() / 2 ** 32;
}

/** Deterministic pseudo-random bytes, fast enough for tens of MiB. */
export function randomBytesSeeded(size: number, seed = 1): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size);
  const words = new Uint32Array(out.buffer, 0, Math.floor(size / 4));
  const next = seededWords(seed);
  for (let i = 0; i < words.length; i++) words[i] = next();
  for (let i = words.length * 4; i < size; i++) out[i] = i & 0xff;
  return out;
}
