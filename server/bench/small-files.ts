import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';

export interface SmallFilesResult {
  putPerS: number;
  putP50ms: number;
  putP99ms: number;
  getPerS: number;
  getP50ms: number;
  getP99ms: number;
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
}

/** One request over a kept-alive connection; resolves with the status and the body. */
function call(agent: Agent, method: 'PUT' | 'GET', url: string, headers: Record<string, string>, body?: Buffer): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent, headers: body ? { ...headers, 'content-length': String(body.length) } : headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Runs `each(i)` for i < count with `concurrency` at once; the rate and the latency percentiles. */
async function phase(count: number, concurrency: number, each: (i: number) => Promise<void>): Promise<{ perS: number; p50: number; p99: number }> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        const t = performance.now();
        await each(i);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))]! * 10) / 10;
  return { perS: Math.round(count / seconds), p50: at(0.5), p99: at(0.99) };
}

/**
 * Small objects, as ../shared/peers/small-files-bench.mjs measures them against other stores: PUT
 * `count` distinct objects of `size` bytes with `concurrency` requests at once, then GET each back
 * and compare. Plain node:http with kept-alive connections, so the client costs little.
 */
export async function benchSmallFiles(options: SmallFilesOptions): Promise<SmallFilesResult> {
  const { url, count, size, concurrency, prefix, headers = {}, putOnly = false } = options;
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const bodies = Array.from({ length: count }, () => randomBytes(size));
  const fileUrl = (i: number) => `${url}/api/files/${prefix}/o${i}`;
  try {
    const put = await phase(count, concurrency, async (i) => {
      const res = await call(agent, 'PUT', fileUrl(i), headers, bodies[i]);
      if (res.status !== 201) throw new Error(`small PUT ${i}: ${res.status} ${res.body}`);
    });
    if (putOnly) return { putPerS: put.perS, putP50ms: put.p50, putP99ms: put.p99, getPerS: 0, getP50ms: 0, getP99ms: 0 };
    const get = await phase(count, concurrency, async (i) => {
      const res = await call(agent, 'GET', fileUrl(i), headers);
      if (res.status !== 200 || !res.body.equals(bodies[i]!)) throw new Error(`small GET ${i}: ${res.status}, ${res.body.length} bytes`);
    });
    return { putPerS: put.perS, putP50ms: put.p50, putP99ms: put.p99, getPerS: get.perS, getP50ms: get.p50, getP99ms: get.p99 };
  } finally {
    agent.destroy();
  }
}
