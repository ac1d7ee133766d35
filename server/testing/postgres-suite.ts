import { after, before, describe, test } from 'node:test';
import { TestCluster, type ClusterOptions } from './cluster.ts';
import { postgresUnavailable, startPostgres, type PostgresServer } from './postgres-server.ts';

/**
 * A describe block with a PostgreSQL server of its own, started before its tests and stopped
 * after its own `after` hooks (so what it started on the server stops first); where PostgreSQL is
 * not installed, one skipped test and the one line saying why.
 */
export function describeWithPostgres(name: string, suite: (server: () => PostgresServer) => void): void {
  const unavailable = postgresUnavailable();
  if (unavailable) {
    console.log(unavailable);
    test(name, { skip: unavailable }, () => {});
    return;
  }
  describe(name, () => {
    let server: PostgresServer | undefined;
    before(async () => {
      server = await startPostgres();
    });
    suite(() => server!);
    after(async () => {
      await server?.stop();
    });
  });
}

/**
 * In a describeWithPostgres block: a cluster whose gateways keep their metadata in a new database
 * of that server, started before the block's tests and stopped after them.
 */
export function clusterOnPostgres(server: () => PostgresServer, options: Omit<ClusterOptions, 'metadata'>): () => TestCluster {
  let cluster: TestCluster | undefined;
  before(async () => {
    cluster = await TestCluster.start({ ...options, metadata: await server().createDatabase() });
  });
  after(async () => {
    await cluster?.stop();
  });
  return () => cluster!;
}
