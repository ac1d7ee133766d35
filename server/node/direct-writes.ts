import { constants } from 'node:fs';
import { open, rm, type FileHandle } from 'node:fs/promises';

/** Below this a chunk is written through the page cache: the copy into an aligned buffer and a write to the device are not worth it. */
const DIRECT_FROM_BYTES = 64 * 1024;
/** What every device's direct I/O accepts as a length and file offset, and at most asks of memory. */
const BLOCK = 512;
const PAGE = 4096;
/** Aligned buffers held at once: more writes at a time than this go through the page cache. */
const MAX_BUFFERS = 4;

interface Aligned {
  /** A view starting where the device's direct I/O accepts memory, as long as the largest chunk it took. */
  bytes: Buffer;
}

/**
 * Chunk files written with O_DIRECT, bypassing the page cache. On the machines Shoal is measured
 * on (Linux 6.18, ext4, in a VM) a write through the page cache cost a node 2.5-3.2 system CPU-s
 * per GiB, fsync or not, against 0.6-0.9 with O_DIRECT and an fsync after (a minimal program doing
 * a node's work, /work/notes/u1-floor.mts): most of a node's cost per uploaded byte. The fsync
 * stays, for the file's size and the device's write cache. Direct I/O needs memory aligned to the
 * device, which a JavaScript buffer is not promised to be: the chunk is copied into a buffer at an
 * offset found aligned by a probe write, once per buffer. A file system, length or buffer that
 * direct I/O refuses (EINVAL) leaves the write to the caller's page-cache path.
 */
export class DirectWrites {
  readonly #spare: Aligned[] = [];
  #held = 0;
  /** Off for good once the file system refused direct I/O: every later write would be refused too. */
  #off = false;

  /**
   * Writes `data` to the new file `path` (owner only) and fsyncs it; false when it did not, and
   * left no file: the caller writes it the ordinary way.
   */
  async write(path: string, data: Uint8Array): Promise<boolean> {
    if (this.#off || data.length < DIRECT_FROM_BYTES || data.length % BLOCK !== 0 || this.#held >= MAX_BUFFERS) return false;
    this.#held++;
    let aligned: Aligned | undefined;
    let file: FileHandle | undefined;
    let written = false;
    try {
      file = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_DIRECT, 0o600);
      aligned = this.#take(data.length) ?? (await alignedFor(file, data.length));
      if (aligned) {
        aligned.bytes.set(data);
        // One call for the whole chunk: unlike a page-cache write (whole-file.ts), a direct one
        // costs no more in one piece, and measured a little less than in 512 KiB pieces.
        for (let at = 0; at < data.length; ) {
          const { bytesWritten } = await file.write(aligned.bytes, at, data.length - at, at);
          if (bytesWritten === 0) throw new Error(`the disk took none of the last ${data.length - at} bytes of ${path}`);
          at += bytesWritten;
        }
        await file.sync();
        written = true;
      }
    } catch (err) {
      if (!isCode(err, 'EINVAL')) throw err;
    } finally {
      // Before the close, which may fail too: the buffer is idle and the slot free either way.
      if (aligned) this.#keep(aligned);
      this.#held--;
      await file?.close();
    }
    if (written) return true;
    this.#off = true;
    if (file) await rm(path, { force: true });
    return false;
  }

  /** The smallest spare buffer that holds `length` bytes, so larger ones stay for larger chunks. */
  #take(length: number): Aligned | undefined {
    let at = -1;
    for (const [i, a] of this.#spare.entries()) if (a.bytes.length >= length && (at < 0 || a.bytes.length < this.#spare[at]!.bytes.length)) at = i;
    return at < 0 ? undefined : this.#spare.splice(at, 1)[0];
  }

  /**
   * Keeps `aligned` for a later write. When MAX_BUFFERS are kept already it replaces the smallest,
   * if smaller: a burst of small chunks would otherwise fill the spares for good, and every large
   * chunk after it allocate and probe a buffer of its own.
   */
  #keep(aligned: Aligned): void {
    if (this.#spare.length < MAX_BUFFERS) return void this.#spare.push(aligned);
    const smallest = this.#spare.reduce((a, b) => (b.bytes.length < a.bytes.length ? b : a));
    if (smallest.bytes.length < aligned.bytes.length) this.#spare[this.#spare.indexOf(smallest)] = aligned;
  }
}

/**
 * A buffer for `length` bytes at an offset direct I/O accepts, found by writing a page from each
 * 16-byte step (every allocation is 16-aligned) to `file`'s start, which the chunk then overwrites.
 */
async function alignedFor(file: FileHandle, length: number): Promise<Aligned | undefined> {
  const room = Buffer.allocUnsafeSlow(length + PAGE);
  for (let offset = 0; offset < PAGE; offset += 16) {
    try {
      await file.write(room, offset, PAGE, 0);
      return { bytes: room.subarray(offset, offset + length) };
    } catch (err) {
      if (!isCode(err, 'EINVAL')) throw err;
    }
  }
  return undefined;
}

function isCode(err: unknown, code: string): boolean {
  return err instanceof Error && (err as NodeJS.ErrnoException).code === code;
}
