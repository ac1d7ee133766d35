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
 */
export const NODE_FLAGS: readonly string[] = ['--single-threaded-gc'];
