/**
 * The V8 flags every Shoal process runs with: bin.mjs's shebang carries them for `shoal` and
 * `npx shoal`, and whatever starts a gateway or node process itself (demo, the test cluster, the
 * bench) passes them the same way, so the bench measures what users run. V8 reads them only as it
 * starts (NODE_OPTIONS refuses --single-threaded-gc, and setting it later aborts), hence a flag
 * on the command line rather than code.
 *
 * --single-threaded-gc: on the 2-core machines Shoal is measured on, V8's parallel scavenge and
 * concurrent marking helpers spent ~2.6 CPU-s per GiB uploaded contending with the main thread
 * for the same cores; collecting on the main thread alone costs less in total.
 *
 * --no-incremental-marking: V8 11 (Node 20) counts the ArrayBuffer bytes allocated since the last
 * full collection as old-generation growth, even those the next scavenge frees. A 4 MiB chunk
 * brings ~8 MiB of such buffers (64 KiB socket reads, ws's reassembled frame), and scavenges free
 * them only every ~32 MiB, so that sawtooth alone crossed a 13 MB heap's limit and started a full
 * incremental collection every few chunks: 6-19 per 256 MiB on a disk node, each ~200 marking
 * steps, up to half the node's CPU. Without incremental marking a full collection waits until
 * the heap is really at its limit (1-2 per 256 MiB, one short pause each).
 */
export const NODE_FLAGS: readonly string[] = ['--single-threaded-gc', '--no-incremental-marking'];
