import { open, type FileHandle } from 'node:fs/promises';

/** Up to `length` bytes of `file` from `position`, fewer where it ends first. */
export async function readAt(file: FileHandle, length: number, position: number): Promise<Uint8Array> {
  const data = new Uint8Array(length);
  let filled = 0;
  for (let read = -1; read !== 0 && filled < length; filled += read) {
    ({ bytesRead: read } = await file.read(data, filled, length - filled, position + filled));
  }
  return filled === length ? data : data.subarray(0, filled);
}

/**
 * The file at `path` as long as it was when opened, in one read where the kernel gives it all.
 * Node's readFile reads 512 KiB per call, so a 4 MiB chunk cost eight thread-pool round trips and
 * signal checks; measured, a node's CPU per GiB served (with the hash check) went down 3-9 %,
 * mostly system time. Writes through the page cache stay with FileHandle.writeFile's 512 KiB
 * pieces: on the Linux 6.18 / ext4 machines Shoal is measured on, one 4 MiB write cost 0.4-2.2
 * system CPU-s per GiB against a steady ~0.5 for pieces of 1 MiB or less, and 1 MiB pieces saved
 * nothing measurable over 512 KiB. Large chunks skip the page cache (direct-writes.ts).
 */
export async function readWhole(path: string): Promise<Uint8Array> {
  const file = await open(path, 'r');
  try {
    return await readAt(file, (await file.stat()).size, 0);
  } finally {
    await file.close();
  }
}
