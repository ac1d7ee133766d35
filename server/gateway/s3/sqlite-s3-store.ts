import type Database from 'better-sqlite3';
import type { Role } from '../auth/roles.ts';
import type { AccessKeyRecord, BucketRecord, MultipartRecord, ObjectAttributes, S3Store } from './s3-store.ts';

export interface AttributesRow {
  name: string;
  created_at: string;
  etag: string;
  content_type: string | null;
  metadata: string;
}

export interface KeyRow {
  id: string;
  sealed_secret: string;
  name: string;
  role: Role;
  created_at: string;
  revoked_at: string | null;
}

export interface MultipartRow {
  id: string;
  bucket: string;
  key: string;
  created_at: string;
  content_type: string | null;
  metadata: string;
}

/** The S3 tables (s3_buckets, s3_objects, s3_access_keys, s3_multipart_uploads) in the metadata's SQLite database. */
export class SqliteS3Store implements S3Store {
  readonly #sql;

  constructor(db: Database.Database) {
    this.#sql = {
      insertBucket: db.prepare<[string, string]>('INSERT OR IGNORE INTO s3_buckets (name, created_at) VALUES (?, ?)'),
      getBucket: db.prepare<[string], { name: string; created_at: string }>('SELECT * FROM s3_buckets WHERE name = ?'),
      listBuckets: db.prepare<[], { name: string; created_at: string }>('SELECT * FROM s3_buckets ORDER BY name'),
      deleteBucket: db.prepare<[string]>('DELETE FROM s3_buckets WHERE name = ?'),
      putAttributes: db.prepare<[AttributesRow]>(
        `INSERT OR REPLACE INTO s3_objects (name, created_at, etag, content_type, metadata)
         VALUES (@name, @created_at, @etag, @content_type, @metadata)`,
      ),
      getAttributes: db.prepare<[string], AttributesRow>('SELECT * FROM s3_objects WHERE name IN (SELECT value FROM json_each(?))'),
      deleteAttributes: db.prepare<[string]>('DELETE FROM s3_objects WHERE name = ?'),
      insertKey: db.prepare<[KeyRow]>(
        'INSERT INTO s3_access_keys (id, sealed_secret, name, role, created_at, revoked_at) VALUES (@id, @sealed_secret, @name, @role, @created_at, @revoked_at)',
      ),
      getKey: db.prepare<[string], KeyRow>('SELECT * FROM s3_access_keys WHERE id = ?'),
      listKeys: db.prepare<[], KeyRow>('SELECT * FROM s3_access_keys ORDER BY created_at, id'),
      revokeKey: db.prepare<[string, string]>('UPDATE s3_access_keys SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?'),
      insertMultipart: db.prepare<[MultipartRow]>(
        'INSERT INTO s3_multipart_uploads (id, bucket, key, created_at, content_type, metadata) VALUES (@id, @bucket, @key, @created_at, @content_type, @metadata)',
      ),
      getMultipart: db.prepare<[string], MultipartRow>('SELECT * FROM s3_multipart_uploads WHERE id = ?'),
      listMultiparts: db.prepare<[string], MultipartRow>('SELECT * FROM s3_multipart_uploads WHERE bucket = ? ORDER BY key, created_at, id'),
      deleteMultipart: db.prepare<[string]>('DELETE FROM s3_multipart_uploads WHERE id = ?'),
    };
  }

  async createBucket(bucket: BucketRecord): Promise<boolean> {
    return this.#sql.insertBucket.run(bucket.name, bucket.createdAt).changes > 0;
  }

  async getBucket(name: string): Promise<BucketRecord | undefined> {
    const row = this.#sql.getBucket.get(name);
    return row && { name: row.name, createdAt: row.created_at };
  }

  async listBuckets(): Promise<BucketRecord[]> {
    return this.#sql.listBuckets.all().map((row) => ({ name: row.name, createdAt: row.created_at }));
  }

  async deleteBucket(name: string): Promise<boolean> {
    return this.#sql.deleteBucket.run(name).changes > 0;
  }

  async putAttributes(a: ObjectAttributes): Promise<void> {
    this.#sql.putAttributes.run({ name: a.name, created_at: a.createdAt, etag: a.etag, content_type: a.contentType, metadata: JSON.stringify(a.metadata) });
  }

  async getAttributes(names: string[]): Promise<Map<string, ObjectAttributes>> {
    const rows = names.length === 0 ? [] : this.#sql.getAttributes.all(JSON.stringify(names));
    return new Map(
      rows.map((row) => [
        row.name,
        { name: row.name, createdAt: row.created_at, etag: row.etag, contentType: row.content_type, metadata: JSON.parse(row.metadata) as Record<string, string> },
      ]),
    );
  }

  async deleteAttributes(name: string): Promise<void> {
    this.#sql.deleteAttributes.run(name);
  }

  async createAccessKey(key: AccessKeyRecord): Promise<void> {
    this.#sql.insertKey.run({ id: key.id, sealed_secret: key.sealedSecret, name: key.name, role: key.role, created_at: key.createdAt, revoked_at: key.revokedAt });
  }

  async getAccessKey(id: string): Promise<AccessKeyRecord | undefined> {
    const row = this.#sql.getKey.get(id);
    return row && toKey(row);
  }

  async listAccessKeys(): Promise<AccessKeyRecord[]> {
    return this.#sql.listKeys.all().map(toKey);
  }

  async revokeAccessKey(id: string, at: string): Promise<boolean> {
    return this.#sql.revokeKey.run(at, id).changes > 0;
  }

  async createMultipart(u: MultipartRecord): Promise<void> {
    this.#sql.insertMultipart.run({ id: u.id, bucket: u.bucket, key: u.key, created_at: u.createdAt, content_type: u.contentType, metadata: JSON.stringify(u.metadata) });
  }

  async getMultipart(id: string): Promise<MultipartRecord | undefined> {
    const row = this.#sql.getMultipart.get(id);
    return row && toMultipart(row);
  }

  async listMultiparts(bucket: string): Promise<MultipartRecord[]> {
    return this.#sql.listMultiparts.all(bucket).map(toMultipart);
  }

  async deleteMultipart(id: string): Promise<void> {
    this.#sql.deleteMultipart.run(id);
  }
}

export function toKey(row: KeyRow): AccessKeyRecord {
  return { id: row.id, sealedSecret: row.sealed_secret, name: row.name, role: row.role, createdAt: row.created_at, revokedAt: row.revoked_at };
}

export function toMultipart(row: MultipartRow): MultipartRecord {
  return { id: row.id, bucket: row.bucket, key: row.key, createdAt: row.created_at, contentType: row.content_type, metadata: JSON.parse(row.metadata) as Record<string, string> };
}
