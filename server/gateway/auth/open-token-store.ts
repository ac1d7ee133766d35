import type { MetadataStore } from '../metadata/metadata-store.ts';
import { PostgresMetadataStore } from '../metadata/postgres-metadata-store.ts';
import { SqliteMetadataStore } from '../metadata/sqlite-metadata-store.ts';
import { PostgresTokenStore } from './postgres-token-store.ts';
import { SqliteTokenStore } from './sqlite-token-store.ts';
import type { TokenStore } from './token-store.ts';

/** The token store beside `metadata`, in the same database (its migrations made the tables). */
export function openTokenStore(metadata: MetadataStore): TokenStore {
  if (metadata instanceof SqliteMetadataStore) return new SqliteTokenStore(metadata.database);
  if (metadata instanceof PostgresMetadataStore) return new PostgresTokenStore(metadata);
  throw new Error(`no token store for a ${metadata.constructor.name}`);
}
