import { createHash } from 'node:crypto';
import { chunkStream, type ByteSource } from '../../shared/chunker.ts';
import { ShoalError } from '../../shared/errors.ts';
import type { GatewayContext } from './context.ts';
import type { ChunkRecord, FileRecord } from './metadata-store.ts';
import { deleteChunksFromNodes } from './chunk-cleanup.ts';

/** Refuses an upload before its body is read when the cluster cannot hold it. */
export function assertCanAccept(ctx: GatewayContext, declaredBytes: number | null): void {
  const { replicas, maxFileBytes } = ctx.config;
  const online = ctx.registry.writable().length;
  if (online < replicas) {
    throw new ShoalError('INSUFFICIENT_NODES', `${online} node(s) online, ${replicas} needed for ${replicas} replicas`);
  }
  if (declaredBytes !== null && declaredBytes > maxFileBytes) {
    throw new ShoalError('FILE_TOO_LARGE', `file of ${declaredBytes} bytes exceeds the maximum of ${maxFileBytes}`);
  }
}

/**
 * Streams a request body into replicated chunks and commits the file once every chunk is durable on
 * its replicas. At most `uploadWindow` chunks are in flight: while the window is full the body is
 * not read, so TCP backpressure reaches the client and memory stays at a few chunks. Any failure
 * before the commit leaves no file behind.
 */
export async function storeFile(ctx: GatewayContext, name: string, body: ReadableStream<Uint8Array> | null): Promise<FileRecord> {
  const { replicas, chunkSize, maxFileBytes, uploadWindow } = ctx.config;
  const fileHash = createHash('sha256');
  const hashes: string[] = [];
  const records = new Map<string, ChunkRecord>();
  const inFlight = new Set<Promise<void>>();
  let failure: unknown = null;
  let size = 0;

  const replicate = async (hash: string, data: Uint8Array): Promise<void> => {
    const written = await ctx.pins.locked([hash], async () => {
      const known = (await ctx.metadata.getChunks([hash])).get(hash);
      return ctx.replicator.ensure(hash, data, known?.nodeIds ?? [], replicas);
    });
    const before = records.get(hash)?.nodeIds ?? [];
    records.set(hash, { hash, size: data.length, nodeIds: [...new Set([...before, ...written])] });
  };

  try {
    for await (const chunk of chunkStream(fromClient(body ?? []), chunkSize)) {
      size += chunk.length;
      if (size > maxFileBytes) throw new ShoalError('FILE_TOO_LARGE', `upload exceeds the maximum of ${maxFileBytes} bytes`);
      fileHash.update(chunk);
      const hash = createHash('sha256').update(chunk).digest('hex');
      hashes.push(hash);
      ctx.pins.pin(hash);
      const task = replicate(hash, chunk).catch((err: unknown) => {
        failure ??= err;
      });
      inFlight.add(task);
      void task.finally(() => inFlight.delete(task));
      while (inFlight.size >= uploadWindow) await Promise.race(inFlight);
      if (failure) throw failure;
    }
    await Promise.all(inFlight);
    if (failure) throw failure;

    const file: FileRecord = {
      name,
      size,
      sha256: fileHash.digest('hex'),
      chunkSize,
      chunks: hashes,
      replicas,
      createdAt: new Date().toISOString(),
    };
    const { orphaned } = await ctx.metadata.commitFile(file, [...records.values()]);
    ctx.events.publish({ type: 'file.added', file: { name, size, sha256: file.sha256, chunks: hashes.length, createdAt: file.createdAt } });
    // The file is committed: cleaning up the version it replaced must neither delay nor fail the 201.
    deleteChunksFromNodes(ctx, orphaned).catch(() => ctx.orphans.noteEverywhere(orphaned));
    return file;
  } catch (err) {
    ctx.orphans.noteEverywhere(hashes);
    throw err;
  } finally {
    await Promise.allSettled(inFlight);
    for (const hash of hashes) ctx.pins.unpin(hash);
  }
}

/** A request body that breaks off (the client went away) is the client's doing, not a gateway fault. */
async function* fromClient(body: ByteSource): AsyncGenerator<Uint8Array> {
  try {
    yield* body as AsyncIterable<Uint8Array>;
  } catch (err) {
    throw new ShoalError('UPLOAD_INCOMPLETE', `the upload broke off before its end: ${(err as Error).message}`, { cause: err });
  }
}
