import { PostgresPartStore } from '../files/postgres-part-store.ts';
import { SqlitePartStore } from '../files/sqlite-part-store.ts';
import type { PartStore } from '../files/upload-parts.ts';
import type { MetadataStore } from '../metadata/metadata-store.ts';
import { PostgresMetadataStore } from '../metadata/postgres-metadata-store.ts';
import { SqliteMetadataStore } from '../metadata/sqlite-metadata-store.ts';
import { PostgresS3Store } from './postgres-s3-store.ts';
import type { S3Store } from './s3-store.ts';
import { SqliteS3Store } from './sqlite-s3-store.ts';

/** The S3 and part stores beside `metadata`, in the same database (its migrations made the tables); null for another kind. */
export function openS3Stores(metadata: MetadataStore): { store: S3Store; parts: PartStore } | null {
  if (metadata instanceof SqliteMetadataStore) return { store: new SqliteS3Store(metadata.database), parts: new SqlitePartStore(metadata.database) };
  if (metadata instanceof PostgresMetadataStore) return { store: new PostgresS3Store(metadata), parts: new PostgresPartStore(metadata) };
  return null;
}
