import type { MetadataStore } from '../metadata/metadata-store.ts';
import { PostgresMetadataStore } from '../metadata/postgres-metadata-store.ts';
import { SqliteMetadataStore } from '../metadata/sqlite-metadata-store.ts';
import type { NodePresence } from './node-presence.ts';
import { PostgresNodePresence } from './postgres-node-presence.ts';
import { SqliteNodePresence } from './sqlite-node-presence.ts';

/** Node presence beside `metadata`, in the same database (its migrations made the table). */
export function openNodePresence(metadata: MetadataStore): NodePresence {
  if (metadata instanceof SqliteMetadataStore) return new SqliteNodePresence(metadata.database);
  if (metadata instanceof PostgresMetadataStore) return new PostgresNodePresence(metadata);
  throw new Error(`no node presence for a ${metadata.constructor.name}`);
}
