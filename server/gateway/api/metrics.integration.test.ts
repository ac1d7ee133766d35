import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { randomBytesSeeded, runShoal, TestCluster, waitFor } from '../../testing/cluster.ts';
import { startGateway } from '../start-gateway.ts';

const MiB = 1024 * 1024;

/** One sample of the text format: name, labels, value. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parse(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[key!] = value!.replace(/\\(.)/g, '$1');
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The sum of a metric's series whose labels include `where`. */
function sum(samples: Sample[], name: string, where: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(where).every(([key, value]) => s.labels[key] === value))
    .reduce((total, s) => total + s.value, 0);
}

function has(samples: Sample[], name: string): boolean {
  return samples.some((s) => s.name === name);
}

describe('GET /metrics', () => {
  test('numbers move with an upload (native and S3) and a dead node; only admin tokens and the scrape secret may read them', async () => {
    const secrets = await mkdtemp(join(tmpdir(), 'shoal-metrics-'));
    const scrapeSecret = 'scrape-0123456789abcdef';
    await writeFile(join(secrets, 'metrics-token'), `${scrapeSecret}\n`);
    // A killed node is offline once its socket closes; repair waits long enough for the gauges to be read.
    const cluster = await TestCluster.start({
      nodes: 3,
      gatewayArgs: ['--repair-after', '10m', '--s3-port', '0', '--metrics-token-file', join(secrets, 'metrics-token')],
    });
    const scrape = async (): Promise<Sample[]> => {
      const response = await cluster.fetch('/metrics');
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      return parse(await response.text());
    };
    try {
      const anonymous = await fetch(`${cluster.url}/metrics`);
      assert.equal(anonymous.status, 401);
      assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Bearer/);
      assert.equal((await cluster.fetch('/metrics', { headers: { authorization: 'Bearer not-a-token-of-this-gateway' } })).status, 401);
      const reader = await cluster.client.createToken({ role: 'read', name: 'dashboard reader' });
      assert.equal((await cluster.fetch('/metrics', { headers: { authorization: `Bearer ${reader.secret}` } })).status, 403);
      const scraper = await cluster.fetch('/metrics', { headers: { authorization: `Bearer ${scrapeSecret}` } });
      assert.equal(scraper.status, 200);
      assert.ok(has(parse(await scraper.text()), 'shoal_chunks'));
      // The scrape secret opens /metrics and nothing else.
      assert.equal((await cluster.fetch('/api/health', { headers: { authorization: `Bearer ${scrapeSecret}` } })).status, 401);

      const before = await scrape();
      assert.equal(sum(before, 'shoal_nodes', { kind: 'disk', status: 'online' }), 3);
      assert.equal(sum(before, 'shoal_nodes', { status: 'offline' }), 0);
      assert.ok(has(before, 'process_cpu_seconds_total') && has(before, 'nodejs_heap_size_used_bytes'), 'process metrics');
      assert.equal(sum(before, 'shoal_replicas_target'), 2);
      assert.ok(sum(before, 'shoal_node_capacity_bytes') > 0);

      const size = 10 * MiB;
      await cluster.client.upload('metrics/big.bin', randomBytesSeeded(size, 7));
      const s3Key = await cluster.client.createS3Key({ role: 'write', name: 'metrics test' });
      const s3 = new S3Client({ endpoint: cluster.s3Url, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: s3Key.key.id, secretAccessKey: s3Key.secret }, maxAttempts: 1 });
      try {
        await s3.send(new CreateBucketCommand({ Bucket: 'metrics' }));
        await s3.send(new PutObjectCommand({ Bucket: 'metrics', Key: 'small.bin', Body: randomBytesSeeded(MiB, 8) }));
      } finally {
        s3.destroy();
      }

      const after = await scrape();
      const put = { api: 'native', method: 'PUT', status: '201' };
      const puts = after.filter((s) => s.name === 'shoal_http_requests_total' && Object.entries(put).every(([k, v]) => s.labels[k] === v));
      assert.equal(puts.length, 1, 'one series for file PUTs');
      // A route template, never the file's name.
      assert.equal(puts[0]!.labels.operation, '/api/files/*');
      assert.equal(puts[0]!.value - sum(before, 'shoal_http_requests_total', put), 1);
      assert.ok(sum(after, 'shoal_http_request_bytes_total', put) - sum(before, 'shoal_http_request_bytes_total', put) >= size, 'bytes in');
      assert.ok(sum(after, 'shoal_http_request_duration_seconds_count', { api: 'native', method: 'PUT' }) >= 1, 'latency observed');
      assert.ok(sum(after, 'shoal_http_response_bytes_total', { api: 'native', method: 'GET' }) > sum(before, 'shoal_http_response_bytes_total', { api: 'native', method: 'GET' }), 'bytes out');
      assert.equal(sum(after, 'shoal_http_requests_total', { api: 's3', operation: 'putObject', status: '200' }), 1);
      assert.ok(sum(after, 'shoal_http_request_bytes_total', { api: 's3', operation: 'putObject' }) >= MiB, 'S3 bytes in');
      assert.equal(sum(after, 'shoal_files') - sum(before, 'shoal_files'), 2);
      assert.ok(sum(after, 'shoal_chunks') - sum(before, 'shoal_chunks') >= 4, 'chunks of both files');
      // Every chunk went to R = 2 nodes, sealed (a little larger): in WebSocket frames, or over HTTP for nodes that offer it.
      const out = (samples: Sample[]) => sum(samples, 'shoal_node_ws_bytes_total', { direction: 'out' }) + sum(samples, 'shoal_node_bulk_bytes_total', { direction: 'out' });
      const sent = out(after) - out(before);
      assert.ok(sent >= 2 * (size + MiB), `${sent} bytes sent to nodes`);
      assert.ok(sum(after, 'shoal_node_ws_frames_total', { direction: 'in' }) > sum(before, 'shoal_node_ws_frames_total', { direction: 'in' }));
      assert.equal(sum(after, 'shoal_chunks_under_replicated'), 0);

      // Once the nodes have reported their usage, the one holding the most copies dies.
      await waitFor(async () => sum(await scrape(), 'shoal_node_chunks') >= 2 * sum(after, 'shoal_chunks'), 30_000, 'nodes report their copies');
      const held = (await scrape()).filter((s) => s.name === 'shoal_node_chunks').sort((a, b) => b.value - a.value);
      const victim = held[0]!.labels.node!;
      await cluster.killNode(victim);
      let dead: Sample[] = [];
      await waitFor(async () => sum((dead = await scrape()), 'shoal_nodes', { status: 'offline' }) === 1, 30_000, `${victim} offline in the metrics`);
      assert.equal(sum(dead, 'shoal_nodes', { kind: 'disk', status: 'online' }), 2);
      assert.equal(sum(dead, 'shoal_node_online', { node: victim }), 0);
      assert.ok(sum(dead, 'shoal_chunks_under_replicated') > 0, 'chunks lost a copy');
      assert.equal(sum(dead, 'shoal_chunks_unavailable'), 0);
      assert.ok(has(dead, 'shoal_repair_queue') && has(dead, 'shoal_repair_copies_made_total'));
    } finally {
      await cluster.stop();
      await rm(secrets, { recursive: true, force: true });
    }
  });

  test('two gateways in one process keep their own metrics', async () => {
    const dirs = await Promise.all([1, 2].map(() => mkdtemp(join(tmpdir(), 'shoal-metrics-'))));
    const gateways = await Promise.all(dirs.map((dataDir) => startGateway({ port: 0, dataDir })));
    try {
      const scrape = async (i: number) => {
        const response = await fetch(`${gateways[i]!.url}/metrics`, { headers: { authorization: `Bearer ${gateways[i]!.adminToken}` } });
        assert.equal(response.status, 200);
        return parse(await response.text());
      };
      await fetch(`${gateways[0]!.url}/api/health`, { headers: { authorization: `Bearer ${gateways[0]!.adminToken}` } });
      await waitFor(async () => sum(await scrape(0), 'shoal_http_requests_total', { operation: '/api/health' }) === 1, 30_000, 'the health call counted');
      assert.equal(sum(await scrape(1), 'shoal_http_requests_total', { operation: '/api/health' }), 0);
      assert.ok(has(await scrape(1), 'process_cpu_seconds_total'));
    } finally {
      await Promise.all(gateways.map((g) => g.close()));
      await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
    }
  });

  test('a gateway refuses to start with a weak scrape secret', async () => {
    const secrets = await mkdtemp(join(tmpdir(), 'shoal-metrics-'));
    try {
      await writeFile(join(secrets, 'metrics-token'), 'short\n');
      const run = await runShoal(['gateway', '--port', '0', '--data', join(secrets, 'data'), '--metrics-token-file', join(secrets, 'metrics-token')]);
      assert.notEqual(run.code, 0);
      assert.match(run.stderr, /at least 16 characters/);
    } finally {
      await rm(secrets, { recursive: true, force: true });
    }
  });
});
