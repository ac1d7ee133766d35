import type { ByteSource } from '../../../shared/chunker.ts';
import { ShoalError } from '../../../shared/errors.ts';

/** A request body that breaks off (the client went away) is the client's doing, not a gateway fault. */
export async function* fromClient(body: ByteSource): AsyncGenerator<Uint8Array> {
  try {
    yield* body as AsyncIterable<Uint8Array>;
  } catch (err) {
    if (err instanceof ShoalError) throw err;
    throw new ShoalError('UPLOAD_INCOMPLETE', `the upload broke off before its end: ${(err as Error).message}`, { cause: err });
  }
}
