import type { Role } from '../auth/roles.ts';

/** A bucket: a top-level folder of Shoal's names that S3 clients see as a bucket. */
export interface BucketRecord {
  name: string;
  createdAt: string;
}

/**
 * What S3 keeps of an object beside Shoal's file: for the version of file `name` created at
 * `createdAt` (a file replaced through the native API is another version, without these).
 */
export interface ObjectAttributes {
  name: string;
  createdAt: string;
  /** As S3 quotes it: `"<md5 hex>"`, or `"<md5 of the parts' md5s>-<parts>"`. */
  etag: string;
  contentType: string | null;
  /** x-amz-meta-* without the prefix, names lower-case. */
  metadata: Record<string, string>;
}

export interface AccessKeyRecord {
  /** The access key id clients send in their credential. */
  id: string;
  /** The secret, sealed with the data directory's key (access-keys.ts): SigV4 needs the secret itself. */
  sealedSecret: string;
  name: string;
  role: Role;
  createdAt: string;
  revokedAt: string | null;
}

/** A multipart upload in progress: its parts are in the part store under the same id. */
export interface MultipartRecord {
  id: string;
  bucket: string;
  key: string;
  createdAt: string;
  contentType: string | null;
  metadata: Record<string, string>;
}

/** The S3 API's own tables, beside the metadata's files. Small and async so another database can implement it. */
export interface S3Store {
  createBucket(bucket: BucketRecord): Promise<boolean>;
  getBucket(name: string): Promise<BucketRecord | undefined>;
  listBuckets(): Promise<BucketRecord[]>;
  deleteBucket(name: string): Promise<boolean>;

  putAttributes(attributes: ObjectAttributes): Promise<void>;
  /** The attributes of names, whichever version they were recorded for: callers compare createdAt. */
  getAttributes(names: string[]): Promise<Map<string, ObjectAttributes>>;
  deleteAttributes(name: string): Promise<void>;

  createAccessKey(key: AccessKeyRecord): Promise<void>;
  getAccessKey(id: string): Promise<AccessKeyRecord | undefined>;
  listAccessKeys(): Promise<AccessKeyRecord[]>;
  revokeAccessKey(id: string, at: string): Promise<boolean>;

  createMultipart(upload: MultipartRecord): Promise<void>;
  getMultipart(id: string): Promise<MultipartRecord | undefined>;
  /** Uploads in progress in a bucket, by key then start time. */
  listMultiparts(bucket: string): Promise<MultipartRecord[]>;
  deleteMultipart(id: string): Promise<void>;
}
