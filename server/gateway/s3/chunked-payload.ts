import { createSha256 } from '../../sha256.ts';
import { S3Error } from './s3-errors.ts';
import { chunkSignature, sameHex, trailerSignature, type VerifiedSignature } from './sigv4.ts';

/**
 * Decodes an `aws-chunked` body
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html): chunks of
 * `<hex size>[;chunk-signature=<sig>]\r\n<data>\r\n`, ended by a chunk of size 0, then trailing
 * headers (`x-amz-checksum-…`, `x-amz-trailer-signature`) and an empty line. With `signed`, each
 * chunk's signature is checked against the chain seeded by the request's signature before the
 * next chunk is read, so a forged chunk fails the upload before it can be committed.
 *
 * Yields the data as it arrives, never more than one network read at a time; the trailers are
 * put in `trailers` once the body has ended.
 */
export async function* decodeAwsChunked(
  source: AsyncIterable<Uint8Array>,
  signed: VerifiedSignature | null,
  trailers: Map<string, string>,
): AsyncGenerator<Uint8Array> {
  const input = new ByteInput(source);
  let previous = signed?.signature ?? '';
  for (;;) {
    const header = await input.line();
    const [sizeText = '', ...extensions] = header.split(';');
    if (!/^[0-9a-fA-F]{1,16}$/.test(sizeText.trim())) throw incomplete(`a chunk header ${JSON.stringify(header.slice(0, 80))} has no hex size`);
    const size = parseInt(sizeText, 16);
    const claimed = extensions.map((e) => e.trim()).find((e) => e.startsWith('chunk-signature='))?.slice('chunk-signature='.length);
    if (signed && !claimed) throw new S3Error('SignatureDoesNotMatch', 'A chunk of a signed streaming body carries no chunk-signature');
    const hash = signed ? createSha256() : null;
    for (let left = size; left > 0; ) {
      const piece = await input.take(left);
      hash?.update(piece);
      left -= piece.length;
      yield piece;
    }
    if (signed) {
      const expected = chunkSignature(signed, previous, hash!.digest('hex'));
      if (!sameHex(expected, claimed!)) throw new S3Error('SignatureDoesNotMatch', 'The signature of a chunk of the body does not match: the body was altered or signed with another key');
      previous = expected;
    }
    if (size === 0) break;
    if ((await input.line()) !== '') throw incomplete('a chunk is longer than its declared size');
  }
  const lines: string[] = [];
  for (let line = await input.line(true); line !== null && line !== ''; line = await input.line(true)) lines.push(line);
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) trailers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const trailerSig = trailers.get('x-amz-trailer-signature');
  if (signed && trailerSig !== undefined) {
    const signedPart = lines.filter((line) => !line.toLowerCase().startsWith('x-amz-trailer-signature:')).map((line) => `${line}\n`).join('');
    if (!sameHex(trailerSignature(signed, previous, signedPart), trailerSig)) {
      throw new S3Error('SignatureDoesNotMatch', 'The signature of the trailing headers does not match');
    }
  }
}

function incomplete(why: string): S3Error {
  return new S3Error('IncompleteBody', `The aws-chunked body is malformed: ${why}`);
}

/** The longest chunk header or trailer line read: a signature extension and a checksum fit many times over. */
const MAX_LINE = 4096;

/** Reads lines and byte counts off a stream of network reads, keeping what is left over between calls. */
class ByteInput {
  readonly #source: AsyncIterator<Uint8Array>;
  #buffer: Uint8Array = new Uint8Array(0);
  #ended = false;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.#source = source[Symbol.asyncIterator]();
  }

  async #more(): Promise<boolean> {
    if (this.#ended) return false;
    const next = await this.#source.next();
    if (next.done) {
      this.#ended = true;
      return false;
    }
    this.#buffer = this.#buffer.length === 0 ? next.value : Buffer.concat([this.#buffer, next.value]);
    return true;
  }

  /** The next line without its CRLF; at the end of the body, null if `endOk`, else an error. */
  async line(endOk: true): Promise<string | null>;
  async line(): Promise<string>;
  async line(endOk = false): Promise<string | null> {
    let searched = 0;
    for (;;) {
      const at = indexOfCrlf(this.#buffer, searched);
      if (at >= 0) {
        const text = Buffer.from(this.#buffer.buffer, this.#buffer.byteOffset, at).toString('latin1');
        this.#buffer = this.#buffer.subarray(at + 2);
        return text;
      }
      searched = Math.max(0, this.#buffer.length - 1);
      if (this.#buffer.length > MAX_LINE) throw incomplete('a chunk header or trailer is too long');
      if (!(await this.#more())) {
        if (endOk && this.#buffer.length === 0) return null;
        throw incomplete('the body ended in the middle of a chunk header');
      }
    }
  }

  /** Up to `most` bytes, at least one. */
  async take(most: number): Promise<Uint8Array> {
    if (this.#buffer.length === 0 && !(await this.#more())) throw incomplete('the body ended in the middle of a chunk');
    const piece = this.#buffer.subarray(0, most);
    this.#buffer = this.#buffer.subarray(piece.length);
    return piece;
  }
}

function indexOfCrlf(buffer: Uint8Array, from: number): number {
  for (let i = buffer.indexOf(13, from); i >= 0 && i + 1 < buffer.length; i = buffer.indexOf(13, i + 1)) {
    if (buffer[i + 1] === 10) return i;
  }
  return -1;
}
