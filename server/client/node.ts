/** `shoal/node`: the client, and helpers for files on this machine's disk. */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { ShoalClient, type FileInfo } from '../../shared/api-client.ts';
import { ShoalError } from '../../shared/errors.ts';
import { createSha256 } from '../sha256.ts';

export * from '../../shared/api-client.ts';

/** Uploads the file at `path`, streamed, under `name` (its base name by default). */
export async function uploadFile(
  client: ShoalClient,
  path: string,
  options: { name?: string; signal?: AbortSignal; onProgress?: (bytesSent: number, totalBytes: number) => void } = {},
): Promise<FileInfo> {
  const info = await stat(path).catch(() => null);
  if (!info?.isFile()) throw new ShoalError('BAD_REQUEST', `${path} is not a readable file`);
  const body = Readable.toWeb(createReadStream(path)) as ReadableStream<Uint8Array>;
  const { onProgress } = options;
  return client.upload(options.name ?? basename(path), body, {
    signal: options.signal,
    onProgress: onProgress && ((sent) => onProgress(sent, info.size)),
  });
}

/**
 * Downloads `name` to `path`, verified against its SHA-256: the file appears at `path` whole and
 * checked, or not at all (the bytes go to a `.shoal-partial` beside it first). A `path` that is a
 * directory, or ends with `/`, receives the file under its base name. Resolves to where it went.
 */
export async function downloadFile(
  client: ShoalClient,
  name: string,
  path: string,
  options: { signal?: AbortSignal; onProgress?: (bytesReceived: number, totalBytes: number) => void } = {},
): Promise<{ path: string; size: number; sha256: string }> {
  const target = (await isDirectoryTarget(path)) ? join(path, basename(name)) : path;
  await mkdir(dirname(target), { recursive: true });
  const partial = `${target}.shoal-partial`;
  try {
    const sink = Writable.toWeb(createWriteStream(partial)) as WritableStream<Uint8Array>;
    const result = await client.downloadTo(name, sink, { ...options, createHash: nodeSha256 });
    await rename(partial, target);
    return { path: target, ...result };
  } catch (err) {
    await rm(partial, { force: true });
    throw err;
  }
}

async function isDirectoryTarget(path: string): Promise<boolean> {
  if (path.endsWith('/') || path.endsWith('\\')) return true;
  return (await stat(path).catch(() => null))?.isDirectory() === true;
}

function nodeSha256() {
  const hash = createSha256();
  return { update: (data: Uint8Array) => void hash.update(data), digestHex: () => hash.digest('hex') };
}
