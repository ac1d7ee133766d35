import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { ShoalClient } from '../../../shared/api-client.ts';
import { ShoalError } from '../../../shared/errors.ts';
import { parse, stringOption } from '../options.ts';
import { countingStream, ProgressBar } from '../progress.ts';
import { formatBytes, formatRate } from '../units.ts';

export async function uploadCommand(args: string[]): Promise<void> {
  const { values, positionals, gatewayUrl } = parse(args, { name: { type: 'string' } });
  const name = stringOption(values.name);
  if (positionals.length === 0) throw new ShoalError('BAD_REQUEST', 'usage: shoal upload <files...> [--name NAME]');
  if (name && positionals.length > 1) throw new ShoalError('BAD_REQUEST', '--name works with one file only');
  const client = new ShoalClient(gatewayUrl);
  for (const path of positionals) {
    const info = await stat(path).catch(() => null);
    if (!info?.isFile()) throw new ShoalError('BAD_REQUEST', `${path} is not a readable file`);
    const target = name ?? basename(path);
    const bar = new ProgressBar(`upload ${target}`, info.size);
    const body = (Readable.toWeb(createReadStream(path)) as ReadableStream<Uint8Array>).pipeThrough(countingStream((n) => bar.advance(n)));
    const file = await client.upload(target, body);
    const { seconds } = bar.finish();
    console.log(`uploaded ${file.name}: ${formatBytes(file.size)}, ${file.chunks} chunks × ${file.replicas} replicas, sha256 ${file.sha256} (${formatRate(file.size / Math.max(seconds, 0.001))})`);
  }
}

export async function downloadCommand(args: string[]): Promise<void> {
  const { values, positionals, gatewayUrl } = parse(args, { output: { type: 'string', short: 'o' } });
  const [name] = positionals;
  if (!name || positionals.length > 1) throw new ShoalError('BAD_REQUEST', 'usage: shoal download <name> [-o PATH]');
  const target = stringOption(values.output) ?? basename(name);
  const res = await new ShoalClient(gatewayUrl).download(name);
  const expected = (res.headers.get('etag') ?? '').replaceAll('"', '');
  const bar = new ProgressBar(`download ${name}`, Number(res.headers.get('content-length') ?? 0));
  const hash = createHash('sha256');
  const partial = `${target}.shoal-partial`;
  try {
    await res
      .body!.pipeThrough(countingStream((n) => bar.advance(n)))
      .pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, controller) {
            hash.update(chunk);
            controller.enqueue(chunk);
          },
        }),
      )
      .pipeTo(Writable.toWeb(createWriteStream(partial)));
    const actual = hash.digest('hex');
    if (expected && actual !== expected) throw new ShoalError('CHUNK_CORRUPT', `downloaded bytes hash to ${actual}, the gateway promised ${expected}`);
    await rename(partial, target);
  } catch (err) {
    await rm(partial, { force: true });
    if (err instanceof ShoalError) throw err;
    throw new ShoalError('CHUNK_UNAVAILABLE', `download of ${name} broke off: ${(err as Error).message}`);
  }
  const { bytes, seconds } = bar.finish();
  console.log(`downloaded ${name} to ${target}: ${formatBytes(bytes)}, sha256 verified (${formatRate(bytes / Math.max(seconds, 0.001))})`);
}

export async function lsCommand(args: string[]): Promise<void> {
  const { gatewayUrl } = parse(args, {});
  const files = await new ShoalClient(gatewayUrl).list();
  if (files.length === 0) {
    console.log('no files stored');
    return;
  }
  console.log(['SIZE'.padStart(10), 'CHUNKS'.padStart(6), 'HEALTH'.padEnd(11), 'CREATED'.padEnd(20), 'NAME'].join(' '));
  for (const f of files) {
    console.log([formatBytes(f.size).padStart(10), String(f.chunks).padStart(6), f.health.padEnd(11), f.createdAt.slice(0, 19).padEnd(20), f.name].join(' '));
  }
}

export async function rmCommand(args: string[]): Promise<void> {
  const { positionals, gatewayUrl } = parse(args, {});
  if (positionals.length === 0) throw new ShoalError('BAD_REQUEST', 'usage: shoal rm <name...>');
  const client = new ShoalClient(gatewayUrl);
  for (const name of positionals) {
    await client.delete(name);
    console.log(`deleted ${name}`);
  }
}

export async function statusCommand(args: string[]): Promise<void> {
  const { gatewayUrl } = parse(args, {});
  const client = new ShoalClient(gatewayUrl);
  const [health, nodes] = await Promise.all([client.health(), client.nodes()]);
  console.log(`cluster ${health.status}: ${health.nodesOnline}/${health.nodesTotal} nodes online, ${health.files} files, ${health.chunks} chunks, ` +
    `${health.underReplicatedChunks} under-replicated, ${formatBytes(health.usedBytes)} of ${formatBytes(health.capacityBytes)} used (R=${health.replicas})`);
  for (const n of nodes) {
    console.log(`  ${n.id.padEnd(14)} ${n.kind.padEnd(7)} ${n.status.padEnd(8)} ${formatBytes(n.usedBytes).padStart(9)} / ${formatBytes(n.capacityBytes).padEnd(9)} ${n.chunkCount} chunks, last seen ${n.lastSeenAt}${n.quarantine ? `, quarantined: ${n.quarantine}` : ''}`);
  }
}
