import type { Hono } from 'hono';
import type { FailedAttempts } from '../auth/failed-attempts.ts';
import type { HttpMetrics } from '../status/http-metrics.ts';
import type { FileReader } from '../files/file-reader.ts';
import type { FileWriter } from '../files/file-writer.ts';
import type { UploadAdmission } from '../files/upload-admission.ts';
import type { UploadParts } from '../files/upload-parts.ts';
import type { MetadataStore } from '../metadata/metadata-store.ts';
import { loadSecret } from '../secret-file.ts';
import { AccessKeys, S3_SEALING_KEY_FILE, S3_SEALING_KEY_PREFIX } from './access-keys.ts';
import { s3KeyRoutes } from './key-routes.ts';
import { openS3Stores } from './open-s3-stores.ts';
import { createS3Handler } from './s3-app.ts';
import { S3Objects } from './s3-objects.ts';

/** Multipart uploads neither completed nor aborted this long are aborted, their parts released. */
export const MULTIPART_EXPIRY_MS = 7 * 24 * 3600_000;
const EXPIRY_SWEEP_MS = 3600_000;

export interface S3Api {
  /** The S3 API's fetch handler, for its own port. */
  fetch: ReturnType<typeof createS3Handler>;
  /** `/api/s3/keys` for the native API. */
  keyRoutes: Hono;
  /** Starts expiring old multipart uploads. */
  start(): Promise<void>;
  stop(): void;
}

export interface S3ApiDeps {
  metadata: MetadataStore;
  reader: FileReader;
  writer: FileWriter;
  admission: UploadAdmission;
  /** The gateway's uploads in parts, shared with resumable uploads, started by the gateway. */
  parts: UploadParts;
  dataDir: string;
  domain?: string;
  /** The native API's count of failed authentications by address: one allowance for both APIs. */
  failures: FailedAttempts;
  /** Where the S3 API's requests are counted for /metrics. */
  metrics?: HttpMetrics;
}

/**
 * The S3 API's services, built over the gateway's: its tables live in the metadata's database
 * (SQLite or PostgreSQL). Null for a metadata store with no S3 tables.
 */
export function createS3Api(deps: S3ApiDeps): S3Api | null {
  const stores = openS3Stores(deps.metadata);
  if (!stores) return null;
  const { store } = stores;
  const { parts } = deps;
  const keys = new AccessKeys(store, loadSecret(deps.dataDir, S3_SEALING_KEY_FILE, S3_SEALING_KEY_PREFIX));
  const objects = new S3Objects(deps.metadata, deps.reader, deps.writer, deps.admission, store);
  let timer: ReturnType<typeof setInterval> | undefined;
  const expire = async (): Promise<void> => {
    for (const id of await parts.expire(new Date(Date.now() - MULTIPART_EXPIRY_MS))) await store.deleteMultipart(id);
  };
  return {
    fetch: createS3Handler({ objects, parts, store, region: '' }, keys, { domain: deps.domain, failures: deps.failures, metrics: deps.metrics }),
    keyRoutes: s3KeyRoutes(keys),
    async start() {
      await expire();
      timer = setInterval(() => void expire().catch(() => {}), EXPIRY_SWEEP_MS);
      timer.unref();
    },
    stop() {
      clearInterval(timer);
    },
  };
}
