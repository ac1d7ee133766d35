import { ShoalError } from '../../../shared/errors.ts';
import { sha256Hex } from '../../sha256.ts';
import { validateFileName } from '../api/file-names.ts';
import type { ByteRange, FileReader } from '../files/file-reader.ts';
import type { FileWriter } from '../files/file-writer.ts';
import type { UploadAdmission } from '../files/upload-admission.ts';
import type { FileRecord, MetadataStore } from '../metadata/metadata-store.ts';
import { objectBody, type ObjectBody } from './request-body.ts';
import { S3Error } from './s3-errors.ts';
import type { BucketRecord, ObjectAttributes, S3Store } from './s3-store.ts';
import type { VerifiedSignature } from './sigv4.ts';

/** An object: Shoal's file `bucket/key` and what S3 keeps beside it. */
export interface S3Object {
  bucket: string;
  key: string;
  file: FileRecord;
  /** Quoted, as S3 sends it. */
  etag: string;
  contentType: string;
  metadata: Record<string, string>;
  lastModified: Date;
}

export interface NewAttributes {
  contentType: string | null;
  metadata: Record<string, string>;
}

const DEFAULT_CONTENT_TYPE = 'binary/octet-stream';

/**
 * S3's buckets and objects over Shoal's files: bucket B and key K are the file `B/K`, so what S3
 * stores is a file like any other (listed, downloaded, deleted through the native API too), and a
 * file stored natively under an existing bucket's name is an object of that bucket.
 */
export class S3Objects {
  readonly #metadata: MetadataStore;
  readonly #reader: FileReader;
  readonly #writer: FileWriter;
  readonly #admission: UploadAdmission;
  readonly #store: S3Store;

  constructor(metadata: MetadataStore, reader: FileReader, writer: FileWriter, admission: UploadAdmission, store: S3Store) {
    this.#metadata = metadata;
    this.#reader = reader;
    this.#writer = writer;
    this.#admission = admission;
    this.#store = store;
  }

  async createBucket(name: string): Promise<void> {
    validateBucketName(name);
    if (!(await this.#store.createBucket({ name, createdAt: new Date().toISOString() }))) {
      throw new S3Error('BucketAlreadyOwnedByYou', 'Your previous request to create the named bucket succeeded and you already own it.');
    }
  }

  async bucket(name: string): Promise<BucketRecord> {
    const bucket = await this.#store.getBucket(name);
    if (!bucket) throw new S3Error('NoSuchBucket', 'The specified bucket does not exist');
    return bucket;
  }

  listBuckets(): Promise<BucketRecord[]> {
    return this.#store.listBuckets();
  }

  async deleteBucket(name: string): Promise<void> {
    await this.bucket(name);
    if ((await this.files(name, '', '', 1)).length > 0 || (await this.#store.listMultiparts(name)).length > 0) {
      throw new S3Error('BucketNotEmpty', 'The bucket you tried to delete is not empty');
    }
    await this.#store.deleteBucket(name);
  }

  async get(bucket: string, key: string): Promise<S3Object> {
    const file = await this.#metadata.getFile(objectName(bucket, key));
    if (!file) throw new S3Error('NoSuchKey', 'The specified key does not exist.');
    return (await this.describe(bucket, [file]))[0]!;
  }

  /** The objects of files of `bucket`, with their S3 attributes where these were recorded for that very version. */
  async describe(bucket: string, files: FileRecord[]): Promise<S3Object[]> {
    const attributes = await this.#store.getAttributes(files.map((f) => f.name));
    return files.map((file) => {
      const own = attributes.get(file.name);
      const current = own && own.createdAt === file.createdAt ? own : undefined;
      return {
        bucket,
        key: file.name.slice(bucket.length + 1),
        file,
        etag: current?.etag ?? nativeEtag(file),
        contentType: current?.contentType ?? DEFAULT_CONTENT_TYPE,
        metadata: current?.metadata ?? {},
        lastModified: new Date(file.createdAt),
      };
    });
  }

  /**
   * The files of `bucket` whose keys start with `prefix` and sort after `after`, in key order, at
   * most `limit`.
   */
  async files(bucket: string, prefix: string, after: string, limit: number): Promise<FileRecord[]> {
    const page = await this.#metadata.listFilePage({ prefix: `${bucket}/${prefix}`, after: after === '' ? undefined : `${bucket}/${after}`, limit });
    return page.files;
  }

  /** Streams a PUT's body into the file `bucket/key`, checked as it goes; records its ETag (the MD5) and attributes. */
  async put(bucket: string, key: string, headers: Headers, raw: ReadableStream<Uint8Array> | null, signed: VerifiedSignature | null, attributes: NewAttributes): Promise<S3Object> {
    await this.bucket(bucket);
    const name = objectName(bucket, key);
    return this.receive(headers, raw, signed, async (body) => {
      const file = await this.#writer.store(name, iterableStream(body.bytes));
      return this.record(bucket, file, `"${body.md5Hex()}"`, attributes);
    });
  }

  /**
   * Runs `work` on a request body as an admitted upload (the gateway's limit of uploads at once and
   * of space), refused before the body is read when it cannot fit; the body's own S3 error (a
   * digest, a signature) is what fails, not the storage layer's wrapping of it.
   */
  async receive<T>(headers: Headers, raw: ReadableStream<Uint8Array> | null, signed: VerifiedSignature | null, work: (body: ObjectBody) => Promise<T>): Promise<T> {
    const probe = objectBody(headers, null, signed);
    this.#writer.assertCanAccept(probe.declaredSize);
    const upload = this.#admission.admit(probe.declaredSize);
    try {
      const body = objectBody(headers, upload.body(raw as AsyncIterable<Uint8Array> | null), signed);
      return await work(body).catch((err: unknown) => {
        throw body.failure() ?? err;
      });
    } finally {
      upload.end();
    }
  }

  /** Records S3's attributes for the version of a file just committed. */
  async record(bucket: string, file: FileRecord, etag: string, attributes: NewAttributes): Promise<S3Object> {
    const record: ObjectAttributes = { name: file.name, createdAt: file.createdAt, etag, contentType: attributes.contentType, metadata: attributes.metadata };
    await this.#store.putAttributes(record);
    return (await this.describe(bucket, [file]))[0]!;
  }

  /** S3's DeleteObject: a key that is not there is deleted already. */
  async delete(bucket: string, key: string): Promise<void> {
    const name = objectName(bucket, key);
    try {
      await this.#writer.delete(name);
    } catch (err) {
      if (!(err instanceof ShoalError && err.code === 'FILE_NOT_FOUND')) throw err;
    }
    await this.#store.deleteAttributes(name);
  }

  /** The object's bytes as a stream, which S3's answers and part copies pipe on, whether it is one chunk or many. */
  async open(object: S3Object, range: ByteRange): Promise<ReadableStream<Uint8Array>> {
    const body = await this.#reader.open(object.file, range);
    if (!(body instanceof Uint8Array)) return body;
    return new ReadableStream({
      start(controller) {
        controller.enqueue(body);
        controller.close();
      },
    });
  }

  /**
   * A copy of `source` as `bucket/key`: the same chunks committed again under the new name, no byte
   * read or written, with the source's ETag and either its attributes or `replace`.
   */
  async copy(source: S3Object, bucket: string, key: string, replace: NewAttributes | null): Promise<S3Object> {
    await this.bucket(bucket);
    const name = objectName(bucket, key);
    const records = [...(await this.#metadata.getChunks([...new Set(source.file.chunks.map((c) => c.hash))])).values()];
    const file = await this.#writer.commitChunks(name, source.file.chunks, source.file.sha256, records);
    return this.record(bucket, file, source.etag, replace ?? { contentType: source.contentType, metadata: source.metadata });
  }
}

/** The Shoal file name of an object, refused as S3 refuses keys it cannot store. */
export function objectName(bucket: string, key: string): string {
  if (key.length === 0) throw new S3Error('InvalidArgument', 'An object key may not be empty');
  if (Buffer.byteLength(key) > 1024) throw new S3Error('KeyTooLongError', 'Your key is too long');
  try {
    return validateFileName(encodeURIComponent(`${bucket}/${key}`));
  } catch (err) {
    throw new S3Error('InvalidArgument', `Shoal cannot store the key ${JSON.stringify(key)}: ${(err as Error).message}`);
  }
}

/** S3's bucket naming rules (general purpose buckets). */
export function validateBucketName(name: string): void {
  const ok =
    /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) &&
    !name.includes('..') &&
    !/^\d+\.\d+\.\d+\.\d+$/.test(name) &&
    !name.startsWith('xn--') &&
    !name.endsWith('-s3alias') &&
    !name.includes('.-') &&
    !name.includes('-.');
  if (!ok) throw new S3Error('InvalidBucketName', 'The specified bucket is not valid.');
}

/** The ETag of a file stored without S3's attributes: its SHA-256 like the native API's, never mistaken for an MD5. */
function nativeEtag(file: FileRecord): string {
  return `"${file.sha256 ?? `chunks-${sha256Hex(file.chunks.map((c) => c.hash).join(''))}`}"`;
}

/** A ReadableStream pulling from an async iterable only as fast as it is read. */
export function iterableStream(source: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
  const iterator = source[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const next = await iterator.next();
        if (next.done) controller.close();
        else controller.enqueue(next.value);
      },
      async cancel() {
        await iterator.return?.();
      },
    },
    { highWaterMark: 0 },
  );
}
