import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryChunkBackend, MemoryChunkStore } from './memory-chunk-store.ts';
import { Scrubber } from './scrubber.ts';

/** Storage whose listing fails, as a disk that was unmounted under a running node. */
class UnlistableBackend extends MemoryChunkBackend {
  failing = false;

  override async scan(): Promise<Map<string, number>> {
    if (this.failing) throw new Error('ENOENT: no such file or directory, scandir /mnt/gone');
    return super.scan();
  }
}

test('a scrub pass whose store cannot be listed reports the failure instead of crashing, and the next pass runs', async () => {
  const backend = new UnlistableBackend();
  const store = new MemoryChunkStore(1 << 20, backend);
  await store.ready();
  backend.failing = true;
  const failures: string[] = [];
  let passes = 0;
  const scrubber = new Scrubber(store, {
    intervalMs: 10,
    bytesPerSecond: 1 << 20,
    onCorrupt: () => {},
    onPass: () => passes++,
    onFailure: (err) => failures.push((err as Error).message),
  });
  scrubber.start();
  scrubber.runNow();
  await new Promise((resolve) => setTimeout(resolve, 50));
  backend.failing = false;
  await new Promise((resolve) => setTimeout(resolve, 50));
  scrubber.stop();
  assert.ok(failures.length >= 1 && failures[0]!.includes('scandir'), failures.join());
  assert.ok(passes >= 1, 'a pass ran once the store could be listed again');
});
