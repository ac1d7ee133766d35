import { randomBytes } from 'node:crypto';
import { KeptConnection, headerLines } from './kept-connection.ts';
import { cpuSeconds } from './process-cpu.ts';

export interface SmallFilesResult {
  putPerS: number;
  putP50ms: number;
  putP99ms: number;
  getPerS: number;
  getP50ms: number;
  getP99ms: number;
  /** CPU milliseconds per request each process spent, per phase, when `pids` were given. */
  putCpuMs?: Record<string, number>;
  getCpuMs?: Record<string, number>;
}

export interface SmallFilesOptions {
  /** The gateway's base URL. */
  url: string;
  count: number;
  size: number;
  concurrency: number;
  prefix: string;
  headers?: Record<string, string>;
  /** Only store them: to fill a cluster with files. */
  putOnly?: boolean;
  /** Processes (gateway, nodes, this client) whose CPU time each phase accounts for. */
  pids?: Record<string, number>;
}

/** Runs `each(i, connection)` for i < count on `connections` at once; the rate, the latency percentiles and each process's CPU per request. */
async function phase(count: number, connections: KeptConnection[], pids: Record<string, number>, each: (i: number, connection: KeptConnection) => Promise<void>): Promise<{ perS: number; p50: number; p99: number; cpuMs: Record<string, number> }> {
  const latencies: number[] = [];
  const cpuBefore = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuSeconds(pid)]));
  let next = 0;
  const started = performance.now();
  await Promise.all(
    connections.map(async (connection) => {
      while (next < count) {
        const i = next++;
        const t = performance.now();
        await each(i, connection);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const cpuMs = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, Math.round(((cpuSeconds(pid) - cpuBefore[name]!) / count) * 1e5) / 100]));
  latencies.sort((a, b) => a - b);
  const at = (q: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))]! * 10) / 10;
  return { perS: Math.round(count / seconds), p50: at(0.5), p99: at(0.99), cpuMs };
}

/**
 * Small objects, as ../shared/peers/small-files-bench.mjs measures them against other stores: PUT
 * `count` distinct objects of `size` bytes with `concurrency` requests at once, then GET each back
 * and compare, over `concurrency` kept-alive connections (kept-connection.ts), so the client costs little.
 */
export async function benchSmallFiles(options: SmallFilesOptions): Promise<SmallFilesResult> {
  const { url, count, size, concurrency, prefix, headers = {}, putOnly = false, pids = {} } = options;
  const connections = Array.from({ length: concurrency }, () => new KeptConnection(url));
  const lines = headerLines(headers);
  const bodies = Array.from({ length: count }, () => randomBytes(size));
  const filePath = (i: number) => `/api/files/${prefix}/o${i}`;
  try {
    const put = await phase(count, connections, pids, async (i, connection) => {
      const res = await connection.request('PUT', filePath(i), lines, bodies[i]);
      if (res.status !== 201) throw new Error(`small PUT ${i}: ${res.status} ${res.body}`);
    });
    if (putOnly) return { putPerS: put.perS, putP50ms: put.p50, putP99ms: put.p99, getPerS: 0, getP50ms: 0, getP99ms: 0 };
    const get = await phase(count, connections, pids, async (i, connection) => {
      const res = await connection.request('GET', filePath(i), lines);
      if (res.status !== 200 || !res.body.equals(bodies[i]!)) throw new Error(`small GET ${i}: ${res.status}, ${res.body.length} bytes`);
    });
    return { putPerS: put.perS, putP50ms: put.p50, putP99ms: put.p99, putCpuMs: put.cpuMs, getPerS: get.perS, getP50ms: get.p50, getP99ms: get.p99, getCpuMs: get.cpuMs };
  } finally {
    for (const connection of connections) connection.close();
  }
}
