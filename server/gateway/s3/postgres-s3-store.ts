import type { PostgresMetadataStore } from '../metadata/postgres-metadata-store.ts';
import type { AccessKeyRecord, BucketRecord, MultipartRecord, ObjectAttributes, S3Store } from './s3-store.ts';
import { toKey, toMultipart, type AttributesRow, type KeyRow, type MultipartRow } from './sqlite-s3-store.ts';

/** The S3 tables in the metadata's PostgreSQL database, as SqliteS3Store keeps them. */
export class PostgresS3Store implements S3Store {
  readonly #metadata: PostgresMetadataStore;

  constructor(metadata: PostgresMetadataStore) {
    this.#metadata = metadata;
  }

  async createBucket(bucket: BucketRecord): Promise<boolean> {
    return (await this.#metadata.write('INSERT INTO s3_buckets (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [bucket.name, bucket.createdAt])) > 0;
  }

  async getBucket(name: string): Promise<BucketRecord | undefined> {
    return (await this.listBuckets(name))[0];
  }

  async listBuckets(name?: string): Promise<BucketRecord[]> {
    const { rows } = await this.#metadata.pool.query<{ name: string; created_at: string }>(
      'SELECT * FROM s3_buckets WHERE $1::text IS NULL OR name = $1 ORDER BY name',
      [name ?? null],
    );
    return rows.map((row) => ({ name: row.name, createdAt: row.created_at }));
  }

  async deleteBucket(name: string): Promise<boolean> {
    return (await this.#metadata.write('DELETE FROM s3_buckets WHERE name = $1', [name])) > 0;
  }

  async putAttributes(a: ObjectAttributes): Promise<void> {
    await this.#metadata.write(
      `INSERT INTO s3_objects (name, created_at, etag, content_type, metadata) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (name) DO UPDATE SET created_at = excluded.created_at, etag = excluded.etag, content_type = excluded.content_type, metadata = excluded.metadata`,
      [a.name, a.createdAt, a.etag, a.contentType, JSON.stringify(a.metadata)],
    );
  }

  async getAttributes(names: string[]): Promise<Map<string, ObjectAttributes>> {
    const { rows } = await this.#metadata.pool.query<AttributesRow>('SELECT * FROM s3_objects WHERE name = ANY($1)', [names]);
    return new Map(
      rows.map((row) => [
        row.name,
        { name: row.name, createdAt: row.created_at, etag: row.etag, contentType: row.content_type, metadata: JSON.parse(row.metadata) as Record<string, string> },
      ]),
    );
  }

  async deleteAttributes(name: string): Promise<void> {
    await this.#metadata.write('DELETE FROM s3_objects WHERE name = $1', [name]);
  }

  async createAccessKey(key: AccessKeyRecord): Promise<void> {
    await this.#metadata.write('INSERT INTO s3_access_keys (id, sealed_secret, name, role, created_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6)', [
      key.id,
      key.sealedSecret,
      key.name,
      key.role,
      key.createdAt,
      key.revokedAt,
    ]);
  }

  async getAccessKey(id: string): Promise<AccessKeyRecord | undefined> {
    const { rows } = await this.#metadata.pool.query<KeyRow>('SELECT * FROM s3_access_keys WHERE id = $1', [id]);
    return rows[0] && toKey(rows[0]);
  }

  async listAccessKeys(): Promise<AccessKeyRecord[]> {
    return (await this.#metadata.pool.query<KeyRow>('SELECT * FROM s3_access_keys ORDER BY created_at, id')).rows.map(toKey);
  }

  async revokeAccessKey(id: string, at: string): Promise<boolean> {
    return (await this.#metadata.write('UPDATE s3_access_keys SET revoked_at = coalesce(revoked_at, $1) WHERE id = $2', [at, id])) > 0;
  }

  async createMultipart(u: MultipartRecord): Promise<void> {
    await this.#metadata.write('INSERT INTO s3_multipart_uploads (id, bucket, key, created_at, content_type, metadata) VALUES ($1, $2, $3, $4, $5, $6)', [
      u.id,
      u.bucket,
      u.key,
      u.createdAt,
      u.contentType,
      JSON.stringify(u.metadata),
    ]);
  }

  async getMultipart(id: string): Promise<MultipartRecord | undefined> {
    const { rows } = await this.#metadata.pool.query<MultipartRow>('SELECT * FROM s3_multipart_uploads WHERE id = $1', [id]);
    return rows[0] && toMultipart(rows[0]);
  }

  async listMultiparts(bucket: string): Promise<MultipartRecord[]> {
    const { rows } = await this.#metadata.pool.query<MultipartRow>('SELECT * FROM s3_multipart_uploads WHERE bucket = $1 ORDER BY key, created_at, id', [bucket]);
    return rows.map(toMultipart);
  }

  async deleteMultipart(id: string): Promise<void> {
    await this.#metadata.write('DELETE FROM s3_multipart_uploads WHERE id = $1', [id]);
  }
}
